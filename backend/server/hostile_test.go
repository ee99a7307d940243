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

	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// Every way of sending a state-changing call without this session's CSRF
// token is refused with 403 csrf, and the session survives it.
func TestCSRFTokenIsRequired(t *testing.T) {
	f := serve(t, nil)
	c := f.signedIn(t, testkit.Admin)
	other := f.signedIn(t, testkit.Admin) // another session of the same user
	if c.CSRF == "" || other.CSRF == "" || c.CSRF == other.CSRF {
		t.Fatalf("CSRF tokens %q and %q: want two different ones", c.CSRF, other.CSRF)
	}
	for _, tc := range []struct {
		name  string
		setup func(*http.Request)
	}{
		{"no token", func(*http.Request) {}},
		{"empty header", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, "") }},
		{"another session's token", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, other.CSRF) }},
		{"the token with a byte changed", func(r *http.Request) {
			r.Header.Set(api.HeaderCSRF, c.CSRF[:len(c.CSRF)-1]+flip(c.CSRF[len(c.CSRF)-1]))
		}},
		{"the token cut short", func(r *http.Request) { r.Header.Set(api.HeaderCSRF, c.CSRF[:len(c.CSRF)/2]) }},
		{"the token in the query", func(r *http.Request) { r.URL.RawQuery = "csrf_token=" + c.CSRF }},
		{"the token in a cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: api.HeaderCSRF, Value: c.CSRF}) }},
		{"the token in a form body", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("csrf_token=" + c.CSRF))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}},
	} {
		req, _ := http.NewRequest(http.MethodDelete, f.url+api.PathSession, nil)
		tc.setup(req)
		r := c.Send(req)
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", tc.name, r.Status, r.Body)
			continue
		}
		if e := r.APIError(t, http.StatusForbidden, "csrf"); e.RetryAfter != 0 || r.Header.Get("Retry-After") != "" {
			t.Errorf("%s: a refusal that waiting cannot fix says to retry after %q", tc.name, r.Header.Get("Retry-After"))
		}
	}
	if r := c.Do(http.MethodGet, api.PathSession, nil); r.Status != http.StatusOK {
		t.Fatalf("a refused logout ended the session: %d", r.Status)
	}
	if r := c.Do(http.MethodDelete, api.PathSession, nil); r.Status != http.StatusNoContent {
		t.Fatalf("logout with the token: %d %s", r.Status, r.Body)
	}
}

func flip(b byte) string {
	if b == 'a' {
		return "b"
	}
	return "a"
}

// A login body over the API's 64 KB limit is refused with 413
// body_too_large whether or not it announces its length; so is one over
// the login's own 4 KB. A normal login still works afterwards.
func TestOversizedBodiesAreRefused(t *testing.T) {
	f := serve(t, nil)
	c := f.client(t)
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
		r := c.Send(req)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d %s, want 413", tc.name, r.Status, r.Body)
			continue
		}
		e := r.APIError(t, http.StatusRequestEntityTooLarge, "body_too_large")
		if strings.Contains(e.Message, "xxxx") {
			t.Errorf("%s: the refusal quotes the body: %q", tc.name, e.Message)
		}
	}
	if r := c.Login(testkit.Ada); r.Status != http.StatusOK {
		t.Fatalf("login after the refusals: %d %s", r.Status, r.Body)
	}
	// The same limit holds behind the session: a body to an authenticated
	// route is not read past it either.
	req, _ := http.NewRequest(http.MethodDelete, f.url+api.PathSession, bytes.NewReader(make([]byte, 65<<10)))
	req.Header.Set(api.HeaderCSRF, c.CSRF)
	if r := c.Send(req); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("65 KB body to DELETE /api/session: %d %s", r.Status, r.Body)
	}
}

// Retry-After goes only with answers where waiting helps: a throttled
// login gets it (429), the refusals before it (401) do not.
func TestRetryAfterOnlyWhenWaitingHelps(t *testing.T) {
	f := serve(t, nil)
	c := f.client(t)
	for i := 0; ; i++ {
		r := c.Login(testkit.User{Name: "grace", Password: "not-her-password"})
		if r.Status == http.StatusTooManyRequests {
			e := r.APIError(t, http.StatusTooManyRequests, "throttled")
			if r.Header.Get("Retry-After") == "" || e.RetryAfter < 1 {
				t.Fatalf("throttled login without Retry-After: %q / %d", r.Header.Get("Retry-After"), e.RetryAfter)
			}
			return
		}
		if e := r.APIError(t, http.StatusUnauthorized, "bad_credentials"); e.RetryAfter != 0 || r.Header.Get("Retry-After") != "" {
			t.Fatalf("failed login %d says to retry after %q", i+1, r.Header.Get("Retry-After"))
		}
		if i == 10 {
			t.Fatal("10 failed logins were never throttled")
		}
	}
}
