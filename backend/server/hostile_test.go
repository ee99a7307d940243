package server_test

// Hostile input to the backend API (issue 8, item 4): state-changing calls
// without the session's CSRF token, and bodies too large to read, are
// refused with a clear status and code. Oversized headers are refused by
// the app's http.Server (backend/hostile_main_test.go). The fixture's leak
// check runs over every response and log line of these tests too.

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"embedlab/shared/api"
)

// Every way of sending a state-changing call without this session's CSRF
// token is refused with 403 csrf, and the session survives it.
func TestCSRFTokenIsRequired(t *testing.T) {
	f := newFixture(t)
	c := f.loggedIn(t)
	other := f.loggedIn(t) // another session of the same user
	if c.csrf == "" || other.csrf == "" || c.csrf == other.csrf {
		t.Fatalf("CSRF tokens %q and %q: want two different ones", c.csrf, other.csrf)
	}
	for _, tc := range []struct {
		name  string
		setup func(*http.Request)
	}{
		{"no token", func(*http.Request) {}},
		{"empty header", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, "") }},
		{"another session's token", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, other.csrf) }},
		{"the token with a byte changed", func(r *http.Request) {
			r.Header.Set(api.HeaderCSRF, c.csrf[:len(c.csrf)-1]+flip(c.csrf[len(c.csrf)-1]))
		}},
		{"the token cut short", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, c.csrf[:len(c.csrf)/2]) }},
		{"the token in the query", func(r *http.Request) { r.URL.RawQuery = "csrf_token=" + c.csrf }},
		{"the token in a cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: api.HeaderCSRF, Value: c.csrf}) }},
		{"the token in a form body", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("csrf_token=" + c.csrf))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}},
	} {
		req, _ := http.NewRequest(http.MethodDelete, f.url+api.PathSession, nil)
		tc.setup(req)
		r := c.send(t, req)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", tc.name, r.status, r.body)
			continue
		}
		if e := r.apiError(t, http.StatusForbidden, "csrf"); e.RetryAfter != 0 || r.header.Get("Retry-After") != "" {
			t.Errorf("%s: a refusal that waiting cannot fix says to retry after %q", tc.name, r.header.Get("Retry-After"))
		}
	}
	if r := c.do(t, http.MethodGet, api.PathSession, nil, false); r.status != http.StatusOK {
		t.Fatalf("a refused logout ended the session: %d", r.status)
	}
	if r := c.do(t, http.MethodDelete, api.PathSession, nil, true); r.status != http.StatusNoContent {
		t.Fatalf("logout with the token: %d %s", r.status, r.body)
	}
}

func flip(b byte) string {
	if b == 'a' {
		return "b"
	}
	return "a"
}

// send sends a prepared request with the client's cookies and records the
// answer for the leak check.
func (c *client) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for k, v := range res.Header {
		c.f.seen.Write([]byte(k + ": " + strings.Join(v, ",") + "\n"))
	}
	c.f.seen.Write(b)
	return reply{res.StatusCode, res.Header, b}
}

// A login body over the API's 64 KB limit is refused with 413
// body_too_large whether or not it announces its length; so is one over
// the login's own 4 KB. A normal login still works afterwards.
func TestOversizedBodiesAreRefused(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	login := func(size int) []byte {
		return []byte(`{"name":"ada","password":"` + strings.Repeat("x", size) + `"}`)
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{"65 KB with Content-Length", login(65 << 10), false},
		{"65 KB chunked", login(65 << 10), true},
		{"1 MB chunked", login(1 << 20), true},
		{"5 KB with Content-Length", login(5 << 10), false},
		{"5 KB chunked", login(5 << 10), true},
	} {
		var body io.Reader = bytes.NewReader(tc.body)
		if tc.chunked {
			body = io.MultiReader(body) // no Len: the client sends it chunked
		}
		req, _ := http.NewRequest(http.MethodPost, f.url+api.PathSession, body)
		req.Header.Set("Content-Type", "application/json")
		if tc.chunked && req.ContentLength != 0 {
			t.Fatalf("%s: the request has a length", tc.name)
		}
		r := c.send(t, req)
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d %s, want 413", tc.name, r.status, r.body)
			continue
		}
		e := r.apiError(t, http.StatusRequestEntityTooLarge, "body_too_large")
		if strings.Contains(e.Message, "xxxx") {
			t.Errorf("%s: the refusal quotes the body: %q", tc.name, e.Message)
		}
	}
	if r := c.login(t, "ada", "ada-demo-pass"); r.status != http.StatusOK {
		t.Fatalf("login after the refusals: %d %s", r.status, r.body)
	}
	// The same limit holds behind the session: a body to an authenticated
	// route is not read past it either.
	req, _ := http.NewRequest(http.MethodDelete, f.url+api.PathSession, bytes.NewReader(make([]byte, 65<<10)))
	req.Header.Set(api.HeaderCSRF, c.csrf)
	if r := c.send(t, req); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("65 KB body to DELETE /api/session: %d %s", r.status, r.body)
	}
}

// Retry-After goes only with answers where waiting helps: a throttled
// login gets it (429), the refusals before it (401) do not.
func TestRetryAfterOnlyWhenWaitingHelps(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for i := 0; ; i++ {
		r := c.login(t, "grace", "not-her-password")
		if r.status == http.StatusTooManyRequests {
			e := r.apiError(t, http.StatusTooManyRequests, "throttled")
			if r.header.Get("Retry-After") == "" || e.RetryAfter < 1 {
				t.Fatalf("throttled login without Retry-After: %q / %d", r.header.Get("Retry-After"), e.RetryAfter)
			}
			return
		}
		if e := r.apiError(t, http.StatusUnauthorized, "bad_credentials"); e.RetryAfter != 0 || r.header.Get("Retry-After") != "" {
			t.Fatalf("failed login %d says to retry after %q", i+1, r.header.Get("Retry-After"))
		}
		if i == 10 {
			t.Fatal("10 failed logins were never throttled")
		}
	}
}
