package session

import (
	"crypto/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSignOutOutlivesTraffic: after 10,040 other sign-outs, ada's signed-out
// cookie is still refused (issue 16, F3: a 10,000-entry list evicted it), and
// what is remembered stays bounded.
func TestSignOutOutlivesTraffic(t *testing.T) {
	t.Parallel()
	m, clk := newManager(t)
	ada := login(t, m, "ada", "ada-demo-pass")
	adaTok := cookieOf(t, m, ada)
	m.Logout(httptest.NewRecorder(), requestWith(m, adaTok), false)

	clk.Add(time.Minute) // the others expire after ada's: the old list evicted hers first
	grace := login(t, m, "grace", "grace-demo-pass")
	for range 10040 {
		s := grace
		s.ID = rand.Text()
		if _, err := m.Logout(httptest.NewRecorder(), requestWith(m, cookieOf(t, m, s)), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.FromRequest(requestWith(m, adaTok)); err == nil {
		t.Fatal("ada's signed-out cookie is valid again after 10,040 other sign-outs")
	}
	if n := m.revoked.size(); n > maxRevokedPerUser*len(m.users.list) {
		t.Errorf("%d signed-out sessions remembered; the bound is %d per user", n, maxRevokedPerUser)
	}
	// Past its bound, grace was signed out everywhere: her sessions all end.
	if _, err := m.FromRequest(requestWith(m, cookieOf(t, m, grace))); err == nil {
		t.Error("grace's session survived the overflow of her sign-outs")
	}
	login(t, m, "grace", "grace-demo-pass") // and she can sign in again
}

// TestSignOutSurvivesRestart: with a configured key sessions survive a
// restart, and so must their sign-outs (F3).
func TestSignOutSurvivesRestart(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sessions.json")
	withFile := func(o *Options) { o.RevocationFile = file }
	m, _ := newManager(t, withFile)
	out := cookieOf(t, m, login(t, m, "ada", "ada-demo-pass"))
	kept := cookieOf(t, m, login(t, m, "ada", "ada-demo-pass"))
	everywhere := cookieOf(t, m, login(t, m, "grace", "grace-demo-pass"))
	m.Logout(httptest.NewRecorder(), requestWith(m, out), false)
	m.Logout(httptest.NewRecorder(), requestWith(m, everywhere), true)

	m2, _ := newManager(t, withFile) // a restart: same key, same file
	if _, err := m2.FromRequest(requestWith(m2, out)); err == nil || !strings.Contains(err.Error(), "logged out") {
		t.Errorf("a cookie signed out before the restart: %v", err)
	}
	if _, err := m2.FromRequest(requestWith(m2, everywhere)); err == nil || !strings.Contains(err.Error(), "everywhere") {
		t.Errorf("a cookie signed out everywhere before the restart: %v", err)
	}
	if _, err := m2.FromRequest(requestWith(m2, kept)); err != nil {
		t.Errorf("a session never signed out: %v", err)
	}
	login(t, m2, "grace", "grace-demo-pass")
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	a1 := cookieOf(t, m, login(t, m, "ada", "ada-demo-pass"))
	a2 := cookieOf(t, m, login(t, m, "ada", "ada-demo-pass"))
	g := cookieOf(t, m, login(t, m, "grace", "grace-demo-pass"))
	m.Logout(httptest.NewRecorder(), requestWith(m, a1), true)
	for _, tok := range []string{a1, a2} {
		_, err := m.FromRequest(requestWith(m, tok))
		if e := assertCode(t, err, CodeNoSession); !strings.Contains(e.Message, "signed out everywhere") {
			t.Errorf("message %q", e.Message)
		}
	}
	if _, err := m.FromRequest(requestWith(m, g)); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	if _, err := m.FromRequest(requestWith(m, cookieOf(t, m, login(t, m, "ada", "ada-demo-pass")))); err != nil {
		t.Errorf("a new sign-in after signing out everywhere: %v", err)
	}
}

func TestRevocationFileMustBeWritable(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{Key: testKey, RevocationFile: filepath.Join(notADir, "sessions.json")})
	if err == nil || !strings.Contains(err.Error(), "EMBEDLAB_DATA_DIR") {
		t.Errorf("a folder that cannot be written: %v", err)
	}
}
