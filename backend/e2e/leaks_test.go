package e2e

// Every e2e test (newStack) records what the browser saw: each console
// message (console API calls, uncaught exceptions, browser log entries),
// each request's URL, headers and body, and each response's URL, headers
// and body (except the Wasm, images and fonts); and the backend's and the
// emulator's log lines (testkit.App's Log). When the test ends, none of it
// may hold the service principal's secret or a token whose payload has the
// all-apis scope: the browser only ever gets a viewer's scoped token.

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// consoleMarker is logged when the watch starts; finding it at the end
// shows the console was really captured.
const consoleMarker = "embedlab-e2e: console capture is on"

// leakWatch records what the browser of one test saw.
type leakWatch struct {
	mu        sync.Mutex
	seen      strings.Builder
	counts    map[string]int             // console, request, response, body
	wantBody  map[network.RequestID]bool // responses whose body to read
	queue     []network.RequestID        // finished, body not read yet
	inFlight  int
	wake      chan struct{}
	stop      context.CancelFunc
	stoppedCh chan struct{}
}

// watchLeaks starts recording the browser of ctx, and checks in t.Cleanup
// (before the browser closes) that neither what it saw nor logs holds the
// secret or an all-apis token.
func watchLeaks(t *testing.T, ctx context.Context, secret string, logs ...*testkit.Buffer) *leakWatch {
	t.Helper()
	w := &leakWatch{counts: map[string]int{}, wantBody: map[network.RequestID]bool{}, wake: make(chan struct{}, 1), stoppedCh: make(chan struct{})}
	lctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	messages := chromedp.Console(lctx)
	if err := chromedp.Listen(lctx, w.event); err != nil {
		t.Fatalf("listen to the browser: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			var b strings.Builder
			fmt.Fprintf(&b, "console %s %s: %s", m.Type, m.URL, m.Text)
			for _, a := range m.Args {
				fmt.Fprintf(&b, " | %s %s", a.Value, a.Description)
			}
			if m.Exception != nil && m.Exception.Exception != nil {
				fmt.Fprintf(&b, " | %s", m.Exception.Exception.Description)
			}
			w.note("console", b.String())
		}
	}()
	go w.readBodies(lctx)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`console.log(`+"`"+consoleMarker+"`"+`), true`)); err != nil {
		t.Fatalf("log the console marker: %v", err)
	}
	t.Cleanup(func() {
		w.flush(5 * time.Second)
		text := w.text()
		for _, l := range logs {
			text += "\n" + l.String()
		}
		if !strings.Contains(text, consoleMarker) {
			t.Errorf("the console capture never saw its marker: nothing the console shows was checked")
		}
		for _, leak := range findLeaks(text, secret) {
			t.Errorf("the browser or a log saw %s", leak)
		}
		if testing.Verbose() {
			t.Logf("leak watch: %v, %d bytes checked", w.countsText(), len(text))
		}
	})
	return w
}

func (w *leakWatch) note(kind, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[kind]++
	w.seen.WriteString(kind)
	w.seen.WriteString(" ")
	w.seen.WriteString(s)
	w.seen.WriteString("\n")
}

func (w *leakWatch) text() string { w.mu.Lock(); defer w.mu.Unlock(); return w.seen.String() }

// reset forgets what was seen so far (for the self-test, which plants leaks).
func (w *leakWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen.Reset()
	w.seen.WriteString(consoleMarker + "\n")
}

func (w *leakWatch) countsText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for k, n := range w.counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func headers(h network.Headers) string {
	var b strings.Builder
	for k, v := range h {
		fmt.Fprintf(&b, " %s: %v;", k, v)
	}
	return b.String()
}

// event runs on chromedp's reading goroutine: it must be quick and never
// call the browser.
func (w *leakWatch) event(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		var body strings.Builder
		for _, p := range e.Request.PostDataEntries {
			body.Write(p.Bytes)
		}
		w.note("request", e.Request.URL+e.Request.URLFragment+headers(e.Request.Headers)+" "+body.String())
	case *network.EventResponseReceived:
		r := e.Response
		w.note("response", fmt.Sprintf("%d %s%s%s", r.Status, r.URL, headers(r.Headers), headers(r.RequestHeaders)))
		skip := r.MimeType == "application/wasm" || strings.HasSuffix(r.URL, ".wasm") ||
			strings.HasPrefix(r.MimeType, "image/") || strings.HasPrefix(r.MimeType, "font/")
		w.mu.Lock()
		w.wantBody[e.RequestID] = !skip
		w.mu.Unlock()
	case *network.EventLoadingFinished:
		w.mu.Lock()
		if w.wantBody[e.RequestID] {
			w.queue = append(w.queue, e.RequestID)
		}
		delete(w.wantBody, e.RequestID)
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// readBodies reads the bodies of finished responses, off the event loop.
func (w *leakWatch) readBodies(ctx context.Context) {
	defer close(w.stoppedCh)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				w.mu.Unlock()
				break
			}
			id := w.queue[0]
			w.queue = w.queue[1:]
			w.inFlight++
			w.mu.Unlock()
			res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
			if err == nil {
				w.note("body", string(res.Body))
			}
			w.mu.Lock()
			w.inFlight--
			w.mu.Unlock()
		}
	}
}

// flush waits (up to timeout) for the bodies still to read, then stops.
func (w *leakWatch) flush(timeout time.Duration) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		idle := len(w.queue) == 0 && w.inFlight == 0
		w.mu.Unlock()
		if idle {
			break
		}
	}
	w.stop()
	<-w.stoppedCh
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// findLeaks names each appearance of the secret and of a token with the
// all-apis scope in text.
func findLeaks(text, secret string) []string {
	var out []string
	if secret != "" && strings.Contains(text, secret) {
		out = append(out, "the service principal secret")
	}
	for _, tok := range jwtRE.FindAllString(text, -1) {
		_, c, err := claims.Decode(tok)
		if err == nil && c.HasScope(wire.ScopeAllAPIs) {
			out = append(out, "an all-apis token (jti "+c.ID+")")
			continue
		}
		if payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1]); err == nil && strings.Contains(string(payload), wire.ScopeAllAPIs) {
			out = append(out, "a token whose payload names all-apis")
		}
	}
	return out
}

// The watch itself works: a secret and an all-apis token written to the
// console, and a response body, are seen and named; a viewer's scoped
// token is not taken for a leak.
func TestLeakWatchSeesConsoleAndNetwork(t *testing.T) {
	s := newStack(t, options{})
	enc := base64.RawURLEncoding.EncodeToString
	broad := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"sp","scope":"all-apis","jti":"planted"}`)) + ".c2ln"
	scoped := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"sp","scope":"dashboards.lakeview-embedded:read dashboards.query-execution"}`)) + ".c2ln"
	s.open(t, "/login")
	if _, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		`console.log("scoped %s"); console.warn({token: "%s"}); console.error("a secret: " + %q); true`, scoped, broad, s.secret))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](`fetch('/api/health').then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(got, "ok") {
		t.Fatalf("fetch: %q %v", got, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(strings.Contains(s.watch.text(), `{"status":"ok"}`) && len(findLeaks(s.watch.text(), s.secret)) >= 2) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	text := s.watch.text()
	leaks := findLeaks(text, s.secret)
	if len(leaks) != 2 || !strings.Contains(strings.Join(leaks, ";"), "jti planted") {
		t.Errorf("planted the secret and an all-apis token; the watch found %q", leaks)
	}
	if !strings.Contains(text, scoped) || !strings.Contains(text, `{"status":"ok"}`) || !strings.Contains(text, "/api/health") {
		t.Errorf("the watch missed a console message or the fetch:\n%.2000s", text)
	}
	s.watch.reset() // the planted leaks are not the app's
}
