//go:build !noemulator

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"embedlab/backend/apps"
	"embedlab/shared/api"
)

// browser is a cookie-keeping client that does not follow redirects, so
// each hop of the sign-in can be checked; *.localhost goes to loopback.
type browser struct {
	t    *testing.T
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Transport: apps.LocalhostTransport(), Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn is a browser signed in to the app at app as user, holding the
// session's CSRF token.
func signedIn(t *testing.T, app, user, password string) *browser {
	t.Helper()
	b := newBrowser(t)
	res, body := b.do(http.MethodPost, app+api.PathSession, api.LoginRequest{Name: user, Password: password})
	var s api.Session
	if res.StatusCode != 200 || json.Unmarshal(body, &s) != nil {
		t.Fatalf("login %s: %d %s", user, res.StatusCode, body)
	}
	b.csrf = s.CSRFToken
	return b
}

func (b *browser) do(method, u string, body any) (*http.Response, []byte) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, u, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.csrf != "" {
		req.Header.Set(api.HeaderCSRF, b.csrf)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, out
}

// startServe runs `embedlab serve` with the emulator and returns the app's URL.
func startServe(t *testing.T, extra map[string]string) string {
	t.Helper()
	port := freePort(t)
	envs := map[string]string{"PORT": strconv.Itoa(port), "EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0",
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "databrickscfg")}
	for k, v := range extra {
		envs[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return envs[k] }, &out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	app := "http://localhost:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "app on "+app); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
	}
	return app
}

var hiddenRE = regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]*)"`)

func TestCallAnAppThroughTheAPI(t *testing.T) {
	app := startServe(t, nil)
	b := signedIn(t, app, "ada", "ada-demo-pass")
	admin := signedIn(t, app, "admin", "admin-demo-pass") // has the role server-identities

	var ov api.AppsOverview
	res, body := b.do(http.MethodGet, app+api.PathApps, nil)
	if json.Unmarshal(body, &ov) != nil || len(ov.Apps) < 3 || len(ov.Sources) < 5 || ov.U2M.SignedIn {
		t.Fatalf("overview: %d %s", res.StatusCode, body)
	}
	urls := map[string]string{}
	for _, a := range ov.Apps {
		urls[a.Name] = a.URL
	}

	call := func(req api.AppCallRequest) api.AppCallResult {
		t.Helper()
		b := b
		if req.Source != api.SourceU2M && req.Source != api.SourceNone {
			b = admin
		}
		res, body := b.do(http.MethodPost, app+api.PathAppsCall, req)
		var r api.AppCallResult
		if res.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
			t.Fatalf("call %+v: %d %s", req, res.StatusCode, body)
		}
		return r
	}
	if r := call(api.AppCallRequest{Source: api.SourceM2M, URL: urls["sales-api"] + "/api/whoami"}); r.Status != 200 || !r.Diagnosis.OK || r.Claims == nil {
		t.Fatalf("m2m: %+v", r)
	}
	if r := call(api.AppCallRequest{Source: api.SourceNoAccess, URL: urls["sales-api"] + "/api/whoami"}); r.Status != 403 || !strings.Contains(r.Diagnosis.Cause, "CAN USE") {
		t.Fatalf("no access: %+v", r.Diagnosis)
	}
	if r := call(api.AppCallRequest{Source: api.SourceNone, URL: urls["sales-api"] + "/api/whoami"}); r.Status != 401 {
		t.Fatalf("no token: %+v", r)
	}
	// The server's identities need a role the users file grants (issue 16, F2):
	// ada and nobody are refused, the refusal names the role; the page lists
	// the sources greyed out with the same words.
	nobody := signedIn(t, app, "nobody", "nobody-demo-pass")
	for _, who := range []*browser{b, nobody} {
		for _, src := range []string{api.SourceM2M, api.SourceNoAccess, api.SourceProfile} {
			res, body := who.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: src, Profile: "DEFAULT", URL: urls["sales-api"] + "/api/sales?region=APAC"})
			if res.StatusCode != 403 || !strings.Contains(string(body), `"role_required"`) || !strings.Contains(string(body), "needs the role server-identities") {
				t.Fatalf("%s without the role: %d %s", src, res.StatusCode, body)
			}
		}
	}
	for _, s := range ov.Sources {
		if s.ID == api.SourceM2M && (s.Available || !strings.Contains(s.Problem, "server-identities")) {
			t.Fatalf("ada's overview offers m2m: %+v", s)
		}
	}
	// CLI profile input errors are the caller's: 400, not 502 (issue 16, F8; issue 14).
	res, body = admin.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, URL: urls["sales-api"] + "/api/whoami"})
	if res.StatusCode != 400 || !strings.Contains(string(body), "no profile named") || strings.Contains(string(body), "letters, digits") {
		t.Fatalf("empty profile name: %d %s", res.StatusCode, body)
	}
	res, body = admin.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, Profile: "DEFAULT", URL: urls["sales-api"] + "/api/whoami"})
	if res.StatusCode != 400 || !strings.Contains(string(body), `"token_source_input"`) {
		t.Fatalf("no profile file: %d %s", res.StatusCode, body)
	}
	// A scope the workspace does not know is the user's input too.
	res, body = b.do(http.MethodPost, app+api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis", "sql\"<x>"}})
	if res.StatusCode != 400 {
		t.Fatalf("bad U2M scope: %d %s", res.StatusCode, body)
	}

	// A URL off the app domains is refused before any token is fetched.
	res, body = admin.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: "http://example.com/api/x"})
	if res.StatusCode != 400 || !strings.Contains(string(body), "embedlab sends tokens only to apps") {
		t.Fatalf("foreign URL: %d %s", res.StatusCode, body)
	}
	res, body = b.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceU2M, URL: urls["sales-sql"] + "/api/whoami"})
	if res.StatusCode != 409 || !strings.Contains(string(body), "sign in") {
		t.Fatalf("u2m before sign-in: %d %s", res.StatusCode, body)
	}
	res, body = admin.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, Profile: "../etc", URL: urls["sales-api"] + "/api/whoami"})
	if res.StatusCode != 400 {
		t.Fatalf("bad profile name: %d %s", res.StatusCode, body)
	}

	// U2M with the sql scope: the workspace's login page, back to embedlab's callback.
	var lr api.AppsLoginResponse
	res, body = b.do(http.MethodPost, app+api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis", "sql"}})
	if res.StatusCode != 200 || json.Unmarshal(body, &lr) != nil {
		t.Fatalf("u2m start: %d %s", res.StatusCode, body)
	}
	_, page := b.do(http.MethodGet, lr.AuthorizationURL, nil)
	f := url.Values{"username": {"ada@example.com"}, "password": {"ada-demo-pass"}, "action": {"allow"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(page), -1) {
		f.Set(m[1], m[2])
	}
	res2, err := b.c.PostForm(strings.SplitN(lr.AuthorizationURL, "?", 2)[0], f)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	cb := res2.Header.Get("Location")
	if !strings.HasPrefix(cb, app+api.PathAppsCallback) {
		t.Fatalf("the workspace sent the browser to %q", cb)
	}
	res, _ = b.do(http.MethodGet, cb, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != 302 || loc != "/call-app?u2m=signed-in" {
		t.Fatalf("callback: %d -> %s", res.StatusCode, loc)
	}
	// The state is single use.
	res, _ = b.do(http.MethodGet, cb, nil)
	if loc := res.Header.Get("Location"); loc != "/call-app?u2m_error="+api.U2MErrorSignInExpired {
		t.Fatalf("callback replayed: -> %s", loc)
	}
	// A callback's error comes back as a known code only, never its text (F7).
	res, _ = b.do(http.MethodGet, app+api.PathAppsCallback+"?error=access_denied&error_description=Call+%2B1-555-PHISH+now", nil)
	if loc := res.Header.Get("Location"); loc != "/call-app?u2m_error=access_denied" {
		t.Fatalf("callback error: -> %s", loc)
	}
	if r := call(api.AppCallRequest{Source: api.SourceU2M, URL: urls["sales-sql"] + "/api/whoami"}); r.Status != 200 || !strings.Contains(r.Claims.Scope, "sql") {
		t.Fatalf("u2m with sql: %+v", r)
	}
	res, body = b.do(http.MethodGet, app+api.PathApps, nil)
	_ = json.Unmarshal(body, &ov)
	if !ov.U2M.SignedIn || !strings.Contains(strings.Join(ov.U2M.Scopes, " "), "sql") {
		t.Fatalf("overview after sign-in: %s", body)
	}
	if strings.Contains(string(body), "refresh_token") {
		t.Fatal("the overview mentions a refresh token")
	}

	// Sign out everywhere: ada's other session ends, and the workspace token
	// embedlab held for her is dropped; nothing of hers outlives it.
	other := signedIn(t, app, "ada", "ada-demo-pass")
	if res, body := b.do(http.MethodDelete, app+api.PathSession+"?everywhere=true", nil); res.StatusCode != 204 {
		t.Fatalf("sign out everywhere: %d %s", res.StatusCode, body)
	}
	if res, body := other.do(http.MethodGet, app+api.PathApps, nil); res.StatusCode != 401 || !strings.Contains(string(body), "everywhere") {
		t.Fatalf("ada's other session after signing out everywhere: %d %s", res.StatusCode, body)
	}
	again := signedIn(t, app, "ada", "ada-demo-pass")
	_, body = again.do(http.MethodGet, app+api.PathApps, nil)
	if err := json.Unmarshal(body, &ov); err != nil || ov.U2M.SignedIn {
		t.Fatalf("ada's U2M token outlived signing out everywhere: %s", body)
	}
}

// As a Databricks App: the runtime's variables, listening on all
// interfaces at DATABRICKS_APP_PORT, the app's own service principal for
// app-to-app calls, and no CLI profiles; the workspace here is an emulator
// treated as a real one.
func TestServeAsADatabricksApp(t *testing.T) {
	em := startEmulatorWithApps(t)
	dash, id, secret, err := em.Embedding()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	envs := map[string]string{
		"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": id, "DATABRICKS_CLIENT_SECRET": secret,
		"WORKSPACE_ID": em.WorkspaceID(), "DASHBOARD_ID": dash,
		"DATABRICKS_APP_NAME": "embedlab", "DATABRICKS_APP_PORT": strconv.Itoa(port), "EMBEDLAB_ALLOW_DEMO_USERS": "true",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return envs[k] }, &out, io.Discard) }()
	defer func() {
		cancel()
		<-done
	}()
	app := "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "app on"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
	}
	if strings.Contains(out.String(), "emulator on") {
		t.Fatal("an emulator was started although a workspace is configured")
	}
	b := signedIn(t, app, "ada", "ada-demo-pass")
	res, body := b.do(http.MethodGet, app+api.PathEmbedToken+"?viewer=viewer-emea", nil)
	if res.StatusCode != 200 {
		t.Fatalf("embed token from the configured workspace: %d %s", res.StatusCode, body)
	}
	var ov api.AppsOverview
	b = signedIn(t, app, "admin", "admin-demo-pass") // the server's identities need the role server-identities
	_, body = b.do(http.MethodGet, app+api.PathApps, nil)
	if json.Unmarshal(body, &ov) != nil {
		t.Fatalf("overview: %s", body)
	}
	avail := map[string]bool{}
	for _, src := range ov.Sources {
		avail[src.ID] = src.Available
	}
	if !avail[api.SourceAppToApp] || avail[api.SourceProfile] || !avail[api.SourceM2M] || ov.AppDomains[0] != ".databricksapps.com" {
		t.Fatalf("sources in an app: %s", body)
	}
}
