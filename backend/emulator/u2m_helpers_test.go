package emulator_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// agent is a browser without JavaScript, testkit's client: a cookie jar,
// redirects not followed, so each step of a flow can be checked.
type agent struct {
	t *testing.T
	c *http.Client
}

func newAgent(t *testing.T) *agent { return &agent{t, testkit.NewClient(t, "").HTTP} }

func (b *agent) do(req *http.Request) response {
	b.t.Helper()
	return doWith(b.t, b.c, req)
}

// open navigates as a browser does (Accept: text/html).
func (b *agent) open(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return b.do(req)
}

func (b *agent) post(u string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

var hiddenRe = regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]*)"`)

// formFields reads the login page's hidden fields.
func formFields(t *testing.T, page response) url.Values {
	t.Helper()
	if page.status != http.StatusOK && page.status != http.StatusUnauthorized {
		t.Fatalf("login page: %d %s", page.status, page.body)
	}
	f := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(page.body), -1) {
		f.Set(m[1], m[2])
	}
	if f.Get("request_id") == "" || f.Get("csrf_token") == "" {
		t.Fatalf("no hidden fields in the login page: %s", page.body)
	}
	return f
}

// location parses a redirect's target.
func location(t *testing.T, r response) *url.URL {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("want 302, got %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authorizeURL builds an authorization request; kv overrides or, with an
// empty value, removes a parameter.
func authorizeURL(em *emulator.Emulator, challenge string, kv ...string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {testkit.CLIClient}, "redirect_uri": {testkit.CLIRedirect},
		"scope": {"offline_access all-apis"}, "state": {"st-123"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return em.URL() + wire.PathAuthorize + "?" + q.Encode()
}

// signIn opens an authorization URL, signs in and allows; it returns the
// redirect back to the client.
func (b *agent) signIn(authURL, user, password string) *url.URL {
	b.t.Helper()
	page := b.open(authURL)
	f := formFields(b.t, page)
	if user != "" {
		f.Set("username", user)
		f.Set("password", password)
	}
	f.Set("action", "allow")
	return location(b.t, b.post(strings.SplitN(authURL, "?", 2)[0], f))
}

// code runs the browser part of the flow and returns the code.
func (b *agent) code(authURL, user, password string) string {
	b.t.Helper()
	back := b.signIn(authURL, user, password)
	if back.Query().Get("error") != "" || back.Query().Get("code") == "" {
		b.t.Fatalf("no code in the redirect back: %s", back)
	}
	return back.Query().Get("code")
}

// exchange redeems a code at the token endpoint as the CLI does.
func exchange(t *testing.T, em *emulator.Emulator, code, verifier string, kv ...string) response {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {testkit.CLIRedirect}, "client_id": {testkit.CLIClient}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	return postForm(t, em, "", "", form)
}

// userToken runs the whole U2M flow for a user with the given scopes.
func userToken(t *testing.T, em *emulator.Emulator, user, password, scope string) wire.TokenResponse {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	code := newAgent(t).code(authorizeURL(em, oauth2.S256ChallengeFromVerifier(verifier), "scope", scope), user, password)
	r := exchange(t, em, code, verifier)
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tr
}

// oauthErr decodes an OAuth error answer.
func oauthErr(t *testing.T, r response) wire.OAuthError {
	t.Helper()
	var oe wire.OAuthError
	r.json(t, &oe)
	return oe
}
