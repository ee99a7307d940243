package main

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/config"
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
			app := startServe(t, c.env)
			b := newBrowser(t)
			res, body := b.do(http.MethodPost, app+api.PathSession, api.LoginRequest{Name: "ada", Password: "ada-demo-pass"})
			if res.StatusCode != 200 {
				t.Fatalf("login: %d %s", res.StatusCode, body)
			}
			cookie := res.Header.Get("Set-Cookie")
			if got := strings.Contains(cookie, "; Secure"); got != c.secure {
				t.Errorf("Set-Cookie %q: Secure %t, want %t", cookie, got, c.secure)
			}
			page, _ := b.do(http.MethodGet, app+"/login", nil)
			if got := page.Header.Get("Strict-Transport-Security") != ""; got != c.secure {
				t.Errorf("HSTS %q, want it %t", page.Header.Get("Strict-Transport-Security"), c.secure)
			}
		})
	}
	cfgApp := secureOrigin(mustConfig(t, map[string]string{"DATABRICKS_APP_NAME": "embedlab", "DATABRICKS_APP_PORT": "8000", "EMBEDLAB_ALLOW_DEMO_USERS": "true"}))
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
