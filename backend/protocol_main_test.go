//go:build !noemulator

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"embedlab/backend/httpserve"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// raw sends a request as written and reads the answer.
func raw(t *testing.T, app, request string) (*http.Response, string) {
	t.Helper()
	u, _ := url.Parse(app)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", request[:min(len(request), 60)], err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestEveryErrorIsJSONOnTheAPI: the errors net/http answers before any
// handler (431, a malformed Host), Echo's (404, 413) and the query a Go
// parser silently drops (`;`) all come as {error, message, fix, request_id}
// (issue 16, F8: plain text, "404 page not found", "name the viewer"); a
// page that does not exist gets a page in the app's style.
func TestEveryErrorIsJSONOnTheAPI(t *testing.T) {
	app, _ := startServe(t, nil)
	host := strings.TrimPrefix(app, "http://")
	b := testkit.SignedIn(t, app, testkit.Ada)
	cookie := b.HTTP.Jar.Cookies(&url.URL{Scheme: "http", Host: host})[0]

	checkJSON := func(name string, res *http.Response, body string, status int, code string) api.Error {
		t.Helper()
		var e api.Error
		if res.StatusCode != status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &e) != nil ||
			e.Error != code || e.Message == "" || e.Fix == "" || e.RequestID == "" {
			t.Errorf("%s: %d %s %q, want %d JSON %q with a message, fix and request id", name, res.StatusCode, res.Header.Get("Content-Type"), body, status, code)
		}
		return e
	}
	res, body := raw(t, app, "GET /api/health HTTP/1.1\r\nHost: "+host+"\r\nX-Pad: "+strings.Repeat("a", 48<<10)+"\r\n\r\n")
	checkJSON("48 KB header", res, body, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large")
	res, body = raw(t, app, "GET /api/health HTTP/1.1\r\nHost: bad host\r\n\r\n")
	checkJSON("malformed Host", res, body, http.StatusBadRequest, "bad_request")
	res, body = raw(t, app, "GET /api/no-such-route HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	checkJSON("unknown API route", res, body, http.StatusNotFound, "not_found")
	big := `{"name":"ada","password":"` + strings.Repeat("x", 100<<10) + `"}`
	res, body = raw(t, app, fmt.Sprintf("POST /api/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(big), big))
	checkJSON("100 KB login", res, body, http.StatusRequestEntityTooLarge, "body_too_large")
	res, body = raw(t, app, "GET /api/embed-token?viewer=viewer-emea;viewer-amer HTTP/1.1\r\nHost: "+host+"\r\nCookie: "+cookie.String()+"\r\n\r\n")
	if e := checkJSON("a ';' in the query", res, body, http.StatusBadRequest, "bad_request"); !strings.Contains(e.Message, "';'") {
		t.Errorf("the ';' refusal says %q", e.Message)
	}
	// Outside the API: a page, styled by the app's stylesheet, with the request id.
	res, body = raw(t, app, "GET /no-such-page HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `href="/web/style.css"`) ||
		!strings.Contains(body, "Page not found") || !strings.Contains(body, res.Header.Get("X-Request-Id")) || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("unknown page: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	// Pages that exist are still served.
	if res, _ := raw(t, app, "GET /login HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); res.StatusCode != 200 {
		t.Errorf("/login: %d", res.StatusCode)
	}
}

// TestStalledBodiesAreFreed: 1,000 requests whose body never arrives
// (Content-Length 100, 1 byte sent) are cut off by the server's read time
// limit, their goroutines freed, while normal requests keep being served
// (issue 16, F5: no answer after 150 s, 1,011 goroutines kept).
func TestStalledBodiesAreFreed(t *testing.T) {
	app, _ := startServe(t, nil)
	host := strings.TrimPrefix(app, "http://")
	runtime.GC()
	before := runtime.NumGoroutine()

	const n = 1000
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /api/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", host)
	}
	stalled := time.Now()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	// Normal requests are served all along.
	stop := make(chan struct{})
	var served, slow atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		client := &http.Client{Timeout: 5 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			res, err := client.Get(app + "/api/health")
			if err != nil || res.StatusCode != 200 {
				t.Errorf("health during the stall: %v", err)
				continue
			}
			res.Body.Close()
			served.Add(1)
			if time.Since(start) > time.Second {
				slow.Add(1)
			}
		}
	})

	// Each stalled request is answered (408) or closed by the server.
	var freed, timeouts atomic.Int64
	var last atomic.Int64
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(httpserve.ReadTimeout + 20*time.Second))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				if res.StatusCode == http.StatusRequestTimeout {
					timeouts.Add(1)
				}
				res.Body.Close()
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return // still held: counted as not freed
			}
			freed.Add(1)
			last.Store(int64(time.Since(stalled)))
			c.Close()
		})
	}
	for freed.Load() < n && time.Since(stalled) < httpserve.ReadTimeout+20*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	took := time.Duration(last.Load())
	if freed.Load() != n {
		t.Fatalf("%d of %d stalled requests freed after %v", freed.Load(), n, time.Since(stalled).Round(time.Second))
	}
	if took > httpserve.ReadTimeout+5*time.Second {
		t.Errorf("the last stalled request was freed after %v; the limit is %v", took.Round(time.Millisecond), httpserve.ReadTimeout)
	}
	if served.Load() == 0 || slow.Load() > 0 {
		t.Errorf("normal requests during the stall: %d served, %d took over a second", served.Load(), slow.Load())
	}
	var after int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after <= before+20 || time.Now().After(deadline) {
			break
		}
	}
	if after > before+20 {
		t.Errorf("%d goroutines after the stall, %d before", after, before)
	}
	t.Logf("%d stalled bodies freed within %v (%d answered 408); %d health checks served meanwhile; goroutines %d before, %d after",
		n, took.Round(time.Millisecond), timeouts.Load(), served.Load(), before, after)
}
