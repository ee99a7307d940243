package session

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	m, clk := newManager(t)
	s := login(t, m, "ada", "ada-demo-pass")
	if s.User != "ada" || s.DisplayName != "Ada Lovelace" {
		t.Errorf("session = %+v", s)
	}
	if len(s.ID) < 20 || len(s.CSRFToken) < 20 || s.ID == s.CSRFToken {
		t.Errorf("jti %q and csrf %q should be long, random and different", s.ID, s.CSRFToken)
	}
	if want := clk.Now().Truncate(time.Second); !s.IssuedAt.Equal(want) || !s.ExpiresAt.Equal(want.Add(DefaultTTL)) {
		t.Errorf("issued %v expires %v; want %v + %v", s.IssuedAt, s.ExpiresAt, want, DefaultTTL)
	}
	if again := login(t, m, "  Ada ", "ada-demo-pass"); again.User != "ada" || again.ID == s.ID || again.CSRFToken == s.CSRFToken {
		t.Errorf("second login = %+v: names match in lower case, and each session is new", again)
	}
}

// TestBadCredentialsLookAlike checks the client cannot tell an unknown name
// from a wrong password, and the log never holds a password.
func TestBadCredentialsLookAlike(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	tries := []struct{ name, password string }{
		{"ada", "grace-demo-pass"}, // wrong password
		{"ada", ""},                // empty password
		{"ada", "ada-demo-pass" + strings.Repeat("!", 72)}, // over bcrypt's 72 bytes
		{"mallory", "ada-demo-pass"},                       // unknown name
		{"ada-demo-pass", ""},                              // a password typed as the name
	}
	var first *Error
	for _, tr := range tries {
		_, err := m.Login(tr.name, tr.password, "192.0.2.7")
		e := assertCode(t, err, CodeBadCredentials)
		if !errors.Is(err, ErrBadCredentials) || e.Status() != 401 {
			t.Errorf("%v: errors.Is or Status wrong", err)
		}
		if first == nil {
			first = e
		} else if e.Message != first.Message {
			t.Errorf("message %q differs from %q: it tells which names exist", e.Message, first.Message)
		}
		assertNoSecret(t, err.Error(), "demo-pass")
		assertNoSecret(t, e.Message, tr.name)
	}
}

func TestSessionPrintsWithoutCSRFToken(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	s := login(t, m, "grace", "grace-demo-pass")
	for _, f := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(f, s); strings.Contains(got, s.CSRFToken) || !strings.Contains(got, "grace") {
			t.Errorf("%s of Session = %q", f, got)
		}
	}
	for _, f := range []string{"%v", "%+v", "%#v"} {
		got := fmt.Sprintf(f, m)
		if strings.Contains(got, string(testKey)) || strings.Contains(got, fmt.Sprint(testKey[:8])) {
			t.Errorf("%s of Manager leaks the key: %q", f, got)
		}
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !m.KeyGenerated() || len(m.key) != MinKeyBytes || m.cookieName != DefaultCookieName || m.TTL() != DefaultTTL || m.secure {
		t.Errorf("zero Options gave %v", m)
	}
	other, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := login(t, m, "ada", "ada-demo-pass")
	if _, err := other.FromRequest(requestWith(other, cookieOf(t, m, s))); err == nil {
		t.Error("two generated keys are the same")
	}

	key := append([]byte(nil), testKey...)
	m, err = New(Options{Key: key, CookieName: "__Host-embedlab", Secure: true, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1
	if m.KeyGenerated() || string(m.key) != string(testKey) {
		t.Error("the Manager should keep its own copy of the key")
	}

	_, err = New(Options{
		Key:            []byte("short"),
		CookieName:     "__Host-session",
		TTL:            time.Second,
		TrustedOrigins: []string{"localhost:5173"},
		Throttle:       ThrottleOptions{PerUser: -1},
	})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	want := []string{
		"session key is 5 bytes; it must be at least 32",
		`session cookie name "__Host-session" needs Secure`,
		"session TTL 1s is too short",
		`trusted origin "localhost:5173"`,
		"login throttle",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
	if _, err := New(Options{Users: &Users{}}); err == nil || !strings.Contains(err.Error(), "must come from LoadUsers") {
		t.Errorf("unparsed Users: %v", err)
	}
	if m, err := New(Options{Users: DefaultUsers()}); err != nil || m.Users() != DefaultUsers() {
		t.Errorf("Users() = %v, %v", m, err)
	}
	if _, err := New(Options{CookieName: "bad name;"}); err == nil || !strings.Contains(err.Error(), "not a valid cookie name") {
		t.Errorf("bad cookie name: %v", err)
	}
}
