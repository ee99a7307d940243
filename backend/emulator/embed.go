package emulator

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Embed paths: the page the dashboard iframe loads, its static files, and
// the query API that page calls with the viewer's token.
const (
	pathEmbedPage   = wire.EmbedPagePath
	pathEmbedStatic = "/embed/static/"
	pathEmbedAPI    = "/embed/api/dashboards/"
)

// Scopes the embedded dashboard needs in a viewer's token.
var embedRequiredScopes = []string{"dashboards.lakeview-embedded:read", "dashboards.query-execution"}

//go:embed static
var staticFiles embed.FS

// PageInfo names one page of a dashboard.
type PageInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// renderer is what the embed page needs of a dashboard: its pages, and one
// page rendered for one external_value.
type renderer interface {
	Title() string
	Pages() []PageInfo
	Render(ctx context.Context, page, externalValue string) (template.HTML, error)
	Stylesheet() string
}

var embedPageTmpl = template.Must(template.New("embed").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/embed/static/frame.css"><link rel="stylesheet" href="/embed/static/dashboard.css">
</head>
<body data-origins="{{.Origins}}" data-dashboard="{{.ID}}" data-page="{{.Page}}" data-state="starting">
<div class="bar"><span class="title">{{.Title}}</span><nav id="tabs"></nav><button id="refresh" type="button">Refresh</button></div>
<div id="meta"></div>
<div id="notice" class="notice" hidden></div>
<main id="dashboard"></main>
<script src="/embed/static/embed.js"></script>
</body></html>
`))

var errorPageTmpl = template.Must(template.New("err").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard unavailable</title>
<link rel="stylesheet" href="/embed/static/frame.css"></head>
<body data-state="error" data-error="{{.Code}}"><div class="notice notice-error"><strong>{{.Title}}</strong><p>{{.Message}}</p><code>{{.Code}}</code></div></body></html>
`))

// frameHeaders sets the CSP that lets only the allowed origins frame us.
func (e *Emulator) frameHeaders(w http.ResponseWriter) {
	e.mu.RLock()
	origins := append([]string{}, e.state.EmbeddingOrigins...)
	e.mu.RUnlock()
	ancestors := "'none'"
	if len(origins) > 0 {
		ancestors = strings.Join(origins, " ")
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors "+ancestors)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
}

func (e *Emulator) embedError(w http.ResponseWriter, r *http.Request, status int, code, title, msg string) {
	noteOf(r).errCode = code
	e.frameHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = errorPageTmpl.Execute(w, map[string]string{"Code": code, "Title": title, "Message": msg})
}

// handleEmbedPage serves /embed/dashboardsv3/{id}[/pages/{page}]?o={workspace}.
func (e *Emulator) handleEmbedPage(w http.ResponseWriter, r *http.Request) {
	id, page := r.PathValue("id"), r.PathValue("page")
	if o := r.URL.Query().Get("o"); o != e.WorkspaceID() {
		e.embedError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, "Wrong workspace",
			fmt.Sprintf("The o= parameter is %q, but this is workspace %s: use ?o=%s.", o, e.WorkspaceID(), e.WorkspaceID()))
		return
	}
	d, ok := e.published(id)
	if !ok {
		e.embedError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, "Dashboard not found",
			fmt.Sprintf("Dashboard %s does not exist or is not published.", id))
		return
	}
	if page == "" {
		page = d.Pages()[0].Name
	}
	if !hasPage(d, page) {
		e.embedError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, "Page not found",
			fmt.Sprintf("Dashboard %s has no page %q.", id, page))
		return
	}
	e.mu.RLock()
	origins, _ := json.Marshal(e.state.EmbeddingOrigins)
	e.mu.RUnlock()
	e.frameHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = embedPageTmpl.Execute(w, map[string]string{"Title": d.Title(), "ID": id, "Page": page, "Origins": string(origins)})
}

func hasPage(d renderer, page string) bool {
	for _, p := range d.Pages() {
		if p.Name == page {
			return true
		}
	}
	return false
}

// published returns the renderer of a published dashboard.
func (e *Emulator) published(id string) (renderer, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	d, ok := e.state.dashboard(id)
	if !ok || !d.Published {
		return nil, false
	}
	rd, ok := e.renderers[id]
	return rd, ok
}

func (e *Emulator) handleEmbedStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, pathEmbedStatic)
	var body []byte
	var ctype string
	switch name {
	case "embed.js":
		body, _ = staticFiles.ReadFile("static/embed.js")
		ctype = "text/javascript; charset=utf-8"
	case "frame.css":
		body, _ = staticFiles.ReadFile("static/frame.css")
		ctype = "text/css; charset=utf-8"
	case "dashboard.css":
		body = []byte(e.stylesheet())
		ctype = "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

func (e *Emulator) stylesheet() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, rd := range e.renderers {
		return rd.Stylesheet()
	}
	return ""
}

// RenderResponse is the query API's answer: one page rendered for the
// token's viewer.
type RenderResponse struct {
	DashboardID      string        `json:"dashboard_id"`
	Page             string        `json:"page"`
	Pages            []PageInfo    `json:"pages"`
	ExternalViewerID string        `json:"external_viewer_id"`
	HTML             template.HTML `json:"html"`
}

// handleEmbedRender is the query API: it checks the viewer's token, runs the
// page's datasets with external_value bound as a parameter, and returns the
// rendered widgets.
func (e *Emulator) handleEmbedRender(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, pc, ok := e.viewerToken(w, r, id)
	if !ok {
		return
	}
	d, ok := e.published(id)
	if !ok {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s does not exist or is not published.", id))
		return
	}
	page := r.URL.Query().Get("page")
	if page == "" {
		page = d.Pages()[0].Name
	}
	if !hasPage(d, page) {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Dashboard %s has no page %q.", id, page))
		return
	}
	if !e.embedLimiter.Allow() {
		tooMany(w, r, 1, fmt.Sprintf("Too many dashboard loads: this workspace allows %s per second", e.rateLimitText()))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	html, err := d.Render(ctx, page, pc.ExternalValue)
	if err != nil {
		e.queryFailed(w, r, "The dashboard's queries failed", err, "dashboard", id, "page", page)
		return
	}
	e.audit.add(func(seq int64) AuditEntry {
		return AuditEntry{Seq: seq, Time: time.Now().UTC(), Action: "dashboard_loaded", ExternalViewerID: pc.ExternalViewerID,
			DashboardID: id, ClientID: c.ClientID, TokenID: c.ID}
	})
	writeJSON(w, http.StatusOK, RenderResponse{DashboardID: id, Page: page, Pages: d.Pages(), ExternalViewerID: pc.ExternalViewerID, HTML: html})
}

// statusClientClosed is nginx's status for a request its client gave up:
// a query cut short that way is no failure of the workspace.
const statusClientClosed = 499

// queryFailed answers a query API call whose queries failed: 500 and an
// error line, unless the client left first (it navigated away), which the
// request log records as 499 without an alarm.
func (e *Emulator) queryFailed(w http.ResponseWriter, r *http.Request, what string, err error, args ...any) {
	if r.Context().Err() != nil {
		apiError(w, r, statusClientClosed, "CANCELLED", "The client closed the request before its queries finished.")
		return
	}
	e.log.Error("emulator: "+what, append(args, "err", err)...)
	apiError(w, r, http.StatusInternalServerError, wire.ErrInternal, what+": "+err.Error())
}

// viewerToken verifies the bearer token of a query API call for dashboard
// id, answering the refusal itself; ok is false when it did.
func (e *Emulator) viewerToken(w http.ResponseWriter, r *http.Request, id string) (*claims.Claims, wire.ParsedClaim, bool) {
	c, ok := e.bearer(w, r)
	if !ok {
		return nil, wire.ParsedClaim{}, false
	}
	pc, status, code, msg := e.checkViewerToken(c, id)
	if status != http.StatusOK {
		apiError(w, r, status, code, msg)
		return nil, wire.ParsedClaim{}, false
	}
	return c, pc, true
}

// checkViewerToken decides whether a verified token may load dashboard id
// as an external viewer: the scopes, the authorization_details and the
// custom_claim must all name this dashboard, and its principal must still
// be allowed to run it.
func (e *Emulator) checkViewerToken(c *claims.Claims, id string) (wire.ParsedClaim, int, string, string) {
	var missing []string
	for _, s := range embedRequiredScopes {
		if !c.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		// Every missing scope at once, so a fix does not reveal the next.
		return wire.ParsedClaim{}, http.StatusForbidden, wire.ErrPermissionDenied, "Provided OAuth token does not have required scopes: " + strings.Join(missing, ", ")
	}
	if c.CustomClaim == "" {
		return wire.ParsedClaim{}, http.StatusForbidden, wire.ErrPermissionDenied,
			"The token has no custom_claim: it is not an external viewer's token. Use the scoped token from the exchange."
	}
	pc, err := wire.ParseCustomClaim(c.CustomClaim)
	if err != nil {
		return wire.ParsedClaim{}, http.StatusForbidden, wire.ErrPermissionDenied, "The token's custom_claim is malformed: " + err.Error()
	}
	if pc.DashboardID != id {
		return pc, http.StatusForbidden, wire.ErrPermissionDenied,
			fmt.Sprintf("The token was issued for dashboard %s, not %s.", pc.DashboardID, id)
	}
	resource := "workspaces/" + e.WorkspaceID() + "/dashboards/" + id
	granted := false
	for _, d := range c.AuthorizationDetails {
		for _, g := range d.GrantRules {
			granted = granted || (d.ResourceName == resource && g.PermissionSet == wire.PermDashboardRunner)
		}
	}
	if !granted {
		return pc, http.StatusForbidden, wire.ErrPermissionDenied,
			fmt.Sprintf("The token's authorization_details do not grant %s on %s.", wire.PermDashboardRunner, resource)
	}
	if status, code, msg := e.dashboardAccess(c.Subject, id); status != http.StatusOK {
		return pc, status, code, msg
	}
	// With the viewer's credentials the queries run as the token's principal.
	if status, code, msg := e.dataAccess(c.Subject, id); status != http.StatusOK {
		return pc, status, code, msg
	}
	return pc, http.StatusOK, "", ""
}
