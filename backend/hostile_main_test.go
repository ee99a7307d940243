package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The app's server, as serve configures it, refuses request headers larger
// than its 32 KB limit with 431 (a huge cookie or any other header), and
// serves normal requests before and after. (The emulator's own 16 KB limit
// is tested in backend/emulator; bodies in backend/server.)
func TestOversizedHeadersAreRefused(t *testing.T) {
	port := freePort(t)
	envs := map[string]string{"PORT": strconv.Itoa(port), "EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0"}
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
	appRE := regexp.MustCompile(`app on (http://localhost:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = appRE.FindStringSubmatch(out.String())
	}
	if m == nil {
		t.Fatalf("the app's URL was not printed:\n%s", out.String())
	}
	health := m[1] + "/api/health"

	send := func(name, value string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, health, nil)
		if name != "" {
			req.Header.Set(name, value)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s header of %d bytes: %v", name, len(value), err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if s := send("", ""); s != http.StatusOK {
		t.Fatalf("health: %d", s)
	}
	if s := send("X-Pad", strings.Repeat("a", 16<<10)); s != http.StatusOK {
		t.Fatalf("a 16 KB header: %d, want it served", s)
	}
	for _, h := range []string{"X-Pad", "Cookie", "X-CSRF-Token"} {
		if s := send(h, strings.Repeat("a", 48<<10)); s != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 48 KB %s header: %d, want 431", h, s)
		}
	}
	if s := send("", ""); s != http.StatusOK {
		t.Fatalf("health after the refusals: %d", s)
	}
}
