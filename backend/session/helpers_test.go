package session

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a fixed signing key, so tests can forge tokens with it.
var testKey = []byte("test-key-0123456789-0123456789-0123456789")

// clock is a settable clock; the Manager's throttle and token checks read it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newManager returns a Manager with testKey and a fake clock; edit the
// options with the given functions.
func newManager(t *testing.T, edits ...func(*Options)) (*Manager, *clock) {
	t.Helper()
	clk := newClock()
	o := Options{Key: testKey, Now: clk.Now}
	for _, edit := range edits {
		edit(&o)
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

// login logs in and fails the test on error.
func login(t *testing.T, m *Manager, name, password string) Session {
	t.Helper()
	s, err := m.Login(name, password, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login(%q): %v", name, err)
	}
	return s
}

// requestWith returns a GET request carrying cookie value tok.
func requestWith(m *Manager, tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/whoami", nil)
	r.AddCookie(&http.Cookie{Name: m.cookieName, Value: tok})
	return r
}

// cookieOf returns the session cookie a Manager makes for s.
func cookieOf(t *testing.T, m *Manager, s Session) string {
	t.Helper()
	c, err := m.Cookie(s)
	if err != nil {
		t.Fatal(err)
	}
	return c.Value
}

func assertCode(t *testing.T, err error, want Code) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v (%T) is not a *session.Error", err, err)
	}
	if e.Code != want {
		t.Fatalf("code = %s (%v), want %s", e.Code, err, want)
	}
	return e
}

// anyHash finds a bcrypt hash anywhere in a text.
var anyHash = regexp.MustCompile(`\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{22}`)

func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%q leaks %q", text, s)
		}
	}
	if anyHash.MatchString(text) {
		t.Errorf("%q leaks a bcrypt hash", text)
	}
}
