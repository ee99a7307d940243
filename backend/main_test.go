//go:build !noemulator

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is written by the command and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serve with no workspace settings starts the emulator and the app, prints
// both URLs, and stops cleanly when its context ends.
func TestServeStartsEmulatorAndApp(t *testing.T) {
	port := freePort(t)
	envs := map[string]string{"PORT": strconv.Itoa(port), "EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return envs[k] }, &out, io.Discard) }()

	urlRE := regexp.MustCompile(`emulator on (http://127\.0\.0\.1:\d+).*\n.*Apps proxy on (http://localhost:\d+).*\n(?:.*identity provider on .*\n)?(?:.*emulator admin key.*\n)?.*app on (http://localhost:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = urlRE.FindStringSubmatch(out.String())
	}
	if m == nil {
		cancel()
		t.Fatalf("both URLs not printed; output:\n%s", out.String())
	}
	if m[3] != "http://localhost:"+strconv.Itoa(port) {
		t.Fatalf("app URL %s, want port %d", m[3], port)
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s of its context ending")
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
