package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/session"
)

// The page-load measurement opens the dashboard page in headless Chromium,
// as a signed-in user, and times it until the embedded dashboard shows rows.
const (
	pageUser   = "ada"
	pageViewer = "viewer-emea"
	pagePath   = "/?viewer=" + pageViewer
	// mainFrameName is the name of the app's dashboard iframe (app/ui/frame.go).
	mainFrameName = "dashboard-frame-main"
	// pagePoll is how often the page and the frame are read.
	pagePoll = 25 * time.Millisecond
	// sameTabReloads is how many reloads of one tab are timed.
	sameTabReloads = 5
	// pageLoadGoal is the goal of issue 8: rows visible within 1.5 s.
	pageLoadGoal = 1500 * time.Millisecond
)

// measureBrowser times page open to dashboard rows visible. The first load
// in a new browser profile is cold: no HTTP cache, no service worker, the
// Wasm downloaded and compiled. The next loads, each in a new tab of the
// same profile, are warm: go-app's service worker serves the page and the
// Wasm from its cache. More cold loads run each in a fresh browser context
// (nothing cached), so the cold figure is a median too.
func measureBrowser(ctx context.Context, e *env) ([]Row, error) {
	o := e.opts
	if o.pageLoads < 2 {
		return nil, fmt.Errorf("-page-loads %d: need at least 2 (one cold, one warm)", o.pageLoads)
	}
	s, err := e.workspace()
	if err != nil {
		return nil, err
	}
	// The workspace's default limit; one page load makes one tokeninfo call
	// at most and one dashboard load.
	if err := s.em.SetRateLimit(workspaceRate); err != nil {
		return nil, err
	}
	defer s.em.SetRateLimit(0)
	a, err := startApp(s, o.web)
	if err != nil {
		return nil, err
	}
	defer a.close()
	cookie, err := sessionCookie(ctx, a.url)
	if err != nil {
		return nil, err
	}
	bctx, stop, err := startChromium(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()

	// The profile's first tab: the cold load, then blank so it stays idle.
	first, err := openDashboard(bctx, a.url, cookie)
	if err != nil {
		return nil, fmt.Errorf("cold page load: %w", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, err
	}
	var warm []pageLoad
	for i := 1; i < o.pageLoads; i++ {
		tab, closeTab := chromedp.NewContext(bctx)
		l, err := openDashboard(tab, a.url, cookie)
		closeTab()
		if err != nil {
			return nil, fmt.Errorf("warm page load %d: %w", i, err)
		}
		warm = append(warm, l)
	}
	cold := []pageLoad{first}
	for i := 0; i < o.coldPageLoads; i++ {
		fresh, closeFresh := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		l, err := openDashboard(fresh, a.url, cookie)
		closeFresh()
		if err != nil {
			return nil, fmt.Errorf("cold page load in a fresh browser context: %w", err)
		}
		cold = append(cold, l)
	}

	// Seconds with two decimals: the polls are 25 ms apart.
	goal := fmt.Sprintf("< %.1f s", pageLoadGoal.Seconds())
	coldMed := median(cold, pageLoad.rowsSeconds)
	coldNote := fmt.Sprintf("%s; Wasm running at %.2f s (median); first load of a new profile %.2f s; app.wasm %s, %s",
		spread(cold, pageLoad.rowsSeconds), median(cold, pageLoad.wasmSeconds), first.rowsSeconds(), sources(cold), first.wasm.coding())
	warmMed := median(warm, pageLoad.rowsSeconds)
	warmNote := fmt.Sprintf("%s; Wasm running at %.2f s (median); app.wasm %s", spread(warm, pageLoad.rowsSeconds),
		median(warm, pageLoad.wasmSeconds), sources(warm))
	rows := []Row{
		Row{Group: "browser", Name: fmt.Sprintf("page open to dashboard rows, cold: median of %d", len(cold)),
			Value: coldMed, Unit: "s", Note: coldNote}.withGoal(goal, coldMed < pageLoadGoal.Seconds()),
		Row{Group: "browser", Name: fmt.Sprintf("page open to dashboard rows, warm: median of %d", len(warm)),
			Value: warmMed, Unit: "s", Note: warmNote}.withGoal(goal, warmMed < pageLoadGoal.Seconds()),
	}
	if first.wasm.found && first.wasm.bytes > 0 {
		rows = append(rows, Row{Group: "browser", Name: "app.wasm transferred on the cold load", Value: mb(first.wasm.bytes), Unit: "MB",
			Note: "encoded bytes the page received for app.wasm (DevTools Network.loadingFinished), headers included"})
	}
	// Reloads in one tab: what a presenter sees on pressing reload. The tab's
	// renderer keeps the compiled module, which a new tab compiles again.
	tab, closeTab := chromedp.NewContext(bctx)
	var reloads []pageLoad
	for i := 0; i <= sameTabReloads; i++ {
		l, err := openDashboard(tab, a.url, cookie)
		if err != nil {
			closeTab()
			return nil, fmt.Errorf("page load %d in one tab: %w", i, err)
		}
		if i > 0 { // the first opens the tab
			reloads = append(reloads, l)
		}
	}
	closeTab()
	rows = append(rows, Row{Group: "browser", Name: fmt.Sprintf("page reload in the same tab to dashboard rows: median of %d", len(reloads)),
		Value: median(reloads, pageLoad.rowsSeconds), Unit: "s",
		Note: fmt.Sprintf("%s; Wasm running at %.2f s (median); the tab's renderer keeps the compiled Wasm", spread(reloads, pageLoad.rowsSeconds),
			median(reloads, pageLoad.wasmSeconds))})

	tab, closeTab = chromedp.NewContext(bctx)
	sw, err := measureSwitches(tab, a.url, cookie)
	closeTab()
	if err != nil {
		return nil, fmt.Errorf("viewer switches: %w", err)
	}
	s2 := slices.Clone(sw)
	slices.Sort(s2)
	rows = append(rows, Row{Group: "browser", Name: fmt.Sprintf("viewer switch to the new viewer's rows: median of %d", len(sw)),
		Value: medianOf(sw), Unit: "s", Note: fmt.Sprintf("min %.2f, max %.2f; a click on the other viewer until the new iframe shows its rows (token from the cache)", s2[0], s2[len(s2)-1])})
	return rows, nil
}

// pageLoad is one timed page open.
type pageLoad struct {
	rows      time.Duration // from sending Page.navigate to the first poll that sees rows in the frame
	wasmStart time.Duration // to the first poll that sees go-app's loader gone (the Wasm runs)
	wasm      wasmFetch
}

func (l pageLoad) rowsSeconds() float64 { return l.rows.Seconds() }
func (l pageLoad) wasmSeconds() float64 { return l.wasmStart.Seconds() }

func median(ls []pageLoad, f func(pageLoad) float64) float64 {
	v := make([]float64, len(ls))
	for i, l := range ls {
		v[i] = f(l)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func spread(ls []pageLoad, f func(pageLoad) float64) string {
	v := make([]string, len(ls))
	lo, hi := f(ls[0]), f(ls[0])
	for i, l := range ls {
		v[i] = fmt.Sprintf("%.2f", f(l))
		lo, hi = min(lo, f(l)), max(hi, f(l))
	}
	return fmt.Sprintf("min %.2f, max %.2f s (loads in order: %s)", lo, hi, strings.Join(v, ", "))
}

// sources says where the warm loads got app.wasm from.
func sources(ls []pageLoad) string {
	count := map[string]int{}
	var keys []string
	for _, l := range ls {
		k := l.wasm.source()
		if count[k] == 0 {
			keys = append(keys, k)
		}
		count[k]++
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s in %d of %d", k, count[k], len(ls))
	}
	return strings.Join(parts, ", ")
}

// wasmFetch is what the page's request for app.wasm showed in DevTools.
type wasmFetch struct {
	found                       bool
	status                      int64
	encoding                    string
	fromServiceWorker, fromDisk bool
	bytes                       int64 // encodedDataLength at loadingFinished
}

func (w wasmFetch) source() string {
	switch {
	case !w.found:
		return "not requested by the page"
	case w.fromServiceWorker:
		return "from the service worker"
	case w.fromDisk:
		return "from the disk cache"
	case w.status == http.StatusNotModified:
		return "revalidated (304)"
	default:
		return fmt.Sprintf("from the network (%.2f MB)", mb(w.bytes))
	}
}

// coding is the Content-Encoding app.wasm came with.
func (w wasmFetch) coding() string {
	if w.encoding == "" {
		return "no Content-Encoding"
	}
	return "Content-Encoding " + w.encoding
}

// frameView is what the dashboard iframe shows.
type frameView struct {
	State  string `json:"state"`
	Error  string `json:"error"`
	Viewer string `json:"viewer"`
	Rows   int    `json:"rows"`
}

const frameViewJS = `(function(){var b=document.body;if(!b)return {state:"",error:"",viewer:"",rows:0};
return {state:b.getAttribute('data-state')||"",error:b.getAttribute('data-error')||"",viewer:b.getAttribute('data-viewer')||"",
rows:document.querySelectorAll('tr[data-row]').length};})()`

// wasmStartedJS is true once go-app has removed its loader from the new
// document (the Wasm is running).
const wasmStartedJS = `location.pathname === '/' && document.readyState !== 'loading' && !!document.body && !document.getElementById('app-wasm-loader')`

// openDashboard opens the dashboard page in the tab of ctx, signed in with
// the session cookie, and times it until the frame shows rows.
func openDashboard(ctx context.Context, base string, cookie *http.Cookie) (pageLoad, error) {
	var l pageLoad
	// The first call opens the tab; the viewport, the cookie (in the tab's
	// browser context) and the network listener come before the page.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		return l, err
	}
	httpOnly := true
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: cookie.Name, Value: cookie.Value,
		URL: base + "/", Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax}); err != nil {
		return l, fmt.Errorf("set the session cookie: %w", err)
	}
	var (
		mu     sync.Mutex
		wasmID network.RequestID
		wasm   wasmFetch
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if ev.Response == nil || wasm.found || !strings.HasSuffix(strings.SplitN(ev.Response.URL, "?", 2)[0], "/app.wasm") {
				return
			}
			wasmID = ev.RequestID
			wasm = wasmFetch{found: true, status: ev.Response.Status, encoding: header(ev.Response.Headers, "content-encoding"),
				fromServiceWorker: ev.Response.FromServiceWorker, fromDisk: ev.Response.FromDiskCache, bytes: int64(ev.Response.EncodedDataLength)}
		case *network.EventLoadingFinished:
			if wasmID != "" && ev.RequestID == wasmID {
				wasm.bytes = int64(ev.EncodedDataLength)
			}
		}
	}); err != nil {
		return l, err
	}

	// Page.navigate without waiting for the load event: the clock runs from
	// here to rows in the frame.
	start := time.Now()
	if res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: base + pagePath}); err != nil {
		return l, fmt.Errorf("navigate: %w", err)
	} else if res.ErrorText != "" {
		return l, fmt.Errorf("navigate: %s", res.ErrorText)
	}
	deadline := start.Add(60 * time.Second)
	var last frameView
	for {
		if l.wasmStart == 0 {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](wasmStartedJS)); err == nil && ok {
				l.wasmStart = time.Since(start)
			}
		}
		v, err := browsertest.FrameEval[frameView](ctx, mainFrameName, frameViewJS)
		if err == nil {
			last = v
			if v.State == "ready" && v.Rows > 0 {
				l.rows = time.Since(start)
				if v.Viewer != pageViewer {
					return l, fmt.Errorf("the frame shows viewer %q, not %s", v.Viewer, pageViewer)
				}
				if l.wasmStart == 0 {
					l.wasmStart = l.rows
				}
				mu.Lock()
				l.wasm = wasm
				mu.Unlock()
				return l, nil
			}
			if v.State == "error" {
				return l, fmt.Errorf("the dashboard frame shows an error: %s", v.Error)
			}
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 500) : ""`))
			return l, fmt.Errorf("no rows after %s: frame %+v (last error %v); page shows %q", time.Since(start).Round(time.Millisecond), last, err, body)
		}
		if err := sleepCtx(ctx, pagePoll); err != nil {
			return l, err
		}
	}
}

func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// app is the embedlab backend with the built Wasm, as `make run` serves it.
type app struct {
	url string
	srv *http.Server
}

func (a *app) close() { _ = a.srv.Close() }

// startApp serves the app on loopback as `embedlab serve` does (s.app: the
// bundled viewers, the broker at the workspace's pace, web as /web/), and
// lets its origin frame the workspace's dashboards.
func startApp(s *stack, web string) (*app, error) {
	srv, err := s.app("", workspaceRate, web)
	if err != nil {
		return nil, err
	}
	base, hs, err := listen(srv)
	if err != nil {
		return nil, err
	}
	if err := s.em.AllowEmbeddingOrigin(base); err != nil {
		_ = hs.Close()
		return nil, err
	}
	return &app{url: base, srv: hs}, nil
}

// sessionCookie signs pageUser in once through the API and returns the
// session cookie.
func sessionCookie(ctx context.Context, base string) (*http.Cookie, error) {
	c, err := loginAs(ctx, base, pageUser, 1)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == session.DefaultCookieName {
			return ck, nil
		}
	}
	return nil, errors.New("sign in: no session cookie in the answer")
}

// chromiumPath finds the browser as backend/browsertest does:
// $EMBEDLAB_CHROMIUM, else chromium on the PATH, else /usr/bin/chromium.
func chromiumPath() string {
	if p := browsertest.Chromium(); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// startChromium starts headless Chromium with the flags of
// browsertest.New (site isolation off, so the cross-origin dashboard frame
// is part of the page's target), a new profile in a temporary directory
// and a 1280x800 viewport. stop ends the browser and removes the profile.
func startChromium(parent context.Context) (context.Context, func(), error) {
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("Chromium is needed for the page-load measurement (%w): apt-get install chromium, or set EMBEDLAB_CHROMIUM", err)
	}
	dir, err := os.MkdirTemp("", "embedlab-bench-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := browsertest.Options(path, dir)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	stop := func() {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start Chromium (%s): %w", path, err)
	}
	return ctx, stop, nil
}
