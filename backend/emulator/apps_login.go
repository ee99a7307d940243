package emulator

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// A browser that opens an app without a session is sent to the workspace's
// login page with the app's own OAuth client (authorization code + PKCE),
// comes back to the app's /.auth/callback, and gets a session cookie on the
// app's origin. The session holds the user's token, which the proxy
// forwards to an app with user authorization, as it does a bearer token.

// appLoginScopes are what an app's sign-in asks for: its user_api_scopes,
// or only the user's identity.
func appLoginScopes(app App) []string {
	if app.userAuthorization() {
		return append([]string(nil), app.UserAPIScopes...)
	}
	return []string{wire.ScopeCurrentUser}
}

func (e *Emulator) redirectToAppLogin(w http.ResponseWriter, r *http.Request, app App) {
	verifier, state := randomToken(), randomToken()
	returnTo := r.URL.RequestURI()
	now := e.clock.now()
	e.u2m.mu.Lock()
	e.u2m.appLogins.put(digest(state), appLogin{app: app.Name, verifier: verifier, returnTo: returnTo}, now.Add(appLoginTimeout), now)
	e.u2m.mu.Unlock()
	e.setAppCookie(w, appStateCookie, state, pathAppCallback, appLoginTimeout)
	q := url.Values{
		"response_type": {"code"}, "client_id": {appClientID(app.Name)}, "redirect_uri": {e.AppURL(app.Name) + pathAppCallback},
		"scope": {strings.Join(appLoginScopes(app), " ")}, "state": {state},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {wire.CodeChallengeS256},
	}
	noteOf(r).errCode = "login_required"
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.URL()+wire.PathAuthorize+"?"+q.Encode(), http.StatusFound)
}

func (e *Emulator) setAppCookie(w http.ResponseWriter, name, value, path string, life time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(life / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(e.AppsURL(), "https:"),
	})
}

var appLoginErrorTmpl = template.Must(template.New("app-login-error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in to {{.App}} not completed</title><style>` + loginCSS + `</style></head>
<body data-page="app-login-error" data-error="{{.Code}}"><main><h1>Sign-in to {{.App}} not completed</h1>
<p class="error" role="alert" id="error">{{.Message}}</p><p><a href="/">Try again</a></p></main></body></html>
`))

func (e *Emulator) appLoginError(w http.ResponseWriter, r *http.Request, app App, status int, code, msg string) {
	noteOf(r).errCode = code
	e.pageHeaders(w, "'none'")
	w.WriteHeader(status)
	_ = appLoginErrorTmpl.Execute(w, map[string]string{"App": app.Name, "Code": code, "Message": msg})
}

// appCallback finishes a browser's sign-in to an app.
func (e *Emulator) appCallback(w http.ResponseWriter, r *http.Request, app App) {
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(appStateCookie)
	if state == "" || err != nil || !constEq(ck.Value, state) {
		e.appLoginError(w, r, app, http.StatusBadRequest, "state_mismatch",
			"This sign-in was not started in this browser, or took longer than 10 minutes. Open the app again.")
		return
	}
	now := e.clock.now()
	e.u2m.mu.Lock()
	login, ok := e.u2m.appLogins.get(digest(state), now)
	e.u2m.appLogins.del(digest(state))
	e.u2m.mu.Unlock()
	e.setAppCookie(w, appStateCookie, "", pathAppCallback, -time.Second)
	if !ok || login.app != app.Name {
		e.appLoginError(w, r, app, http.StatusBadRequest, "state_mismatch", "This sign-in is unknown or has expired. Open the app again.")
		return
	}
	if code := q.Get("error"); code != "" {
		e.appLoginError(w, r, app, http.StatusUnauthorized, code, "The workspace did not sign you in: "+q.Get("error_description"))
		return
	}
	ac, ge := e.redeemCode(appClientID(app.Name), q.Get("code"), e.AppURL(app.Name)+pathAppCallback, true, login.verifier)
	if ge != nil {
		e.appLoginError(w, r, app, http.StatusUnauthorized, ge.code, ge.desc)
		return
	}
	tok, c, err := e.mint(claims.Claims{Subject: ac.userID, ClientID: ac.clientID, Scope: strings.Join(ac.scopes, " ")})
	if err != nil {
		e.log.Error("emulator: sign token", "err", err)
		e.appLoginError(w, r, app, http.StatusInternalServerError, wire.OAuthServerError, "The emulator could not sign the token.")
		return
	}
	sid := randomToken()
	exp := unix(c.ExpiresAt)
	e.u2m.mu.Lock()
	e.u2m.appSess.put(digest(sid), appSession{app: app.Name, token: tok, claims: c}, exp, now)
	e.u2m.mu.Unlock()
	e.setAppCookie(w, appSessCookie, sid, "/", exp.Sub(now))
	noteOf(r).principal = ac.userID
	e.audit.add(func(seq int64) AuditEntry {
		return AuditEntry{Seq: seq, Time: now.UTC(), Action: "app_signed_in", App: app.Name, Principal: ac.userID,
			ClientID: ac.clientID, Scope: c.Scope, TokenID: c.ID}
	})
	returnTo := login.returnTo
	if !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") || strings.HasPrefix(returnTo, "/\\") {
		returnTo = "/"
	}
	http.Redirect(w, r, returnTo, http.StatusFound)
}

// appSessionCaller is the caller of a browser signed in to this app.
func (e *Emulator) appSessionCaller(r *http.Request, app App) (*caller, bool) {
	ck, err := r.Cookie(appSessCookie)
	if err != nil || ck.Value == "" {
		return nil, false
	}
	now := e.clock.now()
	e.u2m.mu.Lock()
	s, ok := e.u2m.appSess.get(digest(ck.Value), now)
	e.u2m.mu.Unlock()
	if !ok || s.app != app.Name {
		return nil, false
	}
	noteOf(r).principal = s.claims.Subject
	c := s.claims
	return e.callerOf(&c, s.token), true
}
