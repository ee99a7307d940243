package emulator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// The Apps proxy: Databricks Apps on their own origin, as the wire reference
// (package wire, "Calling a Databricks App's /api/ routes") describes. An app
// is served at
//
//	http://<app-name>-<workspace-id>.localhost:<apps port>
//
// (on Databricks: https://<app-name>-<workspace-id>.<region>.databricksapps.com).
// Browsers and curl resolve every *.localhost name to the loopback address;
// Go programs need AppsTransport. The proxy checks the caller and forwards
// the request, with the X-Forwarded-* identity headers, to the app, which
// here is Go code inside the emulator (apps_sample.go).
//
// What it answers, in order:
//
//	404 RESOURCE_DOES_NOT_EXIST  host is not an app URL of this workspace, no such app, app stopped
//	302 to the login page        a browser (GET, Accept: text/html) without Authorization or session
//	404 NOT_FOUND                path not under /api/ (only /api/ accepts bearer tokens)
//	401 UNAUTHENTICATED          token missing, malformed, badly signed, expired, an identity
//	                             provider's token not exchanged first (federation.go);
//	                             for an app with user authorization, token lacking its user_api_scopes
//	403 PERMISSION_DENIED        caller lacks CAN USE; without user authorization, token lacking all-apis
//
// Every refusal carries an ErrorInfo detail whose reason names the cause
// (wire.AppsReason*). Every call is in the request log (with the app's
// name) and in the audit log (action "app_call", with its status).

// pathAppCallback is where an app's browser sign-in comes back.
const pathAppCallback = "/.auth/callback"

func (e *Emulator) appsRoutes() http.Handler {
	return e.recoverPanics(e.logRequests(http.HandlerFunc(e.serveApps)))
}

// AppsHandler serves the Apps proxy, for a caller that serves it itself
// (then call SetAppsURL with its URL).
func (e *Emulator) AppsHandler() http.Handler { return e.appsHandler }

// AppsURL is the Apps proxy's base URL, e.g. http://localhost:8001.
func (e *Emulator) AppsURL() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.appsURL
}

// SetAppsURL sets the Apps proxy's base URL; its host must be a name (such
// as localhost) that app names can prefix, not an IP address.
func (e *Emulator) SetAppsURL(u string) {
	e.mu.Lock()
	e.appsURL = strings.TrimRight(u, "/")
	e.mu.Unlock()
}

// AppURL is the URL of an app, e.g.
// http://sales-api-1234567890123456.localhost:8001; "" before the proxy
// has a URL.
func (e *Emulator) AppURL(name string) string {
	if u := e.appPort.url(name); u != "" {
		return u // a classroom's port form (room.go)
	}
	base := e.AppsURL()
	u, err := url.Parse(base)
	if base == "" || err != nil {
		return ""
	}
	return u.Scheme + "://" + wire.AppHostLabel(name, e.WorkspaceID()) + "." + u.Host + u.Path
}

// AppInfo describes one app of the emulated workspace.
type AppInfo struct {
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Description   string   `json:"description,omitempty"`
	Status        string   `json:"status"`
	UserAPIScopes []string `json:"user_api_scopes,omitempty"`
	CanUse        []string `json:"can_use"`
}

// Apps lists the apps, for a UI that offers them.
func (e *Emulator) Apps() []AppInfo {
	e.mu.RLock()
	apps := append([]App(nil), e.state.Apps...)
	e.mu.RUnlock()
	out := make([]AppInfo, 0, len(apps))
	for _, a := range apps {
		out = append(out, AppInfo{Name: a.Name, URL: e.AppURL(a.Name), Description: a.Description, Status: a.Status,
			UserAPIScopes: append([]string(nil), a.UserAPIScopes...), CanUse: append([]string(nil), a.CanUse...)})
	}
	return out
}

// AppsTransport returns an http.Transport that dials every host name
// ending in ".localhost" at 127.0.0.1, never through a proxy (RFC 6761
// section 6.3), as browsers and curl do, so that Go clients reach the
// emulator's app URLs. Other names resolve and use proxies as usual.
func AppsTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && isLocalhostName(host) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if isLocalhostName(r.URL.Hostname()) {
			return nil, nil
		}
		return http.ProxyFromEnvironment(r)
	}
	return t
}

func isLocalhostName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// listenBeside opens the listener of one of the workspace's other origins
// (the Apps proxy, the identity provider): addr when set, else the
// workspace's host offset ports up (127.0.0.1:8000 → 8001, 8002), else any
// free port.
func listenBeside(what, addr, workspaceAddr string, workspace *net.TCPAddr, offset int) (net.Listener, error) {
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("emulator: %s: listen on %s: %w (set another address)", what, addr, err)
		}
		return ln, nil
	}
	host, port, err := net.SplitHostPort(workspaceAddr)
	if err != nil {
		host = workspace.IP.String()
	}
	if port != "0" && workspace.Port+offset <= 65535 {
		if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(workspace.Port+offset))); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("emulator: %s: listen on %s: %w", what, host, err)
	}
	return ln, nil
}

// caller is who a request to an app comes from.
type caller struct {
	subject   string // the token's sub: a user id or an application id
	email     string
	user      string
	preferred string
	names     []string // what CAN USE may list for this principal
	token     string
	claims    *claims.Claims
}

// appCall is what the audit line of one call to an app needs.
type appCall struct {
	app, requestID string
	caller         *caller
}

func (e *Emulator) serveApps(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	call := &appCall{requestID: newUUID()}
	w.Header().Set(wire.HeaderRequestID, call.requestID)
	sw := &statusWriter{ResponseWriter: w}
	defer e.auditAppCall(r, sw, call)

	name, ws, ok := wire.ParseAppHost(host)
	if n, byPort := r.Context().Value(appPortKey{}).(string); byPort {
		name, ws, ok = n, e.WorkspaceID(), true // a classroom's port-form app URL (room.go)
	}
	if !ok || ws != e.WorkspaceID() {
		e.appsError(sw, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, wire.AppsReasonAppNotFound, nil,
			fmt.Sprintf("No app is served at %s: app URLs of workspace %s look like %s", r.Host, e.WorkspaceID(), e.AppURL("<app-name>")))
		return
	}
	call.app = name
	noteOf(r).app = name
	e.mu.RLock()
	app, found := e.state.app(name)
	e.mu.RUnlock()
	meta := map[string]string{wire.AppsMetaApp: name}
	switch {
	case !found:
		e.appsError(sw, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, wire.AppsReasonAppNotFound, meta,
			fmt.Sprintf("App %s does not exist in workspace %s: check the app URL", name, e.WorkspaceID()))
		return
	case app.Status != AppRunning:
		e.appsError(sw, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, wire.AppsReasonAppStopped, meta,
			fmt.Sprintf("App %s is not running (status %s): deploy or start it first", name, app.Status))
		return
	}

	if r.URL.Path == pathAppCallback {
		e.appCallback(sw, r, app)
		return
	}
	if r.Header.Get("Authorization") == "" {
		if c, ok := e.appSessionCaller(r, app); ok {
			call.caller = c
			if e.allowSession(sw, r, app, c) {
				e.forward(sw, r, app, c, call.requestID)
			}
			return
		}
		if isBrowser(r) {
			e.redirectToAppLogin(sw, r, app)
			return
		}
	}
	if !strings.HasPrefix(r.URL.Path, wire.AppsAPIPrefix) {
		e.appsError(sw, r, http.StatusNotFound, wire.ErrNotFound, wire.AppsReasonNotAPIPath, meta,
			fmt.Sprintf("%s is not under /api/: only an app's /api/ routes accept bearer tokens", r.URL.Path))
		return
	}
	c, ok := e.appBearer(sw, r, app)
	if !ok {
		return
	}
	call.caller = c
	if e.allowBearer(sw, r, app, c) {
		e.forward(sw, r, app, c, call.requestID)
	}
}

// appBearer verifies the bearer token and finds its principal: 401 when the
// token is missing or not valid.
func (e *Emulator) appBearer(w http.ResponseWriter, r *http.Request, app App) (*caller, bool) {
	meta := map[string]string{wire.AppsMetaApp: app.Name}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		e.appsError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, wire.AppsReasonTokenMissing, meta, errNoBearer.Error())
		return nil, false
	}
	c, err := e.verify(tok)
	if err != nil {
		if e.refuseIdPToken(w, r, app, tok) {
			return nil, false
		}
		reason := wire.AppsReasonTokenMalformed
		if err == errExpired {
			reason = wire.AppsReasonTokenExpired
		}
		e.appsError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, reason, meta, err.Error())
		return nil, false
	}
	noteOf(r).principal = c.Subject
	return e.callerOf(c, tok), true
}

// callerOf finds the user or service principal a token speaks for.
func (e *Emulator) callerOf(c *claims.Claims, tok string) *caller {
	ws := e.WorkspaceID()
	out := &caller{subject: c.Subject, token: tok, claims: c, user: c.Subject + "@" + ws}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if u, ok := e.state.user(c.Subject); ok {
		out.email, out.preferred, out.names = u.UserName, u.DisplayName, []string{u.UserName}
	} else if sp, ok := e.state.servicePrincipal(c.Subject); ok {
		out.email, out.preferred, out.names = sp.ApplicationID, sp.DisplayName, []string{sp.ApplicationID}
	}
	return out
}

// allowBearer applies the app's permission and scope rules to a verified
// bearer token.
func (e *Emulator) allowBearer(w http.ResponseWriter, r *http.Request, app App, c *caller) bool {
	meta := map[string]string{wire.AppsMetaApp: app.Name}
	if app.userAuthorization() {
		var missing []string
		for _, s := range app.UserAPIScopes {
			if !c.claims.HasScope(s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			meta[wire.AppsMetaMissingScopes] = strings.Join(missing, " ")
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="databricks-apps", error="insufficient_scope", scope=%q`, strings.Join(app.UserAPIScopes, " ")))
			e.appsError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, wire.AppsReasonMissingAppScopes, meta,
				fmt.Sprintf("Provided OAuth token does not have required scopes: %s. App %s uses user authorization and requires %s: request them in the authorization step (scope=%s)",
					strings.Join(missing, ", "), app.Name, strings.Join(app.UserAPIScopes, " "), strings.Join(app.UserAPIScopes, " ")))
			return false
		}
	}
	if !e.canUse(w, r, app, c) {
		return false
	}
	if !app.userAuthorization() && !c.claims.HasScope(wire.ScopeAllAPIs) {
		meta[wire.AppsMetaMissingScopes] = wire.ScopeAllAPIs
		e.appsError(w, r, http.StatusForbidden, wire.ErrPermissionDenied, wire.AppsReasonInsufficientScope, meta,
			"Provided OAuth token does not have required scopes: "+wire.ScopeAllAPIs)
		return false
	}
	return true
}

// allowSession applies the app's rules to a browser session; its token's
// scopes are the ones the app's own sign-in asked for.
func (e *Emulator) allowSession(w http.ResponseWriter, r *http.Request, app App, c *caller) bool {
	for _, s := range app.UserAPIScopes {
		if !c.claims.HasScope(s) {
			// The app's scopes changed since the browser signed in.
			e.redirectToAppLogin(w, r, app)
			return false
		}
	}
	return e.canUse(w, r, app, c)
}

func (e *Emulator) canUse(w http.ResponseWriter, r *http.Request, app App, c *caller) bool {
	e.mu.RLock()
	app, _ = e.state.app(app.Name) // the latest permissions
	e.mu.RUnlock()
	if app.canUse(c.names...) {
		return true
	}
	who := c.subject
	if c.email != "" && c.email != c.subject {
		who = fmt.Sprintf("%s (%s)", c.email, c.subject)
	}
	e.appsError(w, r, http.StatusForbidden, wire.ErrPermissionDenied, wire.AppsReasonNoCanUse, map[string]string{wire.AppsMetaApp: app.Name},
		fmt.Sprintf("%s does not have CAN USE permission on app %s: ask the app's owner to grant it", who, app.Name))
	return false
}

// forwardedHeaders are never taken from the client: only the proxy sets them.
var forwardedHeaders = []string{
	wire.HeaderForwardedEmail, wire.HeaderForwardedUser, wire.HeaderForwardedPreferredUsername,
	wire.HeaderForwardedAccessToken, wire.HeaderForwardedHost, wire.HeaderRealIP, wire.HeaderRequestID,
	"X-Forwarded-For", "X-Forwarded-Proto", "Forwarded",
}

// forward hands the request to the app with the caller's identity.
func (e *Emulator) forward(w http.ResponseWriter, r *http.Request, app App, c *caller, requestID string) {
	out := r.Clone(r.Context())
	out.Header.Del("Authorization")
	for _, h := range forwardedHeaders {
		out.Header.Del(h)
	}
	var kept []string
	for _, ck := range r.Cookies() {
		if ck.Name != appSessCookie && ck.Name != appStateCookie {
			kept = append(kept, ck.String())
		}
	}
	out.Header.Del("Cookie")
	if len(kept) > 0 {
		out.Header.Set("Cookie", strings.Join(kept, "; "))
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	out.Header.Set(wire.HeaderForwardedEmail, c.email)
	out.Header.Set(wire.HeaderForwardedUser, c.user)
	out.Header.Set(wire.HeaderForwardedPreferredUsername, c.preferred)
	out.Header.Set(wire.HeaderForwardedHost, r.Host)
	out.Header.Set("X-Forwarded-Proto", "http")
	out.Header.Set(wire.HeaderRealIP, ip)
	out.Header.Set(wire.HeaderRequestID, requestID)
	if app.userAuthorization() {
		out.Header.Set(wire.HeaderForwardedAccessToken, c.token)
	}
	e.sampleApp(app).ServeHTTP(w, out)
}

func (e *Emulator) auditAppCall(r *http.Request, sw *statusWriter, call *appCall) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	entry := AuditEntry{Time: time.Now().UTC(), Action: "app_call", App: call.app, Path: r.URL.Path, Status: status, RequestID: call.requestID}
	if c := call.caller; c != nil {
		entry.Principal, entry.ClientID, entry.TokenID, entry.Scope = c.subject, c.claims.ClientID, c.claims.ID, c.claims.Scope
	}
	e.audit.add(func(seq int64) AuditEntry {
		entry.Seq = seq
		return entry
	})
}

// appsError answers a REST error with an ErrorInfo naming the cause.
func (e *Emulator) appsError(w http.ResponseWriter, r *http.Request, status int, code, reason string, meta map[string]string, msg string) {
	info, _ := json.Marshal(wire.ErrorInfo{Type: wire.ErrorInfoType, Reason: reason, Domain: "apps.emulator.embedlab", Metadata: meta})
	noteOf(r).errCode = reason
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="databricks-apps"`)
	}
	writeJSON(w, status, wire.APIError{ErrorCode: code, Message: msg, Details: []json.RawMessage{info}})
}

// isBrowser tells a page navigation from an API call.
func isBrowser(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// newUUID is a random (version 4) UUID, the form of X-Request-Id.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
