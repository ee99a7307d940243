//go:build !noemulator

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// TestCallSendsTokensOnlyToApps: `embedlab call` keeps the page's rule:
// tokens go to *.databricksapps.com and the emulator's Apps proxy on its own
// port only (issue 16, F6: a listener on evil.localhost:8399 received an
// all-apis token). And its diagnosis tells the truth about what was sent.
func TestCallSendsTokensOnlyToApps(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	sps := em.ServicePrincipals()
	var mu sync.Mutex
	var got []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Redirect(w, r, "/login", http.StatusFound) // as the Apps proxy answers a browser
	}))
	defer evil.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(evil.URL, "http://"))
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": sps[0].ID, "DATABRICKS_CLIENT_SECRET": sps[0].Secret,
		"EMBEDLAB_APPS_PROXY": em.AppsURL()}

	for _, u := range []string{"http://evil.localhost:" + port + "/api/x", "http://sales-api-1.localhost:" + port + "/api/whoami", "http://localhost:" + port + "/api/x"} {
		if _, errs, code := cli(t, env, "call", u); code != exitUsage || !strings.Contains(errs, "only to apps") {
			t.Errorf("%s: exit %d, %s", u, code, errs)
		}
	}
	// Without the setting, only the port after the workspace's (where the
	// emulator puts its proxy by default) is an app domain.
	delete(env, "EMBEDLAB_APPS_PROXY")
	if _, errs, code := cli(t, env, "call", "http://evil.localhost:"+port+"/api/x"); code != exitUsage {
		t.Errorf("default: exit %d, %s", code, errs)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("the listener received %d requests, with Authorization %q", n, got)
	}

	// Named as the Apps proxy on purpose, it gets the call; the diagnosis of
	// its redirect must not claim that no token was sent.
	_, errs, code := cli(t, env, "call", "-apps-proxy", "localhost:"+port, "http://evil.localhost:"+port+"/api/x")
	if code != exitAnswer || strings.Contains(errs, "no bearer token was sent") || !strings.Contains(errs, "A bearer token was sent") {
		t.Errorf("redirect after sending a token: exit %d, %s", code, errs)
	}
	if _, errs, code := cli(t, env, "call", "-apps-proxy", "evil.example.com:80", "http://x.localhost:80/api/x"); code != exitUsage || !strings.Contains(errs, "localhost:PORT") {
		t.Errorf("a non-local Apps proxy: exit %d, %s", code, errs)
	}
}

func TestAppsProxyDomain(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct{ flag, host, want string }{
		{"", "http://127.0.0.1:8000", ".localhost:8001"}, // make run
		{"", "http://localhost:8160", ".localhost:8161"},
		{"", "https://adb-1.2.azuredatabricks.net", ""}, // a real workspace: apps only
		{"", "", ""},
		{"localhost:9001", "https://adb-1.2.azuredatabricks.net", ".localhost:9001"},
		{"http://localhost:9001", "", ".localhost:9001"},
	} {
		if got, err := appsProxyDomain(c.flag, c.host, none); err != nil || got != c.want {
			t.Errorf("appsProxyDomain(%q, %q) = %q, %v; want %q", c.flag, c.host, got, err, c.want)
		}
	}
}

// TestCLIKnowsEverySource: every source the shared table offers to the CLI
// is one the CLI builds (a flag may be missing, but the id is known).
func TestCLIKnowsEverySource(t *testing.T) {
	for _, s := range api.Sources {
		tf := tokenFlags{source: s.ID}
		_, err := tf.build(context.Background(), func(string) string { return "" }, io.Discard)
		known := err == nil || !strings.Contains(err.Error(), "use one of")
		if known != s.CLI {
			t.Errorf("source %s: the table says CLI %t, the CLI knows it: %t (%v)", s.ID, s.CLI, known, err)
		}
	}
}
