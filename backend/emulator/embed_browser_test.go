package emulator_test

// Browser tests of the embedded dashboard: a test page on another origin
// frames the emulator's embed page in headless Chromium and speaks the
// embedding protocol with it (DATABRICKS_EMBED_READY, DATABRICKS_SET_CONFIG,
// DATABRICKS_SET_TOKEN), as the official browser client does.
//
// The tests read inside the cross-origin frame through the DevTools
// protocol: browsertest keeps the frame in the page's process, so its
// nodes are reachable with chromedp.FromNode, and an isolated world of the
// frame (same DOM, its own globals) evaluates JavaScript there. The test
// page itself only ever sees what a real embedding page sees: messages.
//
// The tests do not run in parallel: each starts its own Chromium, and two
// of them depend on timing (a token that expires while it is shown, and
// frames that load within one second of each other against a rate limit).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// browserTimeout bounds each test's browser; every wait has its own,
// shorter timeout inside it.
const browserTimeout = 45 * time.Second

// hostFrame is one dashboard iframe of a test page. Token, when set, is
// sent with DATABRICKS_SET_TOKEN as soon as the frame says it is ready.
type hostFrame struct {
	Name      string `json:"name"`
	Dashboard string `json:"dashboard"`
	Page      string `json:"page,omitempty"`
	Token     string `json:"token,omitempty"`
	// NoReferrer sets referrerpolicy="no-referrer" on the iframe, as the
	// app's own frame does.
	NoReferrer bool `json:"noReferrer,omitempty"`
}

// hostPage is the configuration of one embedding test page.
type hostPage struct {
	Title     string      `json:"title"`
	Instance  string      `json:"instance"` // the workspace URL (the emulator)
	Workspace string      `json:"workspace"`
	Frames    []hostFrame `json:"frames"`
	// Extra are other iframes (by URL) on the page, such as a widget from
	// another origin.
	Extra []string `json:"extra,omitempty"`
}

// hostPageHTML is the embedding page. It does what @databricks/aibi-client
// does: it trusts a message only when its origin is the workspace's and its
// source is one of its dashboard frames, answers READY with SET_CONFIG and
// SET_TOKEN, and records every message for the test to read.
const hostPageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Embedding test page</title>
<style>
body { margin: 0; font-family: "DejaVu Sans", sans-serif; background: #fff; }
header { height: 32px; line-height: 32px; padding: 0 12px; background: #1f2937; color: #fff; font-size: 14px; }
#frames { display: flex; flex-wrap: wrap; }
iframe { border: 0; display: block; width: 100%; height: calc(100vh - 32px); }
#frames.many iframe { width: 50%; height: 256px; box-sizing: border-box; border: 1px solid #ccc; }
#frames iframe.extra { width: 100%; height: 40px; }
</style></head>
<body><header id="title"></header><div id="frames"></div>
<script>var cfg = /*CONFIG*/null;</script>
<script>
(function () {
  'use strict';
  var instance = new URL(cfg.instance).origin;
  var tokens = {};
  window.received = [];
  window.ignored = [];
  window.frameLoads = {};
  var frameEls = {};
  document.getElementById('title').textContent = cfg.title;

  function frameOf(source) {
    for (var n in frameEls) {
      if (frameEls[n].contentWindow === source) { return n; }
    }
    return '';
  }

  window.addEventListener('message', function (ev) {
    var rec = { origin: ev.origin, frame: frameOf(ev.source), type: (ev.data && ev.data.type) || '' };
    if (ev.origin !== instance || !rec.frame) { window.ignored.push(rec); return; }
    window.received.push(rec);
    if (rec.type === 'DATABRICKS_EMBED_READY') {
      ev.source.postMessage({ type: 'DATABRICKS_SET_CONFIG', config: { version: 1, hideRefreshButton: false } }, instance);
      if (tokens[rec.frame]) {
        ev.source.postMessage({ type: 'DATABRICKS_SET_TOKEN', token: tokens[rec.frame] }, instance);
      }
    }
  });

  // sendToken is what a getNewToken callback ends in: a new token for a
  // frame that keeps its state.
  window.sendToken = function (name, token) {
    frameEls[name].contentWindow.postMessage({ type: 'DATABRICKS_SET_TOKEN', token: token }, instance);
    return true;
  };

  // navigateFrame is @databricks/aibi-client's navigate(): pageId may be
  // left out (undefined), as the client sends it then.
  window.navigateFrame = function (name, dashboardId, pageId) {
    frameEls[name].contentWindow.postMessage({ type: 'DATABRICKS_NAVIGATE', dashboardId: dashboardId, pageId: pageId }, instance);
    return true;
  };

  var box = document.getElementById('frames');
  if (cfg.frames.length > 1) { box.className = 'many'; }
  cfg.frames.forEach(function (f) {
    var el = document.createElement('iframe');
    el.name = f.name;
    el.title = 'Dashboard ' + f.name;
    if (f.noReferrer) { el.referrerPolicy = 'no-referrer'; }
    el.src = cfg.instance + '/embed/dashboardsv3/' + encodeURIComponent(f.dashboard) +
      (f.page ? '/pages/' + encodeURIComponent(f.page) : '') + '?o=' + encodeURIComponent(cfg.workspace);
    tokens[f.name] = f.token || '';
    window.frameLoads[f.name] = 0;
    el.addEventListener('load', function () { window.frameLoads[f.name]++; });
    frameEls[f.name] = el;
    box.appendChild(el);
  });
  (cfg.extra || []).forEach(function (src, i) {
    var el = document.createElement('iframe');
    el.name = 'extra' + i;
    el.className = 'extra';
    el.src = src;
    box.appendChild(el);
  });
})();
</script></body></html>`

// otherWidgetHTML is a page from an origin the workspace does not allow,
// framed by the embedding page next to the dashboard.
const otherWidgetHTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other widget</title></head>
<body style="margin:0;font:13px sans-serif;background:#fef3c7">A widget from another origin</body></html>`

// hostServer serves embedding test pages from its own origin.
type hostServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pages map[string]hostPage
}

func newHostServer(t *testing.T) *hostServer {
	t.Helper()
	h := &hostServer{pages: map[string]hostPage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{id}", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		p, ok := h.pages[r.PathValue("id")]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := json.Marshal(p) // escapes <, > and &, so it is safe inside <script>
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(strings.Replace(hostPageHTML, "/*CONFIG*/null", string(b), 1)))
	})
	mux.HandleFunc("GET /widget", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(otherWidgetHTML))
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h.srv = httptest.NewServer(mux) // 127.0.0.1 on a port of its own: an origin of its own
	t.Cleanup(h.srv.Close)
	return h
}

// origin is the server's origin, as a browser writes it (http://127.0.0.1:PORT).
func (h *hostServer) origin() string { return h.srv.URL }

// page registers a test page and returns its URL.
func (h *hostServer) page(p hostPage) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := fmt.Sprint(len(h.pages) + 1)
	h.pages[id] = p
	return h.srv.URL + "/page/" + id
}

// allowOrigin adds an embedding origin to the workspace.
func allowOrigin(t *testing.T, em *emulator.Emulator, origin string) {
	t.Helper()
	if err := em.Update(func(s *emulator.State) { s.EmbeddingOrigins = append(s.EmbeddingOrigins, origin) }); err != nil {
		t.Fatal(err)
	}
}

// newHostPage is a test page for the emulator's published dashboard.
func newHostPage(em *emulator.Emulator, title string, frames ...hostFrame) hostPage {
	return hostPage{Title: title, Instance: em.URL(), Workspace: testkit.WorkspaceID, Frames: frames}
}

// frameStatus is what the embed page shows, read inside its frame.
type frameStatus struct {
	Found      bool     `json:"found"`
	URL        string   `json:"url"`
	State      string   `json:"state"`
	Error      string   `json:"error"`
	Viewer     string   `json:"viewer"`
	Page       string   `json:"page"`
	Refreshes  string   `json:"refreshes"`
	Configured string   `json:"configured"`
	Notice     string   `json:"notice"`
	Counter    string   `json:"counter"`
	Rows       []string `json:"rows"`
	Widgets    int      `json:"widgets"`
	ActiveTab  string   `json:"activeTab"`
	Tabs       []string `json:"tabs"`
}

const frameStatusJS = `(function () {
  var b = document.body;
  if (!b) { return { found: true, url: location.href }; }
  var a = function (n) { return b.getAttribute(n) || ''; };
  var notice = document.getElementById('notice') || document.querySelector('.notice');
  var counter = document.querySelector('[data-widget="total_revenue"] .dash-counter-value');
  var active = document.querySelector('#tabs button.active');
  return {
    found: true, url: location.href,
    state: a('data-state'), error: a('data-error'), viewer: a('data-viewer'), page: a('data-page'),
    refreshes: a('data-refreshes'), configured: a('data-configured'),
    notice: notice && !notice.hidden ? notice.innerText.replace(/\s+/g, ' ').trim() : '',
    counter: counter ? counter.getAttribute('data-value') : '',
    rows: Array.prototype.map.call(document.querySelectorAll('tr[data-row]'), function (r) { return r.innerText.replace(/\s+/g, ' ').trim(); }),
    widgets: document.querySelectorAll('article[data-widget]').length,
    activeTab: active ? active.getAttribute('data-page') : '',
    tabs: Array.prototype.map.call(document.querySelectorAll('#tabs button'), function (x) { return x.getAttribute('data-page'); })
  };
})()`

// errNoFrame means the page has no child frame of that name (yet).
var errNoFrame = errors.New("no such frame")

// findFrame returns the frame whose iframe has the name, anywhere in the page.
func findFrame(ft *page.FrameTree, name string) *cdp.Frame {
	if ft == nil {
		return nil
	}
	if ft.Frame != nil && ft.Frame.ParentID != "" && ft.Frame.Name == name {
		return ft.Frame
	}
	for _, c := range ft.ChildFrames {
		if f := findFrame(c, name); f != nil {
			return f
		}
	}
	return nil
}

// frameInfo returns what the browser says about the named frame: its URL,
// or chrome-error://... when it refused to show the document.
func frameInfo(ctx context.Context, name string) (*cdp.Frame, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (*cdp.Frame, error) {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if f := findFrame(tree.FrameTree, name); f != nil {
			return f, nil
		}
		return nil, errNoFrame
	})
}

// inFrame evaluates expr in an isolated world of the named frame: it sees the
// frame's DOM (not the page's globals) even though the frame is cross-origin.
func inFrame[T any](ctx context.Context, name, expr string) (T, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (T, error) {
		var zero T
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return zero, err
		}
		f := findFrame(tree.FrameTree, name)
		if f == nil {
			return zero, errNoFrame
		}
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: f.ID, WorldName: "embedlab-test"})
		if err != nil {
			return zero, err
		}
		return chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.ContextID = w.ExecutionContextID })(ctx, t)
	})
}

// onPage evaluates expr in the embedding page itself.
func onPage[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(cctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %q on the test page: %v", expr, err)
	}
	return v
}

// message is one message the test page received.
type message struct {
	Origin string `json:"origin"`
	Frame  string `json:"frame"`
	Type   string `json:"type"`
}

// waitFrame polls the named frame until cond holds, and fails the test
// with what the frame and the page show when it does not within timeout.
func waitFrame(t *testing.T, ctx context.Context, name, what string, timeout time.Duration, cond func(frameStatus) bool) frameStatus {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last frameStatus
	var lastErr error
	for {
		st, err := inFrame[frameStatus](wctx, name, frameStatusJS)
		if err == nil {
			last, lastErr = st, nil
			if cond(st) {
				return st
			}
		} else {
			lastErr = err
		}
		select {
		case <-wctx.Done():
			dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
			received, _ := chromedp.Run(dctx, chromedp.Evaluate[[]message](`window.received || []`))
			dcancel()
			t.Fatalf("frame %s: %s: not within %s; frame shows %+v (last error %v); the page received %+v",
				name, what, timeout, last, lastErr, received)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isSettled is a frame that stopped loading: ready, failed or expired.
func isSettled(s frameStatus) bool {
	return s.State == "ready" || s.State == "error" || s.State == "expired"
}

// newBrowser starts Chromium with a 1280x800 viewport.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t, browserTimeout)
}

// navigate opens the test page in the browser's tab.
func navigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(nctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
}

// scopedTokenForDashboard runs the three steps for one viewer of any
// published dashboard.
func scopedTokenForDashboard(t *testing.T, em *emulator.Emulator, dash, viewer, value string) string {
	t.Helper()
	r := get(t, tokenInfoURL(em, dash, viewer, value), spToken(t, em))
	if r.status != http.StatusOK {
		t.Fatalf("tokeninfo for %s: %d %s", dash, r.status, r.body)
	}
	var info wire.TokenInfo
	r.json(t, &info)
	r = postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, info.ExchangeForm())
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("exchange for %s: %d %s", dash, r.status, r.body)
	}
	return tr.AccessToken
}

// words matches a notice that people can read: several words, not a bare code.
var words = regexp.MustCompile(`[A-Za-z]{3,}( [A-Za-z,.:']+){3,}`)

func TestBrowserEmbedsDashboardForEachViewer(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, host.origin())
	ctx := newBrowser(t)
	emOrigin := em.URL()

	type seen struct {
		counter string
		rows    []string
	}
	results := map[string]seen{}
	for _, v := range []struct{ viewer, value, name string }{
		{"viewer-emea", "EMEA", "emea"},
		{"viewer-apac", "APAC", "apac"},
	} {
		tok := scopedToken(t, em, v.viewer, v.value)
		u := host.page(newHostPage(em, "Embedding test page · "+v.viewer+" ("+v.value+")", hostFrame{Name: "dash", Dashboard: testkit.DashboardID, Token: tok}))
		navigate(t, ctx, u)
		st := waitFrame(t, ctx, "dash", "ready for "+v.viewer, 15*time.Second, isSettled)
		if st.State != "ready" {
			t.Fatalf("%s: frame settled in %+v", v.viewer, st)
		}

		// The page got READY from the workspace's origin, from its frame.
		received := onPage[[]message](t, ctx, `window.received`)
		if len(received) == 0 || received[0] != (message{Origin: emOrigin, Frame: "dash", Type: "DATABRICKS_EMBED_READY"}) {
			t.Fatalf("%s: messages received %+v, want DATABRICKS_EMBED_READY from %s first", v.viewer, received, emOrigin)
		}
		if ignored := onPage[[]message](t, ctx, `window.ignored`); len(ignored) != 0 {
			t.Errorf("%s: the page ignored messages %+v", v.viewer, ignored)
		}
		if st.Viewer != v.viewer || st.Configured != "true" || st.Refreshes != "0" || st.Error != "" || st.Notice != "" {
			t.Errorf("%s: frame %+v", v.viewer, st)
		}
		if st.Widgets != 6 || len(st.Tabs) != 2 || st.ActiveTab != st.Page || st.Page != st.Tabs[0] {
			t.Errorf("%s: %d widgets, tabs %v (active %q, page %q), want 6 widgets on the first of 2 pages", v.viewer, st.Widgets, st.Tabs, st.ActiveTab, st.Page)
		}

		// The same, read from the frame's nodes with chromedp.FromNode.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		iframes, err := chromedp.Run(rctx, chromedp.Nodes(chromedp.CSS(`iframe[name="dash"]`)))
		if err != nil {
			cancel()
			t.Fatalf("iframe node: %v", err)
		}
		counter, err := chromedp.Run(rctx, chromedp.AttributeValue(chromedp.CSS(`[data-widget="total_revenue"] .dash-counter-value`), "data-value", chromedp.FromNode(iframes[0])))
		if err != nil {
			cancel()
			t.Fatalf("counter through FromNode: %v", err)
		}
		rowNodes, err := chromedp.Run(rctx, chromedp.Nodes(chromedp.CSSAll(`[data-widget="top_countries"] tr[data-row]`), chromedp.FromNode(iframes[0])))
		if err != nil {
			cancel()
			t.Fatalf("rows through FromNode: %v", err)
		}
		firstRow, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS(`[data-widget="top_countries"] tr[data-row="0"]`), chromedp.FromNode(iframes[0])))
		cancel()
		if err != nil {
			t.Fatalf("first row through FromNode: %v", err)
		}
		if !counter.Exists || counter.Value != st.Counter || counter.Value == "" {
			t.Errorf("%s: counter %+v through FromNode, %q through the frame's DOM", v.viewer, counter, st.Counter)
		}
		if len(rowNodes) == 0 || len(st.Rows) == 0 || strings.Join(strings.Fields(firstRow), " ") != st.Rows[0] {
			t.Errorf("%s: %d rows through FromNode, first %q; the frame's DOM shows %q", v.viewer, len(rowNodes), firstRow, st.Rows)
		}
		t.Logf("%s: total revenue %s, rows %q", v.viewer, st.Counter, st.Rows)
		results[v.viewer] = seen{st.Counter, st.Rows}

		browsertest.Screenshot(t, ctx, "emulator-dashboard-"+v.name)
		// The table is below the fold at 1280x800: scroll the frame to it.
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = inFrame[bool](sctx, "dash", `(document.querySelector('[data-widget="top_countries"]').scrollIntoView(), true)`)
		cancel()
		if err != nil {
			t.Fatalf("scroll to the table: %v", err)
		}
		browsertest.Screenshot(t, ctx, "emulator-dashboard-"+v.name+"-table")
	}

	emea, apac := results["viewer-emea"], results["viewer-apac"]
	if emea.counter == apac.counter {
		t.Errorf("both viewers see total revenue %s", emea.counter)
	}
	if strings.Join(emea.rows, "|") == strings.Join(apac.rows, "|") {
		t.Errorf("both viewers see the rows %q", emea.rows)
	}
	ej, aj := strings.Join(emea.rows, "|"), strings.Join(apac.rows, "|")
	if !strings.Contains(ej, "Germany") && !strings.Contains(ej, "France") {
		t.Errorf("EMEA rows have no European country: %q", emea.rows)
	}
	if strings.Contains(ej, "Japan") || strings.Contains(aj, "Germany") || strings.Contains(aj, "France") {
		t.Errorf("a viewer sees another region's country: EMEA %q, APAC %q", emea.rows, apac.rows)
	}
}

func TestBrowserNewTokenKeepsFrameAndPage(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, host.origin())
	ctx := newBrowser(t)
	first := scopedToken(t, em, "viewer-emea", "EMEA")
	second := scopedToken(t, em, "viewer-emea", "EMEA")

	navigate(t, ctx, host.page(newHostPage(em, "Token refresh", hostFrame{Name: "dash", Dashboard: testkit.DashboardID, Token: first})))
	st := waitFrame(t, ctx, "dash", "ready", 15*time.Second, isSettled)
	if st.State != "ready" || len(st.Tabs) < 2 {
		t.Fatalf("frame %+v", st)
	}
	other := st.Tabs[1]

	// Switch to the second page with a real click on its tab in the frame.
	iframes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe[name="dash"]`)))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Do(cctx, chromedp.Click(chromedp.CSS(`#tabs button[data-page="`+other+`"]`), chromedp.FromNode(iframes[0])))
	cancel()
	if err != nil {
		t.Fatalf("click the %s tab: %v", other, err)
	}
	st = waitFrame(t, ctx, "dash", "on page "+other, 10*time.Second, func(s frameStatus) bool { return s.State == "ready" && s.Page == other })
	if st.ActiveTab != other || len(st.Rows) == 0 {
		t.Fatalf("after the click: %+v", st)
	}
	rowsBefore := st.Rows
	loadsBefore := onPage[int](t, ctx, `window.frameLoads.dash`)
	pageLoads := func() int {
		n := 0
		for _, r := range em.Requests(0) {
			if strings.HasPrefix(r.Path, "/embed/dashboardsv3/") {
				n++
			}
		}
		return n
	}
	embedPagesBefore := pageLoads()

	// A new token, as a getNewToken callback sends it.
	if !onPage[bool](t, ctx, fmt.Sprintf(`window.sendToken("dash", %q)`, second)) {
		t.Fatal("sendToken")
	}
	st = waitFrame(t, ctx, "dash", "token refreshed", 10*time.Second, func(s frameStatus) bool { return s.Refreshes == "1" && s.State == "ready" })
	if st.Page != other || st.ActiveTab != other || st.Viewer != "viewer-emea" || len(st.Rows) == 0 {
		t.Errorf("after the new token: %+v, want still on page %s with rows", st, other)
	}
	if strings.Join(st.Rows, "|") != strings.Join(rowsBefore, "|") {
		t.Errorf("rows changed with the token: %q, then %q", rowsBefore, st.Rows)
	}
	if got := onPage[int](t, ctx, `window.frameLoads.dash`); got != loadsBefore {
		t.Errorf("the frame reloaded: %d load events, then %d", loadsBefore, got)
	}
	if got := pageLoads(); got != embedPagesBefore {
		t.Errorf("the embed page was requested again: %d times, then %d", embedPagesBefore, got)
	}
	if st.Widgets == 0 || st.Error != "" || st.Notice != "" {
		t.Errorf("after the refresh: %+v", st)
	}
	t.Logf("page %s after the new token: %d widgets, rows %q; %d iframe load events", st.Page, st.Widgets, st.Rows, loadsBefore)
	browsertest.Screenshot(t, ctx, "emulator-dashboard-emea-"+other)
	// The new token is the one in use: the render call after it carried it.
	renders := 0
	for _, r := range em.Requests(0) {
		if strings.Contains(r.Path, "/render") && r.Status == http.StatusOK {
			renders++
		}
	}
	if renders != 3 {
		t.Errorf("%d successful render calls, want 3 (first page, second page, second page with the new token)", renders)
	}
}

func TestBrowserShowsTokenErrorsInFrame(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, host.origin())
	ctx := newBrowser(t)

	broad := spToken(t, em) // all-apis: under-scoped for the dashboard
	if err := em.Update(func(s *emulator.State) {
		for i := range s.Dashboards {
			if s.Dashboards[i].ID == testkit.DraftDashboardID {
				s.Dashboards[i].Published = true
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	foreign := scopedTokenForDashboard(t, em, testkit.DraftDashboardID, "viewer-emea", "EMEA")

	// Expired before it arrives: issued two hours ago (clock skew) with a
	// lifetime of one hour.
	if err := em.SetClockSkew(-2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	expired := scopedToken(t, em, "viewer-emea", "EMEA")
	// Expires while it is shown: issued so that exp is 20 s from now, time
	// enough for the frame to load on a busy machine (6 s was not).
	const expiresIn = 20 * time.Second
	if err := em.SetClockSkew(-(time.Hour - expiresIn)); err != nil {
		t.Fatal(err)
	}
	expiring := scopedToken(t, em, "viewer-emea", "EMEA")
	issued := time.Now()
	if err := em.SetClockSkew(0); err != nil {
		t.Fatal(err)
	}

	navigate(t, ctx, host.page(newHostPage(em, "Token errors",
		hostFrame{Name: "malformed", Dashboard: testkit.DashboardID, Token: "not-a-jwt"},
		hostFrame{Name: "expired", Dashboard: testkit.DashboardID, Token: expired},
		hostFrame{Name: "foreign", Dashboard: testkit.DashboardID, Token: foreign},
		hostFrame{Name: "allapis", Dashboard: testkit.DashboardID, Token: broad},
		hostFrame{Name: "expiring", Dashboard: testkit.DashboardID, Token: expiring},
	)))

	// The token that expires while shown: first the dashboard, then the notice.
	st := waitFrame(t, ctx, "expiring", "ready", 10*time.Second, isSettled)
	if st.State != "ready" || st.Widgets == 0 {
		t.Fatalf("expiring: %+v, want the dashboard before the token expires", st)
	}

	for _, c := range []struct {
		frame, code string
		want        []string // in the notice
	}{
		{"malformed", "INVALID_TOKEN_FORMAT", []string{"malformed", "JWT"}},
		{"expired", wire.ErrUnauthenticated, []string{"refused", "expired"}},
		{"foreign", wire.ErrPermissionDenied, []string{"does not grant", "issued for dashboard " + testkit.DraftDashboardID}},
		{"allapis", wire.ErrPermissionDenied, []string{"required scopes", "dashboards.lakeview-embedded:read"}},
	} {
		st := waitFrame(t, ctx, c.frame, "an error", 15*time.Second, func(s frameStatus) bool { return s.State == "error" })
		if st.Error != c.code || st.Widgets != 0 || len(st.Rows) != 0 {
			t.Errorf("%s: %+v, want error %s and no widgets", c.frame, st, c.code)
		}
		for _, w := range c.want {
			if !strings.Contains(st.Notice, w) {
				t.Errorf("%s: notice %q does not say %q", c.frame, st.Notice, w)
			}
		}
		if !words.MatchString(st.Notice) {
			t.Errorf("%s: notice %q is not a sentence people can read", c.frame, st.Notice)
		}
		t.Logf("%s: %s", c.frame, st.Notice)
	}

	st = waitFrame(t, ctx, "expiring", "expired", time.Until(issued.Add(expiresIn))+5*time.Second, func(s frameStatus) bool { return s.State == "expired" })
	if st.Error != "TOKEN_EXPIRED" || !strings.Contains(st.Notice, "expired") || !strings.Contains(st.Notice, "DATABRICKS_SET_TOKEN") || !words.MatchString(st.Notice) {
		t.Errorf("expiring: %+v", st)
	}
	t.Logf("expiring: %s", st.Notice)
	if ignored := onPage[[]message](t, ctx, `window.ignored`); len(ignored) != 0 {
		t.Errorf("the page ignored messages %+v", ignored)
	}
	browsertest.Screenshot(t, ctx, "emulator-dashboard-token-errors")
}

func TestBrowserRefusesOtherOrigins(t *testing.T) {
	em := start(t)
	allowed := newHostServer(t)
	allowOrigin(t, em, allowed.origin())
	stranger := newHostServer(t) // 127.0.0.1 on another port: not allowed
	ctx := newBrowser(t)
	emea := scopedToken(t, em, "viewer-emea", "EMEA")
	apac := scopedToken(t, em, "viewer-apac", "APAC")

	t.Run("page on another origin cannot frame the dashboard", func(t *testing.T) {
		seq := len(em.Requests(0))
		navigate(t, ctx, stranger.page(newHostPage(em, "Not an allowed origin", hostFrame{Name: "dash", Dashboard: testkit.DashboardID, Token: emea})))
		// The browser fires load on the iframe also when CSP blocks it.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for onPage[int](t, wctx, `window.frameLoads.dash`) == 0 {
			select {
			case <-wctx.Done():
				t.Fatal("the iframe never finished loading")
			case <-time.After(50 * time.Millisecond):
			}
		}
		// Give a READY that would come every chance to arrive.
		time.Sleep(time.Second)
		served := false
		for _, r := range em.Requests(0)[seq:] {
			switch {
			case strings.HasPrefix(r.Path, "/embed/dashboardsv3/") && r.Status == http.StatusOK:
				served = true
			case strings.Contains(r.Path, "/render"), strings.HasSuffix(r.Path, "/embed.js"):
				t.Errorf("the framed page ran: %s %s", r.Method, r.Path)
			}
		}
		if !served {
			t.Errorf("the embed page was never requested: the test proves nothing")
		}
		if got := onPage[[]message](t, ctx, `window.received.concat(window.ignored)`); len(got) != 0 {
			t.Errorf("messages reached the page: %+v", got)
		}
		f, err := frameInfo(ctx, "dash")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f.URL, em.URL()) {
			t.Errorf("the frame shows %s, want the browser's error page", f.URL)
		}
		if st, err := inFrame[frameStatus](ctx, "dash", frameStatusJS); err == nil && st.State == "ready" {
			t.Errorf("the frame is ready: %+v", st)
		}
		t.Logf("blocked frame: url %s, unreachable %s", f.URL, f.UnreachableURL)
		browsertest.Screenshot(t, ctx, "emulator-dashboard-origin-refused")
	})

	t.Run("messages from another origin are ignored", func(t *testing.T) {
		p := newHostPage(em, "Allowed page with a widget from another origin", hostFrame{Name: "dash", Dashboard: testkit.DashboardID})
		p.Extra = []string{stranger.origin() + "/widget"}
		navigate(t, ctx, allowed.page(p))
		st := waitFrame(t, ctx, "dash", "waiting for a token", 10*time.Second, func(s frameStatus) bool { return s.State == "waiting" })
		if st.Configured != "true" {
			t.Errorf("the allowed page could not configure the frame: %+v", st)
		}
		// Watch the frame's messages from an isolated world, to know when
		// the widget's messages have been handled.
		if _, err := inFrame[bool](ctx, "dash", `(window.addEventListener('message', function (ev) {
			document.documentElement.setAttribute('data-test-seen',
				(document.documentElement.getAttribute('data-test-seen') || '') + ev.origin + ' ' + (ev.data && ev.data.type) + ';');
		}), true)`); err != nil {
			t.Fatal(err)
		}
		// The widget on another origin posts a valid token (for another
		// viewer), a bad config and a malformed token to the dashboard frame.
		send := fmt.Sprintf(`(function (w) {
			w.postMessage({type: 'DATABRICKS_SET_TOKEN', token: %q}, '*');
			w.postMessage({type: 'DATABRICKS_SET_CONFIG', config: {version: 2}}, '*');
			w.postMessage({type: 'DATABRICKS_SET_TOKEN', token: 'not-a-jwt'}, '*');
			return true;
		})(parent.frames['dash'])`, apac)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := inFrame[bool](wctx, "extra0", send)
		cancel()
		if err != nil {
			t.Fatalf("post from the widget: %v", err)
		}
		wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for {
			seen, _ := inFrame[string](wctx, "dash", `document.documentElement.getAttribute('data-test-seen') || ''`)
			if strings.Count(seen, stranger.origin()+" ") == 3 {
				break
			}
			select {
			case <-wctx.Done():
				t.Fatalf("the widget's messages never reached the frame: seen %q", seen)
			case <-time.After(50 * time.Millisecond):
			}
		}
		st = waitFrame(t, ctx, "dash", "still waiting", time.Second, func(frameStatus) bool { return true })
		if st.State != "waiting" || st.Error != "" || st.Viewer != "" || st.Refreshes != "" {
			t.Fatalf("the frame acted on a message from %s: %+v", stranger.origin(), st)
		}
		// The allowed page's token is still taken, and counts as the first.
		onPage[bool](t, ctx, fmt.Sprintf(`window.sendToken("dash", %q)`, emea))
		st = waitFrame(t, ctx, "dash", "ready", 10*time.Second, isSettled)
		if st.State != "ready" || st.Viewer != "viewer-emea" || st.Refreshes != "0" {
			t.Fatalf("after the allowed page's token: %+v", st)
		}
	})
}

// At 1 load per second, frames that load together are throttled with 429
// and Retry-After; the page waits as told and loads again, so every frame
// ends with rows. When the limit never lets a frame through, it gives up
// after three retries with a notice that says so.
func TestBrowserRateLimitRetriesInFrame(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, host.origin())
	ctx := newBrowser(t)
	const n = 3
	var frames []hostFrame
	for i := range n {
		// Tokens first: tokeninfo counts against the same limit.
		frames = append(frames, hostFrame{Name: fmt.Sprintf("f%d", i), Dashboard: testkit.DashboardID, Token: scopedToken(t, em, "viewer-emea", "EMEA")})
	}
	if err := em.SetRateLimit(1); err != nil {
		t.Fatal(err)
	}
	navigate(t, ctx, host.page(newHostPage(em, "Rate limit: 1 dashboard load per second", frames...)))
	for _, f := range frames {
		if st := waitFrame(t, ctx, f.Name, "rows after retrying", 20*time.Second, isSettled); st.State != "ready" {
			t.Errorf("%s: %+v", f.Name, st)
		}
	}
	throttled := 0
	for _, r := range em.Requests(0) {
		if strings.HasPrefix(r.Path, "/embed/api/") && r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatalf("%d frames at 1 load/s: no load was throttled, so nothing was retried", n)
	}
	t.Logf("%d frames at 1 load/s: all ready after %d throttled loads", n, throttled)

	// A limit that lets one load through in ten seconds: a frame gives up
	// after its retries (both may, as the first phase drained the bucket).
	if err := em.SetRateLimit(0.1); err != nil {
		t.Fatal(err)
	}
	late := []hostFrame{
		{Name: "g0", Dashboard: testkit.DashboardID, Token: frames[0].Token},
		{Name: "g1", Dashboard: testkit.DashboardID, Token: frames[1].Token},
	}
	navigate(t, ctx, host.page(newHostPage(em, "Rate limit: 1 dashboard load per 10 seconds", late...)))
	states := map[string]int{}
	for _, f := range late {
		st := waitFrame(t, ctx, f.Name, "settled", 20*time.Second, isSettled)
		states[st.State]++
		if st.State == "error" {
			if st.Error != wire.ErrRequestLimitExceeded || !strings.Contains(st.Notice, "even after retrying") || !strings.Contains(st.Notice, "per second") {
				t.Errorf("%s: %+v", f.Name, st)
			}
		}
	}
	if states["error"] == 0 || states["ready"] > 1 {
		t.Errorf("two frames at 0.1 load/s: %v, want at least one that gave up", states)
	}
	browsertest.Screenshot(t, ctx, "emulator-dashboard-rate-limited")
}
