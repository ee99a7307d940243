//go:build !noemulator

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"embedlab/backend/testkit"
)

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServe runs `embedlab serve` through run, as main does, with env
// over these defaults: a free PORT, the emulator on 127.0.0.1:0 (on the
// room's address with EMBEDLAB_ROOM_HOST), a temporary data folder and no
// CLI profiles. It waits for the app's start-up line and returns the app's
// URL and what serve printed. When the test ends serve's context ends, and
// serve must then stop, without an error, within 15 s.
func startServe(t *testing.T, env map[string]string) (string, *testkit.Buffer) {
	t.Helper()
	host := "localhost"
	if h := env["EMBEDLAB_ROOM_HOST"]; h != "" {
		ln, err := net.Listen("tcp", h+":0")
		if err != nil {
			t.Skipf("this machine has no %s loopback alias: %v", h, err)
		}
		ln.Close()
		host = h
	}
	port := strconv.Itoa(freePort(t))
	vars := map[string]string{"PORT": port, "EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0", "EMBEDLAB_DATA_DIR": t.TempDir(),
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "databrickscfg")}
	if host != "localhost" {
		vars["EMBEDLAB_EMULATOR_ADDR"] = host + ":0"
	}
	for k, v := range env {
		vars[k] = v
	}
	if p := vars["DATABRICKS_APP_PORT"]; p != "" {
		port = p // a Databricks App listens where the runtime says
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s of its context ending")
		}
	})
	app := "http://" + host + ":" + port
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "app on "+app); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start on %s:\n%s", app, out.String())
		}
	}
	return app, out
}

// serve with no workspace settings starts the emulator and the app, prints
// both URLs, and stops cleanly when its context ends (startServe's clean-up
// checks that).
func TestServeStartsEmulatorAndApp(t *testing.T) {
	app, out := startServe(t, nil)
	urlRE := regexp.MustCompile(`emulator on (http://127\.0\.0\.1:\d+).*\n.*Apps proxy on (http://localhost:\d+).*\n(?:.*identity provider on .*\n)?(?:.*emulator admin key.*\n)?.*app on (http://localhost:\d+)`)
	m := urlRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("both URLs not printed; output:\n%s", out.String())
	}
	if m[3] != app {
		t.Fatalf("app URL %s, want %s", m[3], app)
	}
	for _, u := range []string{m[1] + "/oidc/.well-known/oauth-authorization-server", m[3] + "/api/health", m[3] + "/", m[3] + "/api/embed-settings"} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", u, res.StatusCode)
		}
		if strings.HasSuffix(u, "/") && !strings.Contains(string(body), "/app.js") {
			t.Fatalf("/ is not the go-app page: %.200s", body)
		}
		if strings.HasSuffix(u, "/embed-settings") && !strings.Contains(string(body), `"instance_url":"`+m[1]+`"`) {
			t.Fatalf("embed settings do not name the emulator %s: %s", m[1], body)
		}
	}
}

func TestBadConfigurationStopsTheStart(t *testing.T) {
	envs := map[string]string{"INSTANCE_URL": "https://x.example.com", "PORT": "0x"}
	err := run(context.Background(), nil, func(k string) string { return envs[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "WORKSPACE_ID is not set") || !strings.Contains(err.Error(), `PORT="0x"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmulatorCommandRefusesBrokenState(t *testing.T) {
	err := run(context.Background(), []string{"emulator", "-state", "/nonexistent/state.json"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/state.json") {
		t.Fatalf("err = %v", err)
	}
}
