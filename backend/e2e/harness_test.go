// Package e2e drives the whole of embedlab in headless Chromium: the Echo
// backend with the built Wasm, the workspace emulator on its own origin,
// and the dashboard in a real cross-origin iframe.
package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

// TestMain runs from the module root, where go-app finds web/ and the
// built app.wasm (make test builds it first).
func TestMain(m *testing.M) {
	dir, _ := os.Getwd()
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			fmt.Fprintln(os.Stderr, "e2e: module root not found")
			os.Exit(2)
		}
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := os.Stat("web/app.wasm"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: web/app.wasm is missing: run `make wasm` (make test does it first)")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// stack is one embedlab, served as `embedlab serve` serves it
// (testkit.Serve: the bundled emulator, fault lab and workshop included),
// and a browser.
type stack struct {
	app    *testkit.App
	em     *emulator.Emulator
	url    string // the app's origin
	ctx    context.Context
	secret string     // the service principal's, which must never reach the browser
	watch  *leakWatch // what the browser saw, checked for leaks when the test ends
}

// options are the serve settings a test needs, each given as a user gives
// it: through the environment.
type options struct {
	// margin renews scoped tokens this long before they expire
	// (EMBEDLAB_REFRESH_MARGIN; configuration allows 10s to 30m).
	margin time.Duration
	// room serves the emulator and the app on this address instead of
	// 127.0.0.1, as a classroom does (EMBEDLAB_ROOM_HOST; room_test.go).
	room string
	// timeout bounds the whole browser session (90 s when zero).
	timeout time.Duration
	// env is any other setting of serve, e.g. EMBEDLAB_VIEWERS_FILE.
	env map[string]string
}

func newStack(t *testing.T, o options) *stack {
	t.Helper()
	env := map[string]string{
		// Switching viewers dozens of times a minute is the tests' point;
		// the workspace's own limit (the default 20/s) is not.
		"EMBEDLAB_UPSTREAM_RATE": "1000",
		// No profile of this machine's Databricks CLI on Call an app.
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "databrickscfg"),
	}
	if o.margin != 0 {
		env["EMBEDLAB_REFRESH_MARGIN"] = o.margin.String()
	}
	if o.room != "" {
		env["EMBEDLAB_ROOM_HOST"] = o.room
	}
	maps.Copy(env, o.env)
	a := testkit.Serve(t, env)
	if o.timeout == 0 {
		o.timeout = 90 * time.Second
	}
	ctx := browsertest.New(t, o.timeout)
	return &stack{app: a, em: a.Emulator, url: a.URL, ctx: ctx, secret: a.Config.ClientSecret,
		watch: watchLeaks(t, ctx, a.Config.ClientSecret, a.Log, a.Out)}
}

// wait polls a JavaScript expression until it is true, failing the test
// with what the page shows when it never becomes true.
func (s *stack) wait(t *testing.T, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
			browsertest.Screenshot(t, s.ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
			t.Fatalf("waiting for %s: not true after %s (err %v); page shows:\n%s", what, timeout, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stack) eval(t *testing.T, expr string) string {
	t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (s *stack) open(t *testing.T, path string) {
	t.Helper()
	if err := chromedp.Do(s.ctx, chromedp.Navigate(s.url+path)); err != nil {
		t.Fatal(err)
	}
	// go-app shows its loader until the Wasm runs; before that the page is
	// prerendered HTML that ignores input.
	s.wait(t, "the Wasm to start", `!document.getElementById('app-wasm-loader')`, 30*time.Second)
}

// login signs in through the form, as a person would.
func (s *stack) login(t *testing.T, user, password string) {
	t.Helper()
	s.open(t, "/login")
	s.wait(t, "the login form", `!!document.querySelector('#login #name')`, 20*time.Second)
	s.submitLogin(t, testkit.User{Name: user, Password: password})
}

// loginAs is login as a demo user, e.g. testkit.Ada.
func (s *stack) loginAs(t *testing.T, u testkit.User) {
	t.Helper()
	s.login(t, u.Name, u.Password)
}

// submitLogin fills in and sends the login form the page shows.
func (s *stack) submitLogin(t *testing.T, u testkit.User) {
	t.Helper()
	if err := chromedp.Do(s.ctx,
		chromedp.SendKeys(chromedp.ID("name"), u.Name),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("sign-in")),
	); err != nil {
		t.Fatal(err)
	}
}

// frameState is what the dashboard iframe shows: its body's data-state,
// error code, viewer and the total revenue counter.
type frameState struct {
	State   string `json:"state"`
	Error   string `json:"error"`
	Viewer  string `json:"viewer"`
	Page    string `json:"page"`
	Revenue string `json:"revenue"`
	Rows    int    `json:"rows"`
	Notice  string `json:"notice"`
	Refresh string `json:"refreshes"`
}

const frameStateJS = `(function(){var b=document.body;if(!b)return {state:""};
var c=document.querySelector('[data-widget="total_revenue"] .dash-counter-value');
var n=document.getElementById('notice');
return {state:b.getAttribute('data-state')||"",error:b.getAttribute('data-error')||"",viewer:b.getAttribute('data-viewer')||"",
page:b.getAttribute('data-page')||"",revenue:c?c.getAttribute('data-value'):"",rows:document.querySelectorAll('tr[data-row]').length,
notice:n&&!n.hidden?n.innerText:"",refreshes:b.getAttribute('data-refreshes')||""};})()`

// frame reads the state of the iframe named name.
func (s *stack) frame(t *testing.T, name string) frameState {
	t.Helper()
	st, err := browsertest.FrameEval[frameState](s.ctx, name, frameStateJS)
	if err != nil {
		return frameState{Error: err.Error()}
	}
	return st
}

// waitFrame waits until the named frame satisfies ok.
func (s *stack) waitFrame(t *testing.T, name, what string, ok func(frameState) bool, timeout time.Duration) frameState {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := s.frame(t, name)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(t, s.ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
			t.Fatalf("frame %s: waiting for %s; it shows %+v", name, what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(st frameState) bool { return st.State == "ready" }

func (s *stack) click(sel string) error {
	return chromedp.Do(s.ctx, chromedp.Click(chromedp.CSS(sel)))
}

// allowAtWorkspace signs in on the workspace's U2M sign-in page as u and
// allows the app the scopes it asked for.
func (s *stack) allowAtWorkspace(t *testing.T, u testkit.WorkspaceUser) {
	t.Helper()
	if err := chromedp.Do(s.ctx,
		chromedp.SendKeys(chromedp.ID("username"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("allow")),
	); err != nil {
		t.Fatal(err)
	}
}
