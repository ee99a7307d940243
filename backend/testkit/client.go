package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"embedlab/backend/apps"
	"embedlab/shared/api"
)

// User is a login of the bundled demo users (session.DefaultUsers);
// TestUsersAreTheBundledOnes keeps these in step with them.
type User struct{ Name, Password string }

var (
	Ada    = User{"ada", "ada-demo-pass"}       // viewers EMEA and AMER
	Grace  = User{"grace", "grace-demo-pass"}   // viewers APAC and EMEA
	Admin  = User{"admin", "admin-demo-pass"}   // all three viewers; roles trainer and server-identities
	Nobody = User{"nobody", "nobody-demo-pass"} // no viewer: the refusal
)

// Client is a browser without the page: a cookie jar, the session's CSRF
// token once signed in, redirects not followed (so each hop of a sign-in
// can be checked), and *.localhost names sent to loopback as browsers do.
type Client struct {
	t    testing.TB
	HTTP *http.Client
	// Base is prefixed to paths that start with "/".
	Base string
	CSRF string
	// Seen gets every answer's headers and body, for leak checks; nil
	// keeps none.
	Seen io.Writer
}

// NewClient is a Client for the app at base, not signed in.
func NewClient(t testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, Base: base, HTTP: &http.Client{Jar: jar, Transport: apps.LocalhostTransport(), Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SignedIn is a Client for the app at base signed in as u; the test fails
// when the sign-in does.
func SignedIn(t testing.TB, base string, u User) *Client {
	t.Helper()
	c := NewClient(t, base)
	if r := c.Login(u); r.Status != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", u.Name, r.Status, r.Body)
	}
	return c
}

// Reply is an answer, its body read.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Login signs in as u and keeps the session's CSRF token.
func (c *Client) Login(u User) Reply {
	c.t.Helper()
	r := c.Do(http.MethodPost, api.PathSession, api.LoginRequest{Name: u.Name, Password: u.Password})
	if r.Status == http.StatusOK {
		var s api.Session
		r.JSON(c.t, &s)
		c.CSRF = s.CSRFToken
	}
	return r
}

// Do sends body as JSON (none when nil) with the CSRF token once signed in.
// url is a path of Base or a whole URL.
func (c *Client) Do(method, url string, body any) Reply {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	if len(url) > 0 && url[0] == '/' {
		url = c.Base + url
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.CSRF != "" {
		req.Header.Set(api.HeaderCSRF, c.CSRF)
	}
	return c.Send(req)
}

// Send sends req as it is (with c's cookies; no CSRF token or content type
// added), for a request Do cannot shape; the answer goes to Seen.
func (c *Client) Send(req *http.Request) Reply {
	c.t.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if c.Seen != nil {
		for k, v := range res.Header {
			for _, x := range v {
				io.WriteString(c.Seen, k+": "+x+"\n")
			}
		}
		c.Seen.Write(b)
	}
	return Reply{res.StatusCode, res.Header, b}
}

// JSON decodes the body into v; the test fails when it is not JSON.
func (r Reply) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%d: not JSON: %s", r.Status, r.Body)
	}
}

// APIError checks the API's error shape {error, message, request_id} with
// this status and code, and returns it.
func (r Reply) APIError(t testing.TB, status int, code string) api.Error {
	t.Helper()
	var e api.Error
	r.JSON(t, &e)
	if r.Status != status || e.Error != code || e.Message == "" || e.RequestID == "" {
		t.Fatalf("got %d %s, want %d %q with a message and a request id", r.Status, r.Body, status, code)
	}
	return e
}
