package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"embedlab/backend/emulator/dashboard"
	"embedlab/shared/wire"
)

// What the doctor (backend/doctor) reads besides the token endpoints: the
// Lakeview dashboard API, shaped like a real workspace's, and the embed
// page's dataset query; plus the emulator-only expired-token probe.
//
// Embed credentials. Lakeview publishes a dashboard either with the
// publisher's credentials embedded (the default) or without. With them,
// every query runs with the publisher's permissions whoever views: external
// viewers all share one identity, and only __aibi_external_value in each
// dataset keeps their rows apart. Without them, queries run as the viewer,
// which for external embedding is the service principal of the scoped
// token: it then needs SELECT on the data and CAN USE on the warehouse
// (the state's select_grants), or every query is refused.

// Embed credential modes of a dashboard in the state file.
const (
	CredentialsPublisher = "publisher"
	CredentialsViewer    = "viewer"
)

// pathExpiredToken is the fault switch's expired-token probe: POST a valid
// token, get the same claims signed as expired an hour ago.
const pathExpiredToken = "/emulator/expired-token"

// emulatorWarehouseID is the warehouse of a state file that lists none.
const emulatorWarehouseID = "e0e0b1c2d3e4f5a6"

// lakeviewRoutes adds the routes of this file to the emulator's table.
func (e *Emulator) lakeviewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+wire.LakeviewDashboardPath("{id}"), e.handleLakeviewDashboard)
	mux.HandleFunc("GET "+wire.PublishedDashboardPath("{id}"), e.handlePublishedDashboard)
	mux.HandleFunc("GET "+wire.PathSCIMServicePrincipals, e.handleSCIMServicePrincipals)
	mux.HandleFunc("GET "+wire.SecretsPath("{sp}"), e.handleListSecrets)
	mux.HandleFunc("GET "+wire.EmbedDatasetPath("{id}", "{name}"), e.handleEmbedDataset)
	mux.HandleFunc("POST "+pathExpiredToken, e.handleExpiredToken)
}

// credentials is the dashboard's embed credential mode, publisher by default.
func (d Dashboard) credentials() string {
	if d.EmbedCredentials == "" {
		return CredentialsPublisher
	}
	return d.EmbedCredentials
}

func (d Dashboard) canRead(principal string) bool {
	return d.canRun(principal) || slices.Contains(d.CanRead, principal)
}

// validateLakeview checks the state fields of this file.
func (s *State) validateLakeview(bad func(format string, a ...any)) {
	sps := map[string]bool{}
	for i, sp := range s.ServicePrincipals {
		sps[sp.ApplicationID] = true
		if sp.SecretExpireTime != "" {
			if _, err := time.Parse(time.RFC3339, sp.SecretExpireTime); err != nil {
				bad("service_principals[%d].secret_expire_time %q: must be an RFC 3339 time such as 2030-01-31T00:00:00Z", i, sp.SecretExpireTime)
			}
		}
	}
	for i, d := range s.Dashboards {
		switch d.EmbedCredentials {
		case "", CredentialsPublisher, CredentialsViewer:
		default:
			bad("dashboards[%d].embed_credentials %q: must be %q (queries run as the publisher) or %q (as the token's principal)",
				i, d.EmbedCredentials, CredentialsPublisher, CredentialsViewer)
		}
		for _, list := range []struct {
			name string
			ids  []string
		}{{"can_read", d.CanRead}, {"select_grants", d.SelectGrants}} {
			for j, p := range list.ids {
				if !sps[p] {
					bad("dashboards[%d].%s[%d] %q: no service principal has that application_id", i, list.name, j, p)
				}
			}
		}
	}
}

// dataAccess says whether queries of dashboard id may run for a token of
// principal: always with the publisher's credentials, only with SELECT
// with the viewer's.
func (e *Emulator) dataAccess(principal, id string) (int, string, string) {
	e.mu.RLock()
	d, ok := e.state.dashboard(id)
	e.mu.RUnlock()
	if !ok || d.credentials() == CredentialsPublisher || slices.Contains(d.SelectGrants, principal) {
		return http.StatusOK, "", ""
	}
	e.mu.RLock()
	wh := e.state.dashboardWarehouse()
	e.mu.RUnlock()
	return http.StatusForbidden, wire.ErrPermissionDenied, fmt.Sprintf(
		"Dashboard %s is published without embedded credentials, so its queries run as %s, which does not have SELECT on its tables or CAN USE on warehouse %s.",
		id, principal, wh)
}

// lakeviewCaller verifies a REST call's bearer token (all-apis) and finds
// the dashboard it names, answering the error itself when it cannot.
func (e *Emulator) lakeviewCaller(w http.ResponseWriter, r *http.Request) (Dashboard, lvdash, bool) {
	c, ok := e.bearer(w, r)
	if !ok {
		return Dashboard{}, lvdash{}, false
	}
	if !c.HasScope(wire.ScopeAllAPIs) {
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied, "Provided OAuth token does not have required scopes: "+wire.ScopeAllAPIs)
		return Dashboard{}, lvdash{}, false
	}
	id := r.PathValue("id")
	e.mu.RLock()
	d, found := e.state.dashboard(id)
	l, _ := e.renderers[id].(lvdash)
	d.warehouseID = e.state.dashboardWarehouse()
	e.mu.RUnlock()
	switch {
	case !found:
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s does not exist.", id))
		return Dashboard{}, lvdash{}, false
	case !d.canRead(c.Subject):
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied,
			fmt.Sprintf("Principal %s does not have CAN READ or CAN RUN permission on dashboard %s.", c.Subject, id))
		return Dashboard{}, lvdash{}, false
	}
	return d, l, true
}

// handleLakeviewDashboard is GET /api/2.0/lakeview/dashboards/{id}: the
// dashboard and its definition, published or not.
func (e *Emulator) handleLakeviewDashboard(w http.ResponseWriter, r *http.Request) {
	d, l, ok := e.lakeviewCaller(w, r)
	if !ok {
		return
	}
	sum := sha256.Sum256(l.raw)
	writeJSON(w, http.StatusOK, wire.LakeviewDashboard{
		DashboardID: d.ID, DisplayName: d.DisplayName, Path: "/Workspace/Shared/" + d.DisplayName + ".lvdash.json",
		ParentPath: "/Workspace/Shared", LifecycleState: "ACTIVE", WarehouseID: d.warehouseID,
		Etag: hex.EncodeToString(sum[:8]), SerializedDashboard: string(l.raw),
	})
}

// handlePublishedDashboard is GET /api/2.0/lakeview/dashboards/{id}/published.
func (e *Emulator) handlePublishedDashboard(w http.ResponseWriter, r *http.Request) {
	d, _, ok := e.lakeviewCaller(w, r)
	if !ok {
		return
	}
	if !d.Published {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s is not published.", d.ID))
		return
	}
	writeJSON(w, http.StatusOK, wire.PublishedDashboard{DisplayName: d.DisplayName, WarehouseID: d.warehouseID,
		EmbedCredentials: d.credentials() == CredentialsPublisher})
}

// handleEmbedDataset is the query API's dataset route: one dataset's rows
// for the token's viewer, checked exactly as the render route is.
func (e *Emulator) handleEmbedDataset(w http.ResponseWriter, r *http.Request) {
	id, name := r.PathValue("id"), r.PathValue("name")
	c, pc, ok := e.viewerToken(w, r, id)
	if !ok {
		return
	}
	_, published := e.published(id)
	def, db, ok := e.Definition(id)
	if !published || !ok {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s does not exist or is not published.", id))
		return
	}
	if _, ok := def.Dataset(name); !ok {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s has no dataset %q.", id, name))
		return
	}
	if !e.embedLimiter.Allow() {
		tooMany(w, r, 1, fmt.Sprintf("Too many dashboard queries: this workspace allows %s per second", e.rateLimitText()))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	res, err := def.RunDataset(ctx, db, name, pc.ExternalValue)
	if err != nil {
		e.queryFailed(w, r, "The dataset's query failed", err, "dashboard", id, "dataset", name)
		return
	}
	e.audit.add(func(seq int64) AuditEntry {
		return AuditEntry{Seq: seq, Time: time.Now().UTC(), Action: "dataset_queried", ExternalViewerID: pc.ExternalViewerID,
			DashboardID: id, ClientID: c.ClientID, TokenID: c.ID}
	})
	rows := res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	writeJSON(w, http.StatusOK, wire.DatasetResult{DashboardID: id, Dataset: name, ExternalViewerID: pc.ExternalViewerID,
		Columns: res.Columns, Rows: rows, Truncated: res.Truncated})
}

// handleExpiredToken re-signs a valid token's claims as expired an hour
// ago, so a client can check that expired tokens are refused without
// waiting an hour. Only tokens this workspace would accept now are taken,
// and nothing but the times and the id change: it grants nothing new.
func (e *Emulator) handleExpiredToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	c, err := e.verify(body.Token)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, "token: "+err.Error())
		return
	}
	now := e.clock.now()
	cc := *c
	cc.IssuedAt, cc.ExpiresAt, cc.ID = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix(), randomID()
	tok, err := e.keys.sign(cc)
	if err != nil {
		apiError(w, r, http.StatusInternalServerError, wire.ErrInternal, "the emulator could not sign the token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// workspaceDate sets the Date header from the emulator's clock, skew
// included, as a workspace's own clock would: the doctor compares it with
// its host's.
func (e *Emulator) workspaceDate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", e.clock.now().UTC().Format(http.TimeFormat))
		next.ServeHTTP(w, r)
	})
}

// loadDefinition reads and parses a .lvdash.json, keeping its text to
// serve as serialized_dashboard.
func loadDefinition(path string) (*dashboard.Definition, []byte, error) {
	const maxSize = 8 << 20
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load dashboard definition: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("load dashboard definition %s: %w", path, err)
	}
	if len(data) > maxSize {
		return nil, nil, fmt.Errorf("load dashboard definition %s: larger than %d bytes", path, maxSize)
	}
	def, err := dashboard.Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	return def, data, nil
}
