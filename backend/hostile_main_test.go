//go:build !noemulator

package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The app's server, as serve configures it, refuses request headers larger
// than its 32 KB limit with 431 (a huge cookie or any other header), and
// serves normal requests before and after. (The emulator's own 16 KB limit
// is tested in backend/emulator; bodies in backend/server.)
func TestOversizedHeadersAreRefused(t *testing.T) {
	app, _ := startServe(t, nil)
	health := app + "/api/health"

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
