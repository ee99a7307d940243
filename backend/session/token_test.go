package session

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	s := login(t, m, "ada", "ada-demo-pass")
	got, err := m.FromRequest(requestWith(m, cookieOf(t, m, s)))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || got.User != s.User || got.DisplayName != s.DisplayName || got.CSRFToken != s.CSRFToken ||
		!got.IssuedAt.Equal(s.IssuedAt) || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Errorf("FromRequest = %+v\nwant %+v", got, s)
	}
	if tok := cookieOf(t, m, s); tok != cookieOf(t, m, s) {
		t.Error("signing the same session twice gave two tokens")
	}
}

// validClaims are the claims of a good session of ada, for forging tokens.
func validClaims(m *Manager) claims {
	now := m.now().Truncate(time.Second)
	return claims{Name: "Ada", CSRF: "csrf-token", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "ada", ID: "jti-1",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestForgedTokensRefused(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	good := sign(t, jwt.SigningMethodHS256, testKey, validClaims(m))
	if _, err := m.FromRequest(requestWith(m, good)); err != nil {
		t.Fatalf("the forging helper's own good token is refused: %v", err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	header, payload, sig := split(good)
	b64 := base64.RawURLEncoding.EncodeToString
	with := func(edit func(*claims)) claims { c := validClaims(m); edit(&c); return c }

	tests := map[string]string{
		"alg none, no signature": b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".",
		"alg none, by the library": sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType,
			validClaims(m)),
		"alg None, HS256 signature kept": b64([]byte(`{"alg":"None","typ":"JWT"}`)) + "." + payload + "." + sig,
		"HS256 with another key":         sign(t, jwt.SigningMethodHS256, []byte("another-key-0123456789-0123456789-01"), validClaims(m)),
		"HS384 with the right key":       sign(t, jwt.SigningMethodHS384, testKey, validClaims(m)),
		"HS512 with the right key":       sign(t, jwt.SigningMethodHS512, testKey, validClaims(m)),
		"RS256":                          sign(t, jwt.SigningMethodRS256, rsaKey, validClaims(m)),
		"payload changed":                header + "." + b64([]byte(`{"iss":"embedlab/session","sub":"admin","jti":"x","csrf":"c","iat":1,"exp":99999999999}`)) + "." + sig,
		"signature changed":              header + "." + payload + "." + flip(sig),
		"signature dropped":              header + "." + payload + ".",
		"no exp":                         sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.ExpiresAt = nil })),
		"iat in the future":              sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.IssuedAt = jwt.NewNumericDate(m.now().Add(time.Hour)) })),
		"no iat":                         sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.IssuedAt = nil })),
		"other issuer":                   sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.Issuer = "someone-else" })),
		"no csrf":                        sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.CSRF = "" })),
		"no jti":                         sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.ID = "" })),
		"no sub":                         sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.Subject = "" })),
		"user gone":                      sign(t, jwt.SigningMethodHS256, testKey, with(func(c *claims) { c.Subject = "mallory" })),
		"not a JWT":                      "hello",
		"huge":                           good + strings.Repeat("A", maxCookieBytes),
	}
	for name, tok := range tests {
		s, err := m.FromRequest(requestWith(m, tok))
		if err == nil {
			t.Errorf("%s: accepted as %+v", name, s)
			continue
		}
		e := assertCode(t, err, CodeNoSession)
		if e.Status() != 401 || e.Message != "session is not valid: log in again" {
			t.Errorf("%s: status %d message %q", name, e.Status(), e.Message)
		}
	}
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	m, clk := newManager(t, func(o *Options) { o.TTL = time.Hour })
	s := login(t, m, "ada", "ada-demo-pass")
	tok := cookieOf(t, m, s)
	clk.Add(59 * time.Minute)
	if _, err := m.FromRequest(requestWith(m, tok)); err != nil {
		t.Fatalf("a session a minute before expiry is refused: %v", err)
	}
	clk.Add(2 * time.Minute)
	_, err := m.FromRequest(requestWith(m, tok))
	if e := assertCode(t, err, CodeNoSession); e.Message != "session expired: log in again" {
		t.Errorf("message %q should say it expired", e.Message)
	}
}

func TestNoCookie(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	for _, r := range []*http.Request{httptest.NewRequest("GET", "/", nil), requestWith(m, "")} {
		_, err := m.FromRequest(r)
		if e := assertCode(t, err, CodeNoSession); e.Message != "not logged in" {
			t.Errorf("message %q", e.Message)
		}
	}
}

func TestLogoutRevokes(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	s := login(t, m, "ada", "ada-demo-pass")
	tok := cookieOf(t, m, s)
	other := cookieOf(t, m, login(t, m, "ada", "ada-demo-pass"))

	w := httptest.NewRecorder()
	m.Logout(w, requestWith(m, tok), false)
	cleared := w.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != DefaultCookieName || cleared[0].MaxAge >= 0 || cleared[0].Value != "" || cleared[0].Path != "/" {
		t.Errorf("Logout set %+v, want the cookie deleted", cleared)
	}
	_, err := m.FromRequest(requestWith(m, tok))
	if e := assertCode(t, err, CodeNoSession); !strings.Contains(e.Message, "logged out") {
		t.Errorf("message %q", e.Message)
	}
	if _, err := m.FromRequest(requestWith(m, other)); err != nil {
		t.Errorf("logging out one session ended another: %v", err)
	}
	// Logging out without a session still clears the cookie.
	w = httptest.NewRecorder()
	m.Logout(w, httptest.NewRequest("POST", "/", nil), false)
	if len(w.Result().Cookies()) != 1 {
		t.Error("Logout without a session should still delete the cookie")
	}
}

func split(tok string) (header, payload, sig string) {
	p := strings.Split(tok, ".")
	return p[0], p[1], p[2]
}

// flip changes one character in the middle of a base64url string.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
