package emulator_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// The Databricks CLI's flow, step by step: the login and consent page
// posted by a client with a cookie jar, the code, the token, the refresh.
func TestAuthorizationCodeFlowByHand(t *testing.T) {
	em := start(t)
	b := newAgent(t)
	verifier := oauth2.GenerateVerifier()
	authURL := authorizeURL(em, oauth2.S256ChallengeFromVerifier(verifier))

	page := b.open(authURL)
	if page.status != http.StatusOK || !strings.Contains(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", page.status, page.body)
	}
	body := string(page.body)
	for _, want := range []string{`data-page="authorize"`, "Databricks CLI", "<code>offline_access</code>", "<code>all-apis</code>", `name="password"`, testkit.CLIRedirect} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' "+testkit.CLIRedirect) {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(body, testkit.WorkspaceAda.Password) {
		t.Error("the login page shows a password")
	}

	f := formFields(t, page)
	f.Set("username", testkit.WorkspaceAda.Email)
	f.Set("password", testkit.WorkspaceAda.Password)
	f.Set("action", "allow")
	back := location(t, b.post(em.URL()+wire.PathAuthorize, f))
	if got := back.Scheme + "://" + back.Host + back.Path; got != testkit.CLIRedirect {
		t.Fatalf("redirected to %s, want %s", got, testkit.CLIRedirect)
	}
	if back.Query().Get("state") != "st-123" || len(back.Query().Get("code")) < 40 {
		t.Fatalf("redirect back = %s", back)
	}

	r := exchange(t, em, back.Query().Get("code"), verifier)
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != "offline_access all-apis" || tr.RefreshToken == "" {
		t.Fatalf("token answer: %d %s", r.status, r.body)
	}
	c := verifyWithJWKS(t, em, tr.AccessToken)
	if c.Subject != testkit.WorkspaceAda.ID || c.ClientID != testkit.CLIClient || c.Scope != "offline_access all-apis" || len(c.Audience) != 1 || c.Audience[0] != testkit.CLIClient {
		t.Fatalf("claims = %+v", c)
	}

	// Signed in on the workspace origin: the next request asks only for consent.
	verifier2 := oauth2.GenerateVerifier()
	page = b.open(authorizeURL(em, oauth2.S256ChallengeFromVerifier(verifier2), "scope", "sql", "state", ""))
	if !strings.Contains(string(page.body), `id="signed-in"`) || strings.Contains(string(page.body), `name="password"`) {
		t.Fatalf("second page does not use the sign-in: %s", page.body)
	}
	f = formFields(t, page)
	f.Set("action", "allow")
	back = location(t, b.post(em.URL()+wire.PathAuthorize, f))
	if back.Query().Has("state") {
		t.Errorf("state was not sent but came back: %s", back)
	}
	r = exchange(t, em, back.Query().Get("code"), verifier2)
	var tr2 wire.TokenResponse
	r.json(t, &tr2)
	if r.status != http.StatusOK || tr2.Scope != "sql" || tr2.RefreshToken != "" {
		t.Fatalf("without offline_access: %d %s", r.status, r.body)
	}
	// prompt=login asks for the password again.
	page = b.open(authorizeURL(em, oauth2.S256ChallengeFromVerifier(verifier2), "prompt", "login"))
	if !strings.Contains(string(page.body), `name="password"`) {
		t.Fatal("prompt=login did not ask for the password")
	}
}

// golang.org/x/oauth2, as embedlab's backend uses it: AuthCodeURL with
// S256ChallengeOption, Exchange with VerifierOption, then a refresh
// through its TokenSource; with the client_id in the form (as the CLI
// sends it) and with the library's own detection, which tries HTTP Basic
// with an empty secret first.
func TestAuthorizationCodeWithOAuth2Library(t *testing.T) {
	em := start(t)
	for name, style := range map[string]oauth2.AuthStyle{"params": oauth2.AuthStyleInParams, "autodetect": oauth2.AuthStyleAutoDetect} {
		t.Run(name, func(t *testing.T) {
			cfg := oauth2.Config{
				ClientID:    testkit.CLIClient,
				Endpoint:    oauth2.Endpoint{AuthURL: em.URL() + wire.PathAuthorize, TokenURL: em.URL() + wire.PathToken, AuthStyle: style},
				RedirectURL: testkit.CLIRedirect,
				Scopes:      []string{"offline_access", "all-apis", "sql"},
			}
			verifier := oauth2.GenerateVerifier()
			code := newAgent(t).code(cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier)), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
			ctx := context.Background()
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || tok.Extra("scope") != "offline_access all-apis sql" || tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
				t.Fatalf("token = %+v scope %v", tok, tok.Extra("scope"))
			}
			if c := verifyWithJWKS(t, em, tok.AccessToken); c.Subject != testkit.WorkspaceAda.ID || !c.HasScope("sql") {
				t.Fatalf("claims = %+v", c)
			}
			// An expired token makes the TokenSource refresh.
			tok.Expiry = time.Now().Add(-time.Minute)
			fresh, err := cfg.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatal(err)
			}
			if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
				t.Fatal("the refresh did not return a new access token and a new refresh token")
			}
			// The rotated refresh token is refused now.
			tok.Expiry = time.Now().Add(-time.Minute)
			_, err = cfg.TokenSource(ctx, tok).Token()
			var re *oauth2.RetrieveError
			// databricks-sdk-go's u2m code classifies exactly this
			// RetrieveError as InvalidRefreshTokenError ("sign in again").
			if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Refresh token is invalid" || re.Response.StatusCode != 401 {
				t.Fatalf("reused refresh token: %v", err)
			}
		})
	}
}

// Every way to tamper with PKCE, the code or the redirect is refused.
func TestPKCETampering(t *testing.T) {
	em := start(t)
	b := newAgent(t)
	verifier := oauth2.GenerateVerifier()
	challenge := oauth2.S256ChallengeFromVerifier(verifier)
	fresh := func() string {
		return b.code(authorizeURL(em, challenge), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
	}

	cases := []struct {
		name       string
		r          func() response
		status     int
		code, desc string
	}{
		{"wrong verifier", func() response { return exchange(t, em, fresh(), oauth2.GenerateVerifier()) }, 400, "invalid_grant", "does not match the code_challenge"},
		{"challenge sent as verifier", func() response { return exchange(t, em, fresh(), challenge) }, 400, "invalid_grant", "does not match"},
		{"no verifier", func() response { return exchange(t, em, fresh(), "", "code_verifier", "") }, 400, "invalid_request", "code_verifier is required"},
		{"short verifier", func() response { return exchange(t, em, fresh(), "abc") }, 400, "invalid_request", "43 to 128"},
		{"wrong redirect_uri", func() response { return exchange(t, em, fresh(), verifier, "redirect_uri", "http://localhost:8040") }, 400, "invalid_grant", "redirect_uri does not match"},
		{"no redirect_uri", func() response { return exchange(t, em, fresh(), verifier, "redirect_uri", "") }, 400, "invalid_request", "redirect_uri is required"},
		{"another client", func() response { return exchange(t, em, fresh(), verifier, "client_id", "embedlab") }, 400, "invalid_grant", "another client"},
		{"unknown client", func() response { return exchange(t, em, fresh(), verifier, "client_id", "nobody") }, 401, "invalid_client", "not an OAuth client"},
		{"client secret", func() response { return exchange(t, em, fresh(), verifier, "client_secret", "x") }, 401, "invalid_client", "public client"},
		{"made-up code", func() response { return exchange(t, em, "not-a-code", verifier) }, 400, "invalid_grant", "unknown or has expired"},
		{"no code", func() response { return exchange(t, em, "", verifier, "code", "") }, 400, "invalid_request", "code is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			oe := oauthErr(t, r)
			if r.status != tc.status || oe.Code != tc.code || !strings.Contains(oe.Description, tc.desc) {
				t.Fatalf("got %d %+v, want %d %s containing %q", r.status, oe, tc.status, tc.code, tc.desc)
			}
		})
	}

	t.Run("a code is burned by a wrong verifier", func(t *testing.T) {
		code := fresh()
		exchange(t, em, code, oauth2.GenerateVerifier())
		r := exchange(t, em, code, verifier)
		if oe := oauthErr(t, r); r.status != 400 || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "already used") {
			t.Fatalf("right verifier after a wrong one: %d %+v", r.status, oe)
		}
	})
	t.Run("reused code revokes what it gave", func(t *testing.T) {
		code := fresh()
		r := exchange(t, em, code, verifier)
		var tr wire.TokenResponse
		r.json(t, &tr)
		if r.status != 200 || tr.RefreshToken == "" {
			t.Fatalf("first use: %d %s", r.status, r.body)
		}
		r = exchange(t, em, code, verifier)
		if oe := oauthErr(t, r); r.status != 400 || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "already used") {
			t.Fatalf("second use: %d %+v", r.status, oe)
		}
		r = postForm(t, em, "", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {testkit.CLIClient}})
		if oe := oauthErr(t, r); r.status != 401 || oe != invalidRefresh {
			t.Fatalf("refresh after the code was replayed: %d %+v", r.status, oe)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		code := fresh()
		if err := em.SetClockSkew(61 * time.Second); err != nil {
			t.Fatal(err)
		}
		defer em.ResetFaults()
		r := exchange(t, em, code, verifier)
		if oe := oauthErr(t, r); r.status != 400 || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "60 seconds") {
			t.Fatalf("code after 61 s: %d %+v", r.status, oe)
		}
	})
}

// Errors of the authorization step: those that cannot go back safely are
// shown on a page; the others go back to the client with state.
func TestAuthorizeErrors(t *testing.T) {
	em := start(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	pages := []struct {
		name string
		u    string
		want string
	}{
		{"unknown client", authorizeURL(em, challenge, "client_id", "evil-client"), "not registered"},
		{"no client", authorizeURL(em, challenge, "client_id", ""), "no client_id"},
		{"unregistered redirect", authorizeURL(em, challenge, "redirect_uri", "http://evil.example/cb"), "is not registered"},
		{"trailing slash", authorizeURL(em, challenge, "redirect_uri", testkit.CLIRedirect+"/"), "match exactly"},
		{"another port", authorizeURL(em, challenge, "redirect_uri", "http://localhost:8021"), "is not registered"},
		{"no redirect, several registered", authorizeURL(em, challenge, "redirect_uri", ""), "several registered"},
		{"repeated parameter", authorizeURL(em, challenge) + "&scope=sql", "repeated"},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			r := newAgent(t).open(tc.u)
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(string(r.body), `data-page="authorize-error"`) ||
				!strings.Contains(string(r.body), tc.want) {
				t.Fatalf("got %d %v %s", r.status, r.header.Get("Location"), r.body)
			}
		})
	}
	redirects := []struct {
		name string
		u    string
		code string
		desc string
	}{
		{"plain method", authorizeURL(em, challenge, "code_challenge_method", "plain"), "invalid_request", "plain is refused"},
		{"no method", authorizeURL(em, challenge, "code_challenge_method", ""), "invalid_request", "must be S256"},
		{"no challenge", authorizeURL(em, "", "code_challenge", ""), "invalid_request", "code_challenge is required"},
		{"short challenge", authorizeURL(em, "abc"), "invalid_request", "43 characters"},
		{"token response type", authorizeURL(em, challenge, "response_type", "token"), "unsupported_response_type", `"token"`},
		{"unknown scope", authorizeURL(em, challenge, "scope", "all-apis root"), "invalid_scope", `"root"`},
		{"embed scope", authorizeURL(em, challenge, "scope", "dashboards.query-execution"), "invalid_scope", "embedded dashboards"},
		{"no scope", authorizeURL(em, challenge, "scope", ""), "invalid_scope", "scope is required"},
	}
	for _, tc := range redirects {
		t.Run(tc.name, func(t *testing.T) {
			back := location(t, newAgent(t).open(tc.u))
			q := back.Query()
			if back.Host != "localhost:8020" || q.Get("error") != tc.code || !strings.Contains(q.Get("error_description"), tc.desc) || q.Get("state") != "st-123" || q.Has("code") {
				t.Fatalf("redirect back = %s", back)
			}
		})
	}
	t.Run("deny", func(t *testing.T) {
		b := newAgent(t)
		f := formFields(t, b.open(authorizeURL(em, challenge)))
		f.Set("action", "deny")
		back := location(t, b.post(em.URL()+wire.PathAuthorize, f))
		if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "st-123" {
			t.Fatalf("deny: %s", back)
		}
	})
	t.Run("wrong password, then too many", func(t *testing.T) {
		b := newAgent(t)
		f := formFields(t, b.open(authorizeURL(em, challenge)))
		f.Set("action", "allow")
		f.Set("username", `"><script>alert(1)</script>`)
		f.Set("password", "wrong-password")
		r := b.post(em.URL()+wire.PathAuthorize, f)
		body := string(r.body)
		if r.status != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
			t.Fatalf("wrong password: %d %s", r.status, body)
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
			t.Fatal("the user name is not escaped on the page")
		}
		f.Set("username", testkit.WorkspaceAda.Email)
		for i := 0; i < 3; i++ {
			if r = b.post(em.URL()+wire.PathAuthorize, f); r.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i+2, r.status)
			}
		}
		back := location(t, b.post(em.URL()+wire.PathAuthorize, f))
		if back.Query().Get("error") != "access_denied" || !strings.Contains(back.Query().Get("error_description"), "wrong passwords") {
			t.Fatalf("fifth wrong password: %s", back)
		}
		f.Set("password", testkit.WorkspaceAda.Password)
		if r = b.post(em.URL()+wire.PathAuthorize, f); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "expired") {
			t.Fatalf("the page still works after the lock-out: %d", r.status)
		}
	})
	t.Run("a user without a password cannot sign in", func(t *testing.T) {
		if err := em.Update(func(s *emulator.State) { s.Users[1].Password = "" }); err != nil {
			t.Fatal(err)
		}
		defer em.Update(func(s *emulator.State) { s.Users[1].Password = testkit.WorkspaceGrace.Password })
		b := newAgent(t)
		f := formFields(t, b.open(authorizeURL(em, challenge)))
		f.Set("action", "allow")
		f.Set("username", testkit.WorkspaceGrace.Email)
		f.Set("password", "")
		if r := b.post(em.URL()+wire.PathAuthorize, f); r.status != http.StatusUnauthorized {
			t.Fatalf("got %d", r.status)
		}
	})
}

// The login form is bound to the browser that loaded it, and used once.
func TestAuthorizeFormCSRF(t *testing.T) {
	em := start(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	victim := newAgent(t)
	f := formFields(t, victim.open(authorizeURL(em, challenge)))
	f.Set("username", testkit.WorkspaceAda.Email)
	f.Set("password", testkit.WorkspaceAda.Password)
	f.Set("action", "allow")

	// Another browser (a forged cross-site post) has no matching cookie.
	if r := newAgent(t).post(em.URL()+wire.PathAuthorize, f); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "anti-forgery") {
		t.Fatalf("post from another browser: %d %s", r.status, r.body)
	}
	// The right cookie with a wrong token.
	bad := url.Values{}
	for k, v := range f {
		bad[k] = v
	}
	bad.Set("csrf_token", strings.Repeat("A", 43))
	if r := victim.post(em.URL()+wire.PathAuthorize, bad); r.status != http.StatusForbidden {
		t.Fatalf("wrong token: %d", r.status)
	}
	// The form as loaded works once.
	if back := location(t, victim.post(em.URL()+wire.PathAuthorize, f)); back.Query().Get("code") == "" {
		t.Fatalf("no code: %s", back)
	}
	if r := victim.post(em.URL()+wire.PathAuthorize, f); r.status != http.StatusBadRequest {
		t.Fatalf("second post of one form: %d", r.status)
	}
	// A JSON body is not a form.
	r := sendJSON(t, http.MethodPost, em.URL()+wire.PathAuthorize, `{"action":"allow"}`)
	if r.status != http.StatusBadRequest {
		t.Fatalf("JSON post: %d", r.status)
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	em := start(t)
	tr := userToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, "offline_access all-apis sql")
	refresh := func(rt string, kv ...string) response {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {testkit.CLIClient}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		return postForm(t, em, "", "", form)
	}

	r := refresh(tr.RefreshToken)
	var next wire.TokenResponse
	r.json(t, &next)
	if r.status != 200 || next.RefreshToken == "" || next.RefreshToken == tr.RefreshToken || next.AccessToken == tr.AccessToken || next.Scope != "offline_access all-apis sql" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if c := verifyWithJWKS(t, em, next.AccessToken); c.Subject != testkit.WorkspaceAda.ID || c.Scope != next.Scope {
		t.Fatalf("refreshed claims = %+v", c)
	}

	// A narrower scope is allowed; a wider one is not.
	r = refresh(next.RefreshToken, "scope", "sql")
	var narrow wire.TokenResponse
	r.json(t, &narrow)
	if r.status != 200 || narrow.Scope != "sql" || narrow.RefreshToken == "" {
		t.Fatalf("narrower refresh: %d %s", r.status, r.body)
	}
	if r = refresh(narrow.RefreshToken, "scope", "sql file.files"); oauthErr(t, r).Code != "invalid_scope" {
		t.Fatalf("wider refresh: %d %s", r.status, r.body)
	}
	// The refused request left the token current.
	cur := narrow.RefreshToken
	r = refresh(cur)
	var latest wire.TokenResponse
	r.json(t, &latest)
	if r.status != 200 || latest.Scope != "offline_access all-apis sql" {
		t.Fatalf("refresh after a refused one: %d %s", r.status, r.body)
	}
	cur = latest.RefreshToken

	// Replaying a rotated token is refused and revokes the family.
	r = refresh(tr.RefreshToken)
	if oe := oauthErr(t, r); r.status != 401 || oe != invalidRefresh {
		t.Fatalf("replayed refresh token: %d %+v", r.status, oe)
	}
	if r = refresh(cur); r.status != 401 || oauthErr(t, r) != invalidRefresh {
		t.Fatalf("the newest token survived a replay: %d %s", r.status, r.body)
	}
	audit := em.Audit(0)
	if !slices.ContainsFunc(audit, func(a emulator.AuditEntry) bool {
		return a.Action == "refresh_token_replayed" && a.Principal == testkit.WorkspaceAda.ID
	}) {
		t.Fatalf("no audit line for the replay: %+v", audit)
	}

	for name, tc := range map[string]struct {
		form   url.Values
		status int
		code   string
	}{
		"no token":        {url.Values{"grant_type": {"refresh_token"}, "client_id": {testkit.CLIClient}}, 400, "invalid_request"},
		"made-up token":   {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "client_id": {testkit.CLIClient}}, 401, "invalid_grant"},
		"no client":       {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 401, "invalid_client"},
		"another client ": {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {userToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, "offline_access all-apis").RefreshToken}, "client_id": {"embedlab"}}, 401, "invalid_grant"},
	} {
		t.Run(name, func(t *testing.T) {
			r := postForm(t, em, "", "", tc.form)
			oe := oauthErr(t, r)
			if r.status != tc.status || oe.Code != tc.code {
				t.Fatalf("got %d %+v", r.status, oe)
			}
			if tc.code == "invalid_grant" && oe != invalidRefresh {
				t.Fatalf("a refused refresh token must read exactly %+v (the SDKs match it), got %+v", invalidRefresh, oe)
			}
		})
	}
}

// embedlab's own callback; tests on random ports register theirs.
func TestRedirectURIsFromState(t *testing.T) {
	em := start(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	for _, cb := range []string{"http://localhost:3000/api/apps/callback", "http://127.0.0.1:3000/api/apps/callback"} {
		back := newAgent(t).signIn(authorizeURL(em, challenge, "client_id", "embedlab", "redirect_uri", cb), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
		if back.String()[:len(cb)] != cb || back.Query().Get("code") == "" {
			t.Fatalf("embedlab callback %s: %s", cb, back)
		}
	}
	mine := "http://127.0.0.1:45678/api/apps/callback"
	if r := newAgent(t).open(authorizeURL(em, challenge, "client_id", "embedlab", "redirect_uri", mine)); r.status != http.StatusBadRequest {
		t.Fatalf("unregistered callback: %d", r.status)
	}
	if err := em.AllowRedirectURI("embedlab", mine); err != nil {
		t.Fatal(err)
	}
	if back := newAgent(t).signIn(authorizeURL(em, challenge, "client_id", "embedlab", "redirect_uri", mine), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password); back.Query().Get("code") == "" {
		t.Fatalf("registered callback: %s", back)
	}
	if err := em.AllowRedirectURI("nobody", mine); err == nil {
		t.Fatal("a redirect for an unknown client was accepted")
	}
	if err := em.AllowRedirectURI("embedlab", "not a url"); err == nil {
		t.Fatal("an invalid redirect URI was accepted")
	}
}

func TestDiscoveryListsUserFlow(t *testing.T) {
	em := start(t)
	var md wire.AuthServerMetadata
	get(t, em.URL()+wire.PathOIDCDiscovery, "").json(t, &md)
	for _, g := range []string{"client_credentials", "authorization_code", "refresh_token"} {
		if !slices.Contains(md.GrantTypesSupported, g) {
			t.Errorf("grant types %v lack %s", md.GrantTypesSupported, g)
		}
	}
	for _, s := range []string{"offline_access", "all-apis", "sql"} {
		if !slices.Contains(md.ScopesSupported, s) {
			t.Errorf("scopes %v lack %s", md.ScopesSupported, s)
		}
	}
	if md.AuthorizationEndpoint != em.URL()+"/oidc/v1/authorize" {
		t.Errorf("authorization_endpoint = %s", md.AuthorizationEndpoint)
	}
}

// invalidRefresh is how Databricks refuses a refresh token: the body of
// databricks-sdk-go's own PersistentAuth test, whose error_description its
// u2m code matches exactly to tell the user to sign in again.
var invalidRefresh = wire.OAuthError{Code: "invalid_grant", Description: "Refresh token is invalid"}
