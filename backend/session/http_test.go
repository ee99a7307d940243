package session

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// newRouter wires the Manager into a real Echo app the way the server does.
func newRouter(m *Manager) *echo.Echo {
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect() // the tests' RemoteAddr, not X-Forwarded-For
	api := e.Group("/api")
	api.POST("/login", m.HandleLogin)
	authed := api.Group("", m.RequireSession(), m.RequireCSRF())
	authed.GET("/whoami", m.HandleWhoAmI)
	authed.POST("/logout", m.HandleLogout)
	ok := func(c echo.Context) error {
		s, _ := FromContext(c)
		return c.String(http.StatusOK, "done for "+s.User)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		authed.Add(method, "/thing", ok)
	}
	// RequireCSRF alone, without RequireSession in front.
	e.Add(http.MethodPost, "/csrf-only", ok, m.RequireCSRF())
	e.Add(http.MethodGet, "/csrf-only", ok, m.RequireCSRF())
	return e
}

type call struct {
	method, path, body string
	header             map[string]string
	cookie             string
}

func do(e *echo.Echo, m *Manager, c call) *httptest.ResponseRecorder {
	var body *strings.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(c.method, c.path, body)
	r.RemoteAddr = "192.0.2.10:4000"
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: m.cookieName, Value: c.cookie})
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

var jsonType = map[string]string{"Content-Type": "application/json"}

// loginHTTP logs in through the route and returns the answer's session and
// the cookie's value.
func loginHTTP(t *testing.T, e *echo.Echo, m *Manager, name, password string) (Session, *http.Cookie) {
	t.Helper()
	w := do(e, m, call{method: "POST", path: "/api/login", header: jsonType,
		body: `{"name":"` + name + `","password":"` + password + `"}`})
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var s Session
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	return s, cookies[0]
}

func message(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct{ Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return body.Message
}

func TestLoginRouteSetsCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		m, clk := newManager(t, func(o *Options) { o.Secure = secure })
		e := newRouter(m)
		s, c := loginHTTP(t, e, m, "ada", "ada-demo-pass")
		if s.User != "ada" || s.DisplayName != "Ada Lovelace" || s.CSRFToken == "" {
			t.Errorf("login answer %+v", s)
		}
		if c.Name != DefaultCookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.Secure != secure || c.MaxAge < int(DefaultTTL.Seconds())-1 || c.MaxAge > int(DefaultTTL.Seconds()) || c.Domain != "" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Secure=%t, Max-Age 8h, no Domain", c, secure)
		}
		if !c.Expires.Equal(clk.Now().Truncate(time.Second).Add(DefaultTTL)) {
			t.Errorf("cookie expires %v", c.Expires)
		}
		raw := do(e, m, call{method: "POST", path: "/api/login", header: jsonType, body: `{"name":"ada","password":"ada-demo-pass"}`})
		setCookie := raw.Header().Get("Set-Cookie")
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(setCookie, attr) {
				t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
			}
		}
		if raw.Header().Get("Cache-Control") != "no-store" {
			t.Error("the login answer holds a CSRF token and must not be cached")
		}
		assertNoSecret(t, raw.Body.String(), "ada-demo-pass")
	}
}

func TestLoginRouteRefusals(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, func(o *Options) { o.TrustedOrigins = []string{"http://localhost:5173"} })
	e := newRouter(m)
	good := `{"name":"ada","password":"ada-demo-pass"}`
	tests := []struct {
		name   string
		c      call
		status int
		msg    string
	}{
		{"form post", call{header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "name=ada&password=ada-demo-pass"},
			415, "login needs Content-Type: application/json"},
		{"text/plain (a no-preflight fetch)", call{header: map[string]string{"Content-Type": "text/plain"}, body: good}, 415, ""},
		{"no content type", call{body: good}, 415, ""},
		{"cross-site fetch", call{header: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, body: good},
			403, "login from another origin refused"},
		{"same-site sibling", call{header: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, body: good}, 403, ""},
		{"foreign Origin", call{header: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, body: good}, 403, ""},
		{"wrong password", call{header: jsonType, body: `{"name":"ada","password":"nope"}`}, 401, "wrong user name or password"},
		{"unknown user", call{header: jsonType, body: `{"name":"mallory","password":"nope"}`}, 401, "wrong user name or password"},
		{"not JSON", call{header: jsonType, body: `name=ada&password=secret-typed`}, 400, `the body must be JSON {"name": "...", "password": "..."}`},
		{"unknown field", call{header: jsonType, body: `{"user":"ada","password":"secret-typed"}`}, 400, ""},
		{"wrong type", call{header: jsonType, body: `{"name":"ada","password":123456789}`}, 400, ""},
		{"too big", call{header: jsonType, body: `{"name":"ada","password":"` + strings.Repeat("p", 5000) + `"}`}, 413, "the login body is larger than 4096 bytes"},
	}
	for _, tt := range tests {
		tt.c.method, tt.c.path = "POST", "/api/login"
		w := do(e, m, tt.c)
		if w.Code != tt.status {
			t.Errorf("%s: status %d %s, want %d", tt.name, w.Code, w.Body, tt.status)
			continue
		}
		if tt.msg != "" && message(t, w) != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.name, message(t, w), tt.msg)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: refused, yet a cookie was set", tt.name)
		}
		assertNoSecret(t, w.Body.String(), "secret-typed", "demo-pass", "123456789")
	}

	for name, h := range map[string]map[string]string{
		"same-origin":             {"Sec-Fetch-Site": "same-origin"},
		"typed into the bar":      {"Sec-Fetch-Site": "none"},
		"trusted origin":          {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost:5173"},
		"own Origin, no Sec-*":    {"Origin": "http://example.com"},
		"charset parameter":       {"Content-Type": "application/json; charset=utf-8"},
		"non-browser (no header)": {},
	} {
		h["Content-Type"] = cmpOrString(h["Content-Type"], "application/json")
		w := do(e, m, call{method: "POST", path: "/api/login", header: h, body: good})
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}

func cmpOrString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func TestLoginRouteThrottled(t *testing.T) {
	t.Parallel()
	m, clk := newManager(t, func(o *Options) { o.Throttle.PerUser = 2 })
	e := newRouter(m)
	bad := call{method: "POST", path: "/api/login", header: jsonType, body: `{"name":"grace","password":"nope"}`}
	for range 2 {
		if w := do(e, m, bad); w.Code != 401 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	w := do(e, m, bad)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" {
		t.Fatalf("third failure: %d, Retry-After %q; want 429, 30", w.Code, w.Header().Get("Retry-After"))
	}
	if msg := message(t, w); msg != "too many failed logins: try again in 30 seconds" {
		t.Errorf("message %q", msg)
	}
	clk.Add(30 * time.Second)
	loginHTTP(t, e, m, "grace", "grace-demo-pass")
	// The success reset the name's count: two more failures before 429.
	for range 2 {
		if w := do(e, m, bad); w.Code != 401 {
			t.Fatalf("after reset: %d %s", w.Code, w.Body)
		}
	}
	if w := do(e, m, bad); w.Code != 429 {
		t.Fatalf("after reset, third failure: %d", w.Code)
	}
}

func TestRequireSessionAndCSRF(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	e := newRouter(m)
	s, c := loginHTTP(t, e, m, "ada", "ada-demo-pass")
	tok := c.Value

	// Without a session every route is 401, safe or not.
	for _, method := range []string{"GET", "POST", "DELETE"} {
		w := do(e, m, call{method: method, path: "/api/thing", header: map[string]string{CSRFHeader: s.CSRFToken}})
		if w.Code != 401 || message(t, w) != "not logged in" {
			t.Errorf("%s without a cookie: %d %s", method, w.Code, w.Body)
		}
	}
	if w := do(e, m, call{method: "GET", path: "/api/whoami", cookie: "garbage"}); w.Code != 401 {
		t.Errorf("whoami with a bad cookie: %d", w.Code)
	}

	// whoami returns the CSRF token to the page and is not cached.
	w := do(e, m, call{method: "GET", path: "/api/whoami", cookie: tok})
	var who Session
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &who) != nil || who.CSRFToken != s.CSRFToken || who.User != "ada" {
		t.Fatalf("whoami: %d %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("whoami Cache-Control %q", cc)
	}
	if full, err := m.FromRequest(requestWith(m, tok)); err != nil || full.ID == "" || strings.Contains(w.Body.String(), full.ID) {
		t.Error("whoami shows the session id")
	}

	// GET passes without the token.
	if w := do(e, m, call{method: "GET", path: "/api/thing", cookie: tok}); w.Code != 200 || w.Body.String() != "done for ada" {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, tc := range []struct {
			name, token string
			status      int
			msg         string
		}{
			{"missing", "", 403, "missing X-CSRF-Token header: send the csrf_token that login and whoami return"},
			{"wrong", s.CSRFToken + "x", 403, "X-CSRF-Token does not match this session: fetch whoami again"},
			{"another session's", loginSession(t, m).CSRFToken, 403, ""},
			{"right", s.CSRFToken, 200, ""},
		} {
			h := map[string]string{}
			if tc.token != "" {
				h[CSRFHeader] = tc.token
			}
			w := do(e, m, call{method: method, path: "/api/thing", cookie: tok, header: h})
			if w.Code != tc.status {
				t.Errorf("%s with %s token: %d %s, want %d", method, tc.name, w.Code, w.Body, tc.status)
			} else if tc.msg != "" && message(t, w) != tc.msg {
				t.Errorf("%s with %s token: message %q", method, tc.name, message(t, w))
			}
		}
	}

	// Logout needs the token too, then the session is over.
	if w := do(e, m, call{method: "POST", path: "/api/logout", cookie: tok}); w.Code != 403 {
		t.Errorf("logout without the token: %d", w.Code)
	}
	w = do(e, m, call{method: "POST", path: "/api/logout", cookie: tok, header: map[string]string{CSRFHeader: s.CSRFToken}})
	if w.Code != http.StatusNoContent || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout: %d, cookies %v", w.Code, w.Result().Cookies())
	}
	if w := do(e, m, call{method: "GET", path: "/api/whoami", cookie: tok}); w.Code != 401 {
		t.Errorf("whoami after logout: %d", w.Code)
	}
}

func TestWhoAmIWithoutMiddleware(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	e := echo.New()
	e.GET("/whoami", m.HandleWhoAmI)
	if w := do(e, m, call{method: "GET", path: "/whoami"}); w.Code != 401 {
		t.Errorf("without a session: %d", w.Code)
	}
	s := login(t, m, "nobody", "nobody-demo-pass")
	w := do(e, m, call{method: "GET", path: "/whoami", cookie: cookieOf(t, m, s)})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"user":"nobody"`) {
		t.Errorf("with a session: %d %s", w.Code, w.Body)
	}
}

func loginSession(t *testing.T, m *Manager) Session {
	t.Helper()
	return login(t, m, "grace", "grace-demo-pass")
}

func TestRequireCSRFAlone(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	e := newRouter(m)
	s, c := loginHTTP(t, e, m, "ada", "ada-demo-pass")
	if w := do(e, m, call{method: "GET", path: "/csrf-only"}); w.Code != 200 {
		t.Errorf("GET without a session: %d", w.Code)
	}
	if w := do(e, m, call{method: "POST", path: "/csrf-only", header: map[string]string{CSRFHeader: "x"}}); w.Code != 401 {
		t.Errorf("POST without a session: %d", w.Code)
	}
	w := do(e, m, call{method: "POST", path: "/csrf-only", cookie: c.Value, header: map[string]string{CSRFHeader: s.CSRFToken}})
	if w.Code != 200 || w.Body.String() != "done for ada" {
		t.Errorf("POST with session and token: %d %s", w.Code, w.Body)
	}
}

// TestEndToEnd drives a real server with a cookie jar, as a browser would.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	srv := httptest.NewServer(newRouter(m))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}

	send := func(method, path, body, csrf string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if csrf != "" {
			req.Header.Set(CSRFHeader, csrf)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := send("POST", "/api/login", `{"name":"admin","password":"admin-demo-pass"}`, "")
	var s Session
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&s) != nil {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if resp := send("DELETE", "/api/thing", "", s.CSRFToken); resp.StatusCode != 200 {
		t.Errorf("DELETE with the token: %d", resp.StatusCode)
	}
	if resp := send("DELETE", "/api/thing", "", ""); resp.StatusCode != 403 {
		t.Errorf("DELETE without the token: %d", resp.StatusCode)
	}
	if resp := send("POST", "/api/logout", "", s.CSRFToken); resp.StatusCode != 204 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp := send("GET", "/api/whoami", "", ""); resp.StatusCode != 401 {
		t.Errorf("whoami after logout: %d (the jar should have dropped the cookie)", resp.StatusCode)
	}
}

func TestEchoError(t *testing.T) {
	t.Parallel()
	statuses := map[Code]int{
		CodeBadRequest: 400, CodeBadCredentials: 401, CodeNoSession: 401, CodeCSRF: 403,
		CodeUnsupportedMediaType: 415, CodeThrottled: 429, Code("new"): 500,
	}
	for code, status := range statuses {
		c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
		err := EchoError(c, &Error{Code: code, RetryAfter: 1500 * time.Millisecond})
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code != status {
			t.Errorf("%s: %v, want status %d", code, err, status)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("%s: the *Error is lost inside %v", code, err)
		}
		if he.Message != http.StatusText(status) {
			t.Errorf("%s: empty message should become %q, got %v", code, http.StatusText(status), he.Message)
		}
		if ra := c.Response().Header().Get("Retry-After"); (code == CodeThrottled) != (ra == "2") {
			t.Errorf("%s: Retry-After %q", code, ra)
		}
	}
	other := errors.New("boom")
	if got := EchoError(echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder()), other); got != other {
		t.Errorf("a foreign error should pass through, got %v", got)
	}
	if !errors.Is(&Error{Code: CodeCSRF, Message: "x"}, ErrCSRF) || errors.Is(&Error{Code: CodeCSRF}, ErrNoSession) {
		t.Error("errors.Is should match by Code")
	}
}
