//go:build !noemulator

package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"embedlab/backend/assemble"
	"embedlab/backend/config"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// TestSecureCookieOverHTTPS: with an https public URL (or inside a
// Databricks App, always HTTPS) the session cookie is Secure and pages send
// HSTS; on plain http://localhost neither (issue 16, F4: never Secure).
func TestSecureCookieOverHTTPS(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		secure bool
	}{
		{"http://localhost", nil, false},
		{"https public URL", map[string]string{"EMBEDLAB_PUBLIC_URL": "https://embedlab.example.com"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, _ := startServe(t, c.env)
			b := testkit.NewClient(t, app)
			r := b.Login(testkit.Ada)
			if r.Status != 200 {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			cookie := r.Header.Get("Set-Cookie")
			if got := strings.Contains(cookie, "; Secure"); got != c.secure {
				t.Errorf("Set-Cookie %q: Secure %t, want %t", cookie, got, c.secure)
			}
			page := b.Do(http.MethodGet, "/login", nil)
			if got := page.Header.Get("Strict-Transport-Security") != ""; got != c.secure {
				t.Errorf("HSTS %q, want it %t", page.Header.Get("Strict-Transport-Security"), c.secure)
			}
		})
	}
	cfgApp := assemble.SecureOrigin(mustConfig(t, map[string]string{"DATABRICKS_APP_NAME": "embedlab", "DATABRICKS_APP_PORT": "8000", "EMBEDLAB_ALLOW_DEMO_USERS": "true"}))
	if !cfgApp {
		t.Error("inside a Databricks App the origin is HTTPS: the cookie must be Secure")
	}
}

func mustConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSignOutSurvivesARestart: with EMBEDLAB_SESSION_KEY set, sessions
// survive a restart of embedlab, and so must sign-outs (issue 16, F3: a
// cookie signed out before the restart was valid after it).
func TestSignOutSurvivesARestart(t *testing.T) {
	env := map[string]string{"EMBEDLAB_SESSION_KEY": strings.Repeat("k", 48), "EMBEDLAB_DATA_DIR": t.TempDir()}
	first, _ := startServe(t, env)
	out, kept := testkit.SignedIn(t, first, testkit.Ada), testkit.SignedIn(t, first, testkit.Ada)
	cookie := func(b *testkit.Client) string {
		u, _ := url.Parse(first)
		return b.HTTP.Jar.Cookies(u)[0].String()
	}
	outCookie, keptCookie := cookie(out), cookie(kept)
	if r := out.Do(http.MethodDelete, api.PathSession, nil); r.Status != 204 {
		t.Fatalf("sign out: %d", r.Status)
	}

	second, _ := startServe(t, env) // the restart: same key, same data folder
	whoami := func(c string) int {
		req, _ := http.NewRequest(http.MethodGet, second+api.PathSession, nil)
		req.Header.Set("Cookie", c)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := whoami(outCookie); st != http.StatusUnauthorized {
		t.Errorf("a cookie signed out before the restart: %d after it, want 401", st)
	}
	if st := whoami(keptCookie); st != http.StatusOK {
		t.Errorf("a session never signed out: %d after the restart, want 200", st)
	}
}
