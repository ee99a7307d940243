//go:build !noemulator

package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

var hiddenRE = regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]*)"`)

func TestCallAnAppThroughTheAPI(t *testing.T) {
	app, _ := startServe(t, nil)
	b := testkit.SignedIn(t, app, testkit.Ada)
	admin := testkit.SignedIn(t, app, testkit.Admin) // has the role server-identities

	var ov api.AppsOverview
	r := b.Do(http.MethodGet, api.PathApps, nil)
	if json.Unmarshal(r.Body, &ov) != nil || len(ov.Apps) < 3 || len(ov.Sources) < 5 || ov.U2M.SignedIn {
		t.Fatalf("overview: %d %s", r.Status, r.Body)
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
		got := b.Do(http.MethodPost, api.PathAppsCall, req)
		var r api.AppCallResult
		if got.Status != 200 || json.Unmarshal(got.Body, &r) != nil {
			t.Fatalf("call %+v: %d %s", req, got.Status, got.Body)
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
	nobody := testkit.SignedIn(t, app, testkit.Nobody)
	for _, who := range []*testkit.Client{b, nobody} {
		for _, src := range []string{api.SourceM2M, api.SourceNoAccess, api.SourceProfile} {
			r := who.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: src, Profile: "DEFAULT", URL: urls["sales-api"] + "/api/sales?region=APAC"})
			if r.Status != 403 || !strings.Contains(string(r.Body), `"role_required"`) || !strings.Contains(string(r.Body), "needs the role server-identities") {
				t.Fatalf("%s without the role: %d %s", src, r.Status, r.Body)
			}
		}
	}
	for _, s := range ov.Sources {
		if s.ID == api.SourceM2M && (s.Available || !strings.Contains(s.Problem, "server-identities")) {
			t.Fatalf("ada's overview offers m2m: %+v", s)
		}
	}
	// CLI profile input errors are the caller's: 400, not 502 (issue 16, F8; issue 14).
	r = admin.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, URL: urls["sales-api"] + "/api/whoami"})
	if r.Status != 400 || !strings.Contains(string(r.Body), "no profile named") || strings.Contains(string(r.Body), "letters, digits") {
		t.Fatalf("empty profile name: %d %s", r.Status, r.Body)
	}
	r = admin.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, Profile: "DEFAULT", URL: urls["sales-api"] + "/api/whoami"})
	if r.Status != 400 || !strings.Contains(string(r.Body), `"token_source_input"`) {
		t.Fatalf("no profile file: %d %s", r.Status, r.Body)
	}
	// A scope the workspace does not know is the user's input too.
	r = b.Do(http.MethodPost, api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis", "sql\"<x>"}})
	if r.Status != 400 {
		t.Fatalf("bad U2M scope: %d %s", r.Status, r.Body)
	}

	// A URL off the app domains is refused before any token is fetched.
	r = admin.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: "http://example.com/api/x"})
	if r.Status != 400 || !strings.Contains(string(r.Body), "embedlab sends tokens only to apps") {
		t.Fatalf("foreign URL: %d %s", r.Status, r.Body)
	}
	r = b.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceU2M, URL: urls["sales-sql"] + "/api/whoami"})
	if r.Status != 409 || !strings.Contains(string(r.Body), "sign in") {
		t.Fatalf("u2m before sign-in: %d %s", r.Status, r.Body)
	}
	r = admin.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceProfile, Profile: "../etc", URL: urls["sales-api"] + "/api/whoami"})
	if r.Status != 400 {
		t.Fatalf("bad profile name: %d %s", r.Status, r.Body)
	}

	// U2M with the sql scope: the workspace's login page, back to embedlab's callback.
	var lr api.AppsLoginResponse
	r = b.Do(http.MethodPost, api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis", "sql"}})
	if r.Status != 200 || json.Unmarshal(r.Body, &lr) != nil {
		t.Fatalf("u2m start: %d %s", r.Status, r.Body)
	}
	page := b.Do(http.MethodGet, lr.AuthorizationURL, nil).Body
	f := url.Values{"username": {testkit.WorkspaceAda.Email}, "password": {testkit.WorkspaceAda.Password}, "action": {"allow"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(page), -1) {
		f.Set(m[1], m[2])
	}
	res2, err := b.HTTP.PostForm(strings.SplitN(lr.AuthorizationURL, "?", 2)[0], f)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	cb := res2.Header.Get("Location")
	if !strings.HasPrefix(cb, app+api.PathAppsCallback) {
		t.Fatalf("the workspace sent the browser to %q", cb)
	}
	r = b.Do(http.MethodGet, cb, nil)
	if loc := r.Header.Get("Location"); r.Status != 302 || loc != "/call-app?u2m=signed-in" {
		t.Fatalf("callback: %d -> %s", r.Status, loc)
	}
	// The state is single use.
	r = b.Do(http.MethodGet, cb, nil)
	if loc := r.Header.Get("Location"); loc != "/call-app?u2m_error="+api.U2MErrorSignInExpired {
		t.Fatalf("callback replayed: -> %s", loc)
	}
	// A callback's error comes back as a known code only, never its text (F7).
	r = b.Do(http.MethodGet, api.PathAppsCallback+"?error=access_denied&error_description=Call+%2B1-555-PHISH+now", nil)
	if loc := r.Header.Get("Location"); loc != "/call-app?u2m_error=access_denied" {
		t.Fatalf("callback error: -> %s", loc)
	}
	if r := call(api.AppCallRequest{Source: api.SourceU2M, URL: urls["sales-sql"] + "/api/whoami"}); r.Status != 200 || !strings.Contains(r.Claims.Scope, "sql") {
		t.Fatalf("u2m with sql: %+v", r)
	}
	r = b.Do(http.MethodGet, api.PathApps, nil)
	_ = json.Unmarshal(r.Body, &ov)
	if !ov.U2M.SignedIn || !strings.Contains(strings.Join(ov.U2M.Scopes, " "), "sql") {
		t.Fatalf("overview after sign-in: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "refresh_token") {
		t.Fatal("the overview mentions a refresh token")
	}

	// Sign out everywhere: ada's other session ends, and the workspace token
	// embedlab held for her is dropped; nothing of hers outlives it.
	other := testkit.SignedIn(t, app, testkit.Ada)
	if r := b.Do(http.MethodDelete, api.PathSession+"?everywhere=true", nil); r.Status != 204 {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Body)
	}
	if r := other.Do(http.MethodGet, api.PathApps, nil); r.Status != 401 || !strings.Contains(string(r.Body), "everywhere") {
		t.Fatalf("ada's other session after signing out everywhere: %d %s", r.Status, r.Body)
	}
	again := testkit.SignedIn(t, app, testkit.Ada)
	r = again.Do(http.MethodGet, api.PathApps, nil)
	if err := json.Unmarshal(r.Body, &ov); err != nil || ov.U2M.SignedIn {
		t.Fatalf("ada's U2M token outlived signing out everywhere: %s", r.Body)
	}
}

// As a Databricks App: the runtime's variables, listening on all
// interfaces at DATABRICKS_APP_PORT, the app's own service principal for
// app-to-app calls, and no CLI profiles; the workspace here is an emulator
// treated as a real one.
func TestServeAsADatabricksApp(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	port := strconv.Itoa(freePort(t))
	_, out := startServe(t, map[string]string{
		"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": testkit.EmbedderID, "DATABRICKS_CLIENT_SECRET": testkit.EmbedderSecret,
		"WORKSPACE_ID": em.WorkspaceID(), "DASHBOARD_ID": testkit.DashboardID,
		"DATABRICKS_APP_NAME": "embedlab", "DATABRICKS_APP_PORT": port, "EMBEDLAB_ALLOW_DEMO_USERS": "true",
	})
	app := "http://127.0.0.1:" + port // it listens on all interfaces
	if strings.Contains(out.String(), "emulator on") {
		t.Fatal("an emulator was started although a workspace is configured")
	}
	b := testkit.SignedIn(t, app, testkit.Ada)
	if r := b.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil); r.Status != 200 {
		t.Fatalf("embed token from the configured workspace: %d %s", r.Status, r.Body)
	}
	var ov api.AppsOverview
	b = testkit.SignedIn(t, app, testkit.Admin) // the server's identities need the role server-identities
	r := b.Do(http.MethodGet, api.PathApps, nil)
	if json.Unmarshal(r.Body, &ov) != nil {
		t.Fatalf("overview: %s", r.Body)
	}
	avail := map[string]bool{}
	for _, src := range ov.Sources {
		avail[src.ID] = src.Available
	}
	if !avail[api.SourceAppToApp] || avail[api.SourceProfile] || !avail[api.SourceM2M] || ov.AppDomains[0] != ".databricksapps.com" {
		t.Fatalf("sources in an app: %s", r.Body)
	}
}
