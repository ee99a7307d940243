package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"embedlab/shared/wire"
)

// The authorization endpoint: GET /oidc/v1/authorize validates the request
// and shows the login and consent page; the page posts back to the same
// path, which redirects to the client with a code (or an error).
//
// Errors that cannot be sent back safely (unknown client, a redirect_uri
// that is not registered) are shown on an HTML error page; every later one
// goes back to redirect_uri as error=...&error_description=...&state=...
// (RFC 6749 section 4.1.2.1).

// appClientPrefix starts the client id of an app's own OAuth client, which
// the Apps proxy uses to sign browsers in; its one redirect URI is the app's
// /.auth/callback.
const appClientPrefix = "databricks-apps-"

func appClientID(app string) string { return appClientPrefix + app }

// client finds a registered OAuth client, or an app's own client.
func (e *Emulator) client(id string) (OAuthClient, bool) {
	e.mu.RLock()
	c, ok := e.state.oauthClient(id)
	e.mu.RUnlock()
	if ok {
		return c, true
	}
	name, isApp := strings.CutPrefix(id, appClientPrefix)
	if !isApp {
		return OAuthClient{}, false
	}
	e.mu.RLock()
	_, ok = e.state.app(name)
	e.mu.RUnlock()
	if !ok {
		return OAuthClient{}, false
	}
	return OAuthClient{ClientID: id, DisplayName: "Databricks App " + name, RedirectURIs: []string{e.AppURL(name) + pathAppCallback}}, true
}

// AllowRedirectURI registers one more redirect URI for an OAuth client of
// the state, e.g. a test's callback on a random port.
func (e *Emulator) AllowRedirectURI(clientID, redirectURI string) error {
	found := false
	err := e.Update(func(s *State) {
		for i := range s.OAuthClients {
			if c := &s.OAuthClients[i]; c.ClientID == clientID {
				found = true
				if !slices.Contains(c.RedirectURIs, redirectURI) {
					c.RedirectURIs = append(c.RedirectURIs, redirectURI)
				}
			}
		}
	})
	if err == nil && !found {
		return fmt.Errorf("the emulator state has no OAuth client %q", clientID)
	}
	return err
}

var challengeRe = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// parseUserScopes splits and checks the scope parameter of a user's request.
func parseUserScopes(raw string) ([]string, error) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return nil, fmt.Errorf("scope is required, e.g. scope=%q as the Databricks CLI asks", wire.ScopeOfflineAccess+" "+wire.ScopeAllAPIs)
	}
	var out []string
	for _, s := range fields {
		if _, ok := userScopes[s]; !ok {
			if isEmbedScope(s) {
				return nil, fmt.Errorf("scope %s is only for embedded dashboards' scoped tokens, never for users", s)
			}
			return nil, fmt.Errorf("unknown scope %q; a user may ask for %s", s, strings.Join(slices.Sorted(maps.Keys(userScopes)), ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, fmt.Sprintf("The parameter %s is repeated: send it once.", k))
			return
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "The request has no client_id: the application that sent you here is misconfigured.")
		return
	}
	client, ok := e.client(clientID)
	if !ok {
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidClient,
			fmt.Sprintf("The client %q is not registered in this workspace, so you are not sent back to it.", clientID))
		return
	}
	redirectURI, redirectSet := q.Get("redirect_uri"), q.Has("redirect_uri")
	switch {
	case !redirectSet && len(client.RedirectURIs) == 1:
		redirectURI = client.RedirectURIs[0]
	case !redirectSet:
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest,
			fmt.Sprintf("The request has no redirect_uri, and the client %s has several registered: say which.", clientID))
		return
	case !slices.Contains(client.RedirectURIs, redirectURI):
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest,
			fmt.Sprintf("The redirect_uri %q is not registered for the client %s (registered: %s). Redirect URIs must match exactly, including the port and any trailing slash.",
				redirectURI, clientID, strings.Join(client.RedirectURIs, ", ")))
		return
	}
	// From here on, errors go back to the client.
	st := q.Get("state")
	fail := func(code, desc string) { redirectError(w, r, redirectURI, st, code, desc) }
	switch rt := q.Get("response_type"); {
	case rt == "":
		fail(wire.OAuthInvalidRequest, "response_type is required: use response_type=code")
		return
	case rt != "code":
		fail("unsupported_response_type", fmt.Sprintf("response_type %q is not supported: use code (the authorization code flow with PKCE)", rt))
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		fail(wire.OAuthInvalidRequest, "code_challenge is required: this workspace requires PKCE (RFC 7636) with code_challenge_method=S256")
		return
	case method == "":
		fail(wire.OAuthInvalidRequest, "code_challenge_method is required and must be S256: without it the method would be plain, which is refused")
		return
	case method == "plain":
		fail(wire.OAuthInvalidRequest, "code_challenge_method plain is refused: send S256, the base64url SHA-256 of the code_verifier")
		return
	case method != wire.CodeChallengeS256:
		fail(wire.OAuthInvalidRequest, fmt.Sprintf("code_challenge_method %q is not supported: use S256", method))
		return
	case !challengeRe.MatchString(challenge):
		fail(wire.OAuthInvalidRequest, "code_challenge must be the base64url (unpadded) SHA-256 of the code_verifier: 43 characters of A-Z a-z 0-9 - _")
		return
	}
	scopes, err := parseUserScopes(q.Get("scope"))
	if err != nil {
		fail(wire.OAuthInvalidScope, err.Error())
		return
	}
	if p := q.Get("prompt"); p != "" && p != "login" && p != "consent" {
		fail(wire.OAuthInvalidRequest, fmt.Sprintf("prompt %q is not supported: use login, consent or nothing", p))
		return
	}
	p := &pendingAuth{
		client: client, redirectURI: redirectURI, redirectSet: redirectSet, scopes: scopes, state: st,
		challenge: challenge, csrf: csrfOf(r), prompt: q.Get("prompt"), query: r.URL.RawQuery,
	}
	rid := randomToken()
	now := e.clock.now()
	e.u2m.mu.Lock()
	e.u2m.pending.put(rid, p, now.Add(pendingLifetime), now)
	e.u2m.mu.Unlock()
	e.setCookie(w, csrfCookie, p.csrf, "/oidc/", pendingLifetime)
	e.renderAuthorize(w, r, http.StatusOK, rid, p, e.signedIn(r, p.prompt), "", "")
}

// csrfOf reuses the browser's anti-forgery cookie, so two login pages open
// at once both work, or makes a new one.
func csrfOf(r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	return randomToken()
}

// signedIn returns the user signed in on the workspace origin, unless the
// client asked for a fresh login.
func (e *Emulator) signedIn(r *http.Request, prompt string) *User {
	if prompt == "login" {
		return nil
	}
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return nil
	}
	now := e.clock.now()
	e.u2m.mu.Lock()
	id, ok := e.u2m.logins.get(digest(c.Value), now)
	e.u2m.mu.Unlock()
	if !ok {
		return nil
	}
	e.mu.RLock()
	u, ok := e.state.user(id)
	e.mu.RUnlock()
	if !ok || u.Password == "" {
		return nil
	}
	return &u
}

func (e *Emulator) setCookie(w http.ResponseWriter, name, value, path string, life time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(life / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(e.URL(), "https:"),
	})
}

// handleAuthorizeForm is the login and consent form's answer.
func (e *Emulator) handleAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	if oe, status := readForm(w, r); oe != nil {
		e.authorizeErrorPage(w, r, status, oe.Code, oe.Description)
		return
	}
	form := r.PostForm
	rid, csrf := form.Get("request_id"), form.Get("csrf_token")
	now := e.clock.now()
	e.u2m.mu.Lock()
	p, ok := e.u2m.pending.get(rid, now)
	e.u2m.mu.Unlock()
	if rid == "" || !ok {
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest,
			"This sign-in page is unknown or has expired (pages live 10 minutes, and each is used once): go back to the application and start again.")
		return
	}
	cookie, err := r.Cookie(csrfCookie)
	if csrf == "" || err != nil || !constEq(cookie.Value, csrf) || !constEq(p.csrf, csrf) {
		e.authorizeErrorPage(w, r, http.StatusForbidden, "csrf_mismatch",
			"The form's anti-forgery token does not match this browser's: the form was not opened in this browser, or its cookies are blocked. Start again from the application.")
		return
	}
	done := func() {
		e.u2m.mu.Lock()
		e.u2m.pending.del(rid)
		e.u2m.mu.Unlock()
	}
	switch form.Get("action") {
	case "deny":
		done()
		redirectError(w, r, p.redirectURI, p.state, "access_denied", "The user denied the request")
		return
	case "allow":
	default:
		e.authorizeErrorPage(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "The form has no action: press Allow or Deny.")
		return
	}
	user := e.signedIn(r, p.prompt)
	if form.Has("username") || user == nil {
		u, ok := e.checkPassword(form.Get("username"), form.Get("password"))
		if !ok {
			e.u2m.mu.Lock()
			p.attempts++
			tooMany := p.attempts >= maxLoginTries
			if tooMany {
				e.u2m.pending.del(rid)
			}
			e.u2m.mu.Unlock()
			noteOf(r).errCode = "bad_credentials"
			if tooMany {
				redirectError(w, r, p.redirectURI, p.state, "access_denied", fmt.Sprintf("%d wrong passwords: sign-in stopped", maxLoginTries))
				return
			}
			e.renderAuthorize(w, r, http.StatusUnauthorized, rid, p, nil, form.Get("username"), "Wrong user name or password.")
			return
		}
		user = &u
		sess := randomToken()
		e.u2m.mu.Lock()
		e.u2m.logins.put(digest(sess), u.ID, now.Add(loginLifetime), now)
		e.u2m.mu.Unlock()
		e.setCookie(w, loginCookie, sess, "/oidc/", loginLifetime)
		e.audit.add(func(seq int64) AuditEntry {
			return AuditEntry{Seq: seq, Time: now.UTC(), Action: "user_signed_in", Principal: u.ID, ClientID: p.client.ClientID}
		})
	}
	done()
	noteOf(r).principal = user.ID
	code := randomToken()
	ac := &authCode{
		clientID: p.client.ClientID, redirectURI: p.redirectURI, redirectSet: p.redirectSet, userID: user.ID,
		scopes: p.scopes, challenge: p.challenge, family: randomID(),
	}
	e.u2m.mu.Lock()
	e.u2m.codes.put(digest(code), ac, now.Add(codeLifetime), now)
	e.u2m.mu.Unlock()
	e.audit.add(func(seq int64) AuditEntry {
		return AuditEntry{Seq: seq, Time: now.UTC(), Action: "authorization_code_issued", Principal: user.ID,
			ClientID: p.client.ClientID, Scope: strings.Join(p.scopes, " ")}
	})
	http.Redirect(w, r, withQuery(p.redirectURI, url.Values{"code": {code}, "state": {p.state}}), http.StatusFound)
}

// checkPassword compares in constant time, and as long for an unknown user
// as for a known one.
func (e *Emulator) checkPassword(name, password string) (User, bool) {
	e.mu.RLock()
	u, ok := e.state.userByName(strings.TrimSpace(name))
	e.mu.RUnlock()
	want := u.Password
	if !ok || want == "" {
		want = "\x00no user\x00"
	}
	match := constEq(want, password)
	return u, ok && u.Password != "" && match
}

func constEq(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// withQuery adds v to u's query, keeping what u has; an empty value is left
// out (no "state=" when the client sent none).
func withQuery(u string, v url.Values) string {
	p, err := url.Parse(u)
	if err != nil {
		return u // registered URIs are validated; cannot happen
	}
	q := p.Query()
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// redirectError sends an authorization error back to the client.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	noteOf(r).errCode = code
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, withQuery(redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {state}}), http.StatusFound)
}

// The pages' stylesheet, allowed by its hash in the CSP.
const loginCSS = `:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif}
body{margin:0;background:#f3f4f6;color:#1b1f24;display:flex;justify-content:center;padding:40px 16px}
main{background:#fff;color:#1b1f24;max-width:440px;width:100%;border:1px solid #e1e4e8;border-radius:10px;padding:24px 28px}
h1{font-size:20px;margin:0 0 4px}.sub{color:#6a737d;font-size:13px;margin:0 0 16px}
ul{padding-left:18px}li{margin:4px 0}code{font-size:13px;background:#f6f8fa;padding:1px 4px;border-radius:4px}
label{display:block;margin:12px 0 4px;font-size:14px}input{width:100%;box-sizing:border-box;font:inherit;padding:8px;border:1px solid #d0d7de;border-radius:6px}
.buttons{display:flex;gap:8px;margin-top:18px}button{font:inherit;padding:8px 16px;border-radius:6px;border:1px solid #d0d7de;background:#fff;cursor:pointer}
button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff}.error{background:#fdecec;border:1px solid #f1aeb5;color:#842029;padding:8px 12px;border-radius:6px}
.hint{color:#6a737d;font-size:12px;margin-top:18px}`

var loginCSSHash = func() string {
	h := sha256.Sum256([]byte(loginCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

var authorizeTmpl = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to workspace {{.WorkspaceID}}</title><style>` + loginCSS + `</style></head>
<body data-page="authorize" data-client="{{.ClientID}}">
<main>
<h1>Sign in to workspace {{.WorkspaceID}}</h1>
<p class="sub">Databricks workspace emulator at {{.Base}}</p>
<p><strong>{{.ClientName}}</strong> (<code>{{.ClientID}}</code>) asks to act as you with these scopes:</p>
<ul id="scopes">{{range .Scopes}}<li><code>{{.Name}}</code>: {{.Desc}}</li>{{end}}</ul>
<p>Afterwards you go back to <code>{{.RedirectURI}}</code>.</p>
{{if .Error}}<p class="error" role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{if .User}}<p id="signed-in">Signed in as <strong>{{.User.DisplayName}}</strong> ({{.User.UserName}}). <a href="{{.SwitchURL}}">Use another account</a></p>
{{else}}<label for="username">E-mail</label><input id="username" name="username" type="email" autocomplete="username" required autofocus value="{{.Username}}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
{{end}}<div class="buttons"><button id="allow" class="primary" type="submit" name="action" value="allow">Allow</button>
<button id="deny" type="submit" name="action" value="deny" formnovalidate>Deny</button></div>
</form>
{{if .DemoUsers}}<p class="hint">Demo users of this emulated workspace: {{range $i, $u := .DemoUsers}}{{if $i}}, {{end}}<code>{{$u}}</code>{{end}}. Their passwords are public demo values in the emulator's state file (workspace.json).</p>{{end}}
</main></body></html>
`))

var authorizeErrorTmpl = template.Must(template.New("authorize-error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed</title><style>` + loginCSS + `</style></head>
<body data-page="authorize-error" data-error="{{.Code}}">
<main><h1>Sign-in failed</h1><p class="sub">Databricks workspace emulator, workspace {{.WorkspaceID}}</p>
<p class="error" role="alert" id="error">{{.Message}}</p><p><code>{{.Code}}</code></p></main></body></html>
`))

type scopeLine struct{ Name, Desc string }

func (e *Emulator) pageHeaders(w http.ResponseWriter, formAction string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src "+loginCSSHash+"; base-uri 'none'; frame-ancestors 'none'; form-action "+formAction)
}

func (e *Emulator) renderAuthorize(w http.ResponseWriter, r *http.Request, status int, rid string, p *pendingAuth, user *User, username, errMsg string) {
	var lines []scopeLine
	for _, s := range p.scopes {
		lines = append(lines, scopeLine{s, userScopes[s]})
	}
	e.mu.RLock()
	var demo []string
	for _, u := range e.state.Users {
		if u.Password != "" {
			demo = append(demo, u.UserName)
		}
	}
	e.mu.RUnlock()
	sw, _ := url.ParseQuery(p.query)
	sw.Set("prompt", "login")
	// The form posts here, and the answer redirects to the client: Chromium
	// applies form-action to that redirect too.
	e.pageHeaders(w, "'self' "+origin(p.redirectURI))
	w.WriteHeader(status)
	_ = authorizeTmpl.Execute(w, map[string]any{
		"WorkspaceID": e.WorkspaceID(), "Base": e.URL(), "ClientName": p.client.DisplayName, "ClientID": p.client.ClientID,
		"RedirectURI": p.redirectURI, "Scopes": lines, "RequestID": rid, "CSRF": p.csrf, "User": user,
		"Username": username, "Error": errMsg, "SwitchURL": wire.PathAuthorize + "?" + sw.Encode(), "DemoUsers": demo,
		"Action": wire.PathAuthorize,
	})
}

func (e *Emulator) authorizeErrorPage(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	noteOf(r).errCode = code
	e.pageHeaders(w, "'none'")
	w.WriteHeader(status)
	_ = authorizeErrorTmpl.Execute(w, map[string]string{"WorkspaceID": e.WorkspaceID(), "Code": code, "Message": msg})
}

// origin is a URL's scheme://host[:port].
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "'none'"
	}
	return p.Scheme + "://" + p.Host
}
