package apps_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"embedlab/backend/apps"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// callback is the app's U2M callback, which start registers.
const callback = "http://127.0.0.1:39999/api/apps/callback"

func start(t *testing.T) *emulator.Emulator {
	t.Helper()
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	if err := em.AllowRedirectURI("embedlab", callback); err != nil {
		t.Fatal(err)
	}
	return em
}

// caller may call the emulator's apps, as the server configures it.
func caller(em *emulator.Emulator) *apps.Caller {
	u, _ := url.Parse(em.AppsURL())
	return &apps.Caller{Domains: []string{".localhost:" + u.Port()}}
}

func m2m(t *testing.T, em *emulator.Emulator, id, secret string) apps.Source {
	t.Helper()
	s, err := apps.NewM2M(context.Background(), em.URL(), id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func call(t *testing.T, c *apps.Caller, src apps.Source, u string) *apps.Result {
	t.Helper()
	r, err := c.Call(context.Background(), src, apps.Request{URL: u})
	if err != nil {
		t.Fatalf("call %s: %v", u, err)
	}
	return r
}

func TestM2MCallsAndEachFailureRow(t *testing.T) {
	em := start(t)
	c := caller(em)
	sp := m2m(t, em, testkit.EmbedderID, testkit.EmbedderSecret)

	r := call(t, c, sp, em.AppURL("sales-api")+"/api/whoami")
	if r.Status != 200 || !r.Diagnosis.OK || r.Source != api.SourceM2M || r.Claims == nil || r.Claims.Subject != testkit.EmbedderID {
		t.Fatalf("whoami: %d %+v %s", r.Status, r.Diagnosis, r.Body)
	}
	if strings.Contains(r.Body, "eyJ") {
		t.Fatalf("a token came back in the body: %s", r.Body)
	}

	for _, tc := range []struct {
		name   string
		src    apps.Source
		url    string
		status int
		reason string
		want   string
	}{
		{"no CAN USE", m2m(t, em, testkit.NoAccessID, testkit.NoAccessSecret), em.AppURL("sales-api") + "/api/whoami", 403, wire.AppsReasonNoCanUse, "CAN USE"},
		{"stopped app", sp, em.AppURL("sales-archive") + "/api/whoami", 404, wire.AppsReasonAppStopped, "stopped"},
		{"unknown app", sp, em.AppURL("no-such-app") + "/api/whoami", 404, wire.AppsReasonAppNotFound, "No app is served"},
		{"not under /api/", sp, em.AppURL("sales-api") + "/index.html", 404, "", "/api/"},
		{"no token", nil, em.AppURL("sales-api") + "/api/whoami", 401, wire.AppsReasonTokenMissing, "No bearer token"},
	} {
		r := call(t, c, tc.src, tc.url)
		if r.Status != tc.status || r.Diagnosis.OK || (tc.reason != "" && r.Diagnosis.Reason != tc.reason) ||
			!strings.Contains(r.Diagnosis.Cause+" "+r.Diagnosis.Fix, tc.want) || r.Diagnosis.Fix == "" {
			t.Errorf("%s: %d %+v", tc.name, r.Status, r.Diagnosis)
		}
	}
}

func TestTokensGoOnlyToApps(t *testing.T) {
	em := start(t)
	c := caller(em)
	for _, u := range []string{em.URL() + "/api/2.0/clusters/list", "http://example.com/api/x", "https://evil.databricksapps.com.example.com/api/",
		"ftp://sales-api-1.localhost/api", "not a url", "http://user:pw@sales-api-1.localhost:1/api/"} {
		if _, err := c.Call(context.Background(), m2m(t, em, testkit.EmbedderID, testkit.EmbedderSecret), apps.Request{URL: u}); err == nil {
			t.Errorf("%s: a token was sent", u)
		}
	}
	real := &apps.Caller{}
	if _, err := real.CheckURL("https://sales-api-123.aws.databricksapps.com/api/x"); err != nil {
		t.Errorf("a real app URL is refused: %v", err)
	}
	if _, err := real.CheckURL("http://sales-api-123.aws.databricksapps.com/api/x"); err == nil {
		t.Error("plain http to a real app is allowed")
	}
}

var hiddenRe = regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]*)"`)

// signIn drives the emulator's login and consent page as a browser without
// JavaScript would, and returns where it sends the browser back to.
func signIn(t *testing.T, authURL, user, password string) *url.URL {
	t.Helper()
	hc := testkit.NewClient(t, "").HTTP
	res, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	f := url.Values{"username": {user}, "password": {password}, "action": {"allow"}}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(page), -1) {
		f.Set(m[1], m[2])
	}
	res, err = hc.PostForm(strings.SplitN(authURL, "?", 2)[0], f)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("sign-in: %d %s", res.StatusCode, page)
	}
	return back
}

func u2mLogin(t *testing.T, em *emulator.Emulator, u *apps.U2M, user string, scopes ...string) {
	t.Helper()
	authURL, err := u.Start(user, scopes, "")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(authURL)
	if q.Query().Get("code_challenge_method") != "S256" || !strings.Contains(q.Query().Get("scope"), "offline_access") {
		t.Fatalf("authorization URL %s", authURL)
	}
	back := signIn(t, authURL, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
	if back.Query().Get("error") != "" {
		t.Fatalf("sign-in refused: %s", back)
	}
	if err := u.Finish(context.Background(), user, back.Query().Get("state"), back.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
}

func TestU2MWithCustomScopes(t *testing.T) {
	em := start(t)
	c := caller(em)
	u, err := apps.NewU2M(context.Background(), em.URL(), "embedlab", callback)
	if err != nil {
		t.Fatal(err)
	}
	// all-apis only: the app with user authorization refuses it, and says which scope to ask for.
	u2mLogin(t, em, u, "ada", "all-apis")
	src, ok := u.Source("ada")
	if !ok {
		t.Fatal("no source after the sign-in")
	}
	r := call(t, c, src, em.AppURL("sales-sql")+"/api/whoami")
	if r.Status != 401 || r.Diagnosis.Reason != wire.AppsReasonMissingAppScopes || !strings.Contains(r.Diagnosis.Fix, "Request sql") {
		t.Fatalf("all-apis against sales-sql: %d %+v", r.Status, r.Diagnosis)
	}
	// With sql picked in the authorization step it works, and the app gets the user's identity.
	u2mLogin(t, em, u, "ada", "all-apis", "sql")
	src, _ = u.Source("ada")
	r = call(t, c, src, em.AppURL("sales-sql")+"/api/whoami")
	if r.Status != 200 || !strings.Contains(r.Claims.Scope, "sql") || !strings.Contains(r.Body, "ada@example.com") {
		t.Fatalf("with sql: %d %+v %s", r.Status, r.Diagnosis, r.Body)
	}
	// Another embedlab user has no token, and cannot finish ada's sign-in.
	if _, ok := u.Source("grace"); ok {
		t.Fatal("grace has ada's token")
	}
	authURL, _ := u.Start("ada", nil, "")
	back := signIn(t, authURL, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
	if err := u.Finish(context.Background(), "grace", back.Query().Get("state"), back.Query().Get("code")); err == nil {
		t.Fatal("grace finished ada's sign-in")
	}
	if err := u.Finish(context.Background(), "ada", "made-up-state", "x"); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}

func TestU2MRefreshesBeforeExpiry(t *testing.T) {
	em := start(t)
	// Shorter than the 5 minutes embedlab renews early: every call refreshes.
	if err := em.SetTokenLifetime(200 * time.Second); err != nil {
		t.Fatal(err)
	}
	u, err := apps.NewU2M(context.Background(), em.URL(), "embedlab", callback)
	if err != nil {
		t.Fatal(err)
	}
	u2mLogin(t, em, u, "ada", "all-apis")
	src, _ := u.Source("ada")
	t1, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t2, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if t1.AccessToken == t2.AccessToken {
		t.Fatal("a token within 5 minutes of expiry was not renewed")
	}
	refreshes := 0
	for _, r := range em.Requests(0) {
		if r.Path == wire.PathToken && r.Status == 200 {
			refreshes++
		}
	}
	if refreshes < 2 {
		t.Fatalf("%d token calls, want the code exchange and a refresh", refreshes)
	}
}

func TestProfiles(t *testing.T) {
	em := start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "databrickscfg")
	body := "[DEFAULT]\nhost = " + em.URL() + "\n\n[sp]\nclient_id = " + testkit.EmbedderID + "\nclient_secret = " + testkit.EmbedderSecret +
		"\n\n[pat]\ntoken = dapi0000\n\n[user]\nauth_type = databricks-cli\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := apps.ReadProfile(cfg, "sp")
	if err != nil {
		t.Fatal(err)
	}
	src, err := apps.NewProfile(context.Background(), p, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, caller(em), src, em.AppURL("sales-api")+"/api/whoami"); r.Status != 200 {
		t.Fatalf("profile sp: %d %+v", r.Status, r.Diagnosis)
	}
	for name, want := range map[string]string{"pat": "personal access token", "user": "databricks command is not installed"} {
		p, err := apps.ReadProfile(cfg, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := apps.NewProfile(context.Background(), p, ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("profile %s: err = %v", name, err)
		}
	}
	if _, err := apps.ReadProfile(cfg, "nope"); err == nil || !strings.Contains(err.Error(), "it has DEFAULT, sp, pat, user") {
		t.Errorf("missing profile: %v", err)
	}

	// With the CLI installed, its `auth token` answer is used: a stand-in
	// CLI that prints a token the emulator issued.
	tok, err := m2m(t, em, testkit.EmbedderID, testkit.EmbedderSecret).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(dir, "databricks")
	script := "#!/bin/sh\n[ \"$1 $2 $3 $4\" = \"auth token --profile user\" ] || { echo \"unexpected: $*\" >&2; exit 1; }\n" +
		"echo '{\"access_token\":\"" + tok.AccessToken + "\",\"token_type\":\"Bearer\",\"expiry\":\"" + tok.Expiry.Format(time.RFC3339) + "\"}'\n"
	if err := os.WriteFile(cli, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	p, _ = apps.ReadProfile(cfg, "user")
	src, err = apps.NewProfile(context.Background(), p, cli)
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, caller(em), src, em.AppURL("sales-api")+"/api/whoami"); r.Status != 200 || r.Source != api.SourceProfile {
		t.Fatalf("profile via the CLI: %d %+v", r.Status, r.Diagnosis)
	}
	p.Name = "other"
	src, _ = apps.NewProfile(context.Background(), p, cli)
	_, err = src.Token(context.Background())
	var se *apps.SourceError
	if !errors.As(err, &se) || !strings.Contains(se.Fix, "databricks auth login --profile other") || !strings.Contains(se.Message, "unexpected") {
		t.Errorf("failing CLI: %v", err)
	}
}

func TestAppToAppNeedsTheRuntime(t *testing.T) {
	em := start(t)
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": testkit.EmbedderID, "DATABRICKS_CLIENT_SECRET": testkit.EmbedderSecret}
	if _, err := apps.NewAppToApp(context.Background(), func(k string) string { return env[k] }); err == nil {
		t.Fatal("app to app outside an app")
	}
	env["DATABRICKS_APP_NAME"] = "caller-app"
	src, err := apps.NewAppToApp(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, caller(em), src, em.AppURL("sales-api")+"/api/whoami"); r.Status != 200 || r.Source != api.SourceAppToApp {
		t.Fatalf("app to app: %d %+v", r.Status, r.Diagnosis)
	}
	env["DATABRICKS_CLIENT_SECRET"] = "wrong"
	src, _ = apps.NewAppToApp(context.Background(), func(k string) string { return env[k] })
	if _, err := src.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
}
