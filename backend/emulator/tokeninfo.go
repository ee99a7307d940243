package emulator

import (
	"fmt"
	"net/http"

	"embedlab/shared/wire"
)

// handleTokenInfo is step 2: what a scoped token for one external viewer of
// one published dashboard must contain.
func (e *Emulator) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	if e.injectFault(w, r, EndpointTokenInfo) {
		return
	}
	c, ok := e.bearer(w, r)
	if !ok {
		return
	}
	if !c.HasScope(wire.ScopeAllAPIs) {
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied,
			"Provided OAuth token does not have required scopes: "+wire.ScopeAllAPIs)
		return
	}
	if !e.limiter.Allow() {
		tooMany(w, r, 1, fmt.Sprintf("Too many dashboard token requests: this workspace allows %s per second", e.rateLimitText()))
		return
	}
	q := r.URL.Query()
	for _, k := range []string{wire.ParamExternalViewerID, wire.ParamExternalValue} {
		if len(q[k]) > 1 {
			apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, k+" is repeated; send it once")
			return
		}
	}
	viewer, value := q.Get(wire.ParamExternalViewerID), q.Get(wire.ParamExternalValue)
	if err := wire.ValidateViewer(viewer, value); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	dashID := r.PathValue("id")
	if status, code, msg := e.dashboardAccess(c.Subject, dashID); status != http.StatusOK {
		apiError(w, r, status, code, msg)
		return
	}
	ws := e.WorkspaceID()
	// resource_legacy_acl_path is a field of the dashboard's entry, as the
	// official SDKs model it; the answer has exactly their three fields.
	details := []wire.AuthorizationDetail{
		{Type: "workspace_rule_set", ResourceName: "workspaces/" + ws, GrantRules: []wire.GrantRule{{PermissionSet: wire.PermWorkspaceAccess}}},
		{Type: "workspace_rule_set", ResourceName: "workspaces/" + ws, GrantRules: []wire.GrantRule{{PermissionSet: wire.PermDBSQLAccess}}},
		{Type: "workspace_rule_set", ResourceName: "workspaces/" + ws + "/dashboards/" + dashID, GrantRules: []wire.GrantRule{{PermissionSet: wire.PermDashboardRunner}},
			ResourceLegacyACLPath: "/dashboards/" + dashID},
	}
	claim := wire.CustomClaim(value, viewer, dashID)
	scope := e.embedScopes()
	info, err := wire.NewTokenInfo(details, claim, scope)
	if err != nil {
		apiError(w, r, http.StatusInternalServerError, wire.ErrInternal, "the emulator could not build the answer")
		return
	}
	e.grants.put(c.Subject, claim, grant{details: details, scope: scope, viewerID: viewer, dashboardID: dashID, expires: unix(c.ExpiresAt)}, e.clock.now())
	writeJSON(w, http.StatusOK, info)
}

// dashboardAccess says whether principal may get tokens for dashboard id:
// 200, or the status, REST error code and message to refuse with.
func (e *Emulator) dashboardAccess(principal, id string) (int, string, string) {
	e.mu.RLock()
	d, ok := e.state.dashboard(id)
	e.mu.RUnlock()
	switch {
	case !ok:
		return http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s does not exist.", id)
	case !d.Published:
		return http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s is not published: publish it before embedding.", id)
	case !d.canRun(principal):
		return http.StatusForbidden, wire.ErrPermissionDenied,
			fmt.Sprintf("Service principal %s does not have CAN RUN permission on dashboard %s.", principal, id)
	}
	return http.StatusOK, "", ""
}

func (e *Emulator) rateLimitText() string {
	l := e.limiter.Limit()
	if l == 0 {
		return "0"
	}
	return fmt.Sprintf("%g", float64(l))
}
