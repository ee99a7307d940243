package emulator_test

// Browser tests of the newest embedding protocol: DATABRICKS_NAVIGATE
// (navigate() of @databricks/aibi-client 1.0.1-alpha.0 and later) and
// READY sent to the embedding page's own origin only.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

// embedPageLoads counts the requests for the embed page itself: a page
// switched in place costs none.
func embedPageLoads(em *emulator.Emulator) int {
	n := 0
	for _, r := range em.Requests(0) {
		if strings.HasPrefix(r.Path, "/embed/dashboardsv3/") {
			n++
		}
	}
	return n
}

// navigations is the frame's count of DATABRICKS_NAVIGATE messages it acted on.
func navigations(t *testing.T, ctx context.Context) string {
	t.Helper()
	n, err := inFrame[string](ctx, "dash", `document.body.getAttribute('data-navigations') || '0'`)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBrowserNavigateSwitchesPageInPlace(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, host.origin())
	stranger := newHostServer(t) // not an allowed origin
	ctx := newBrowser(t)
	tok := scopedToken(t, em, "viewer-emea", "EMEA")

	p := newHostPage(em, "Navigate", hostFrame{Name: "dash", Dashboard: testkit.DashboardID, Token: tok})
	p.Extra = []string{stranger.origin() + "/widget"}
	navigate(t, ctx, host.page(p))
	st := waitFrame(t, ctx, "dash", "ready", 15*time.Second, isSettled)
	if st.State != "ready" || len(st.Tabs) < 2 {
		t.Fatalf("frame %+v", st)
	}
	first, other := st.Tabs[0], st.Tabs[1]
	loads, pages := onPage[int](t, ctx, `window.frameLoads.dash`), embedPageLoads(em)
	inPlace := func(what string) {
		t.Helper()
		if got := onPage[int](t, ctx, `window.frameLoads.dash`); got != loads {
			t.Errorf("%s: the iframe loaded again (%d load events, then %d)", what, loads, got)
		}
		if got := embedPageLoads(em); got != pages {
			t.Errorf("%s: the embed page was requested again (%d, then %d)", what, pages, got)
		}
	}

	// navigate({dashboardId, pageId}) as the official client posts it.
	onPage[bool](t, ctx, fmt.Sprintf(`window.navigateFrame("dash", %q, %q)`, testkit.DashboardID, other))
	st = waitFrame(t, ctx, "dash", "on page "+other, 10*time.Second, func(s frameStatus) bool { return s.State == "ready" && s.Page == other })
	if st.ActiveTab != other || len(st.Rows) == 0 || st.Viewer != "viewer-emea" || !strings.Contains(st.URL, "/pages/"+other+"?") {
		t.Fatalf("after navigate to %s: %+v", other, st)
	}
	inPlace("navigate to a page")
	browsertest.Screenshot(t, ctx, "emulator-dashboard-navigated")

	// Without pageId: the dashboard's first page. Two navigations in a row
	// end on the last one asked for, not on whichever answer came last.
	onPage[bool](t, ctx, fmt.Sprintf(`window.navigateFrame("dash", %q, %q) && window.navigateFrame("dash", %q)`, testkit.DashboardID, other, testkit.DashboardID))
	st = waitFrame(t, ctx, "dash", "back on the first page", 10*time.Second, func(s frameStatus) bool {
		return s.State == "ready" && s.Page == first && navigations(t, ctx) == "3"
	})
	if st.ActiveTab != first || len(st.Rows) == 0 {
		t.Fatalf("after navigate without pageId: %+v", st)
	}
	time.Sleep(300 * time.Millisecond) // a stale answer would land now
	if st = waitFrame(t, ctx, "dash", "still on the first page", time.Second, func(frameStatus) bool { return true }); st.Page != first {
		t.Fatalf("a stale answer won: %+v", st)
	}
	inPlace("navigate without pageId")

	// A dashboard the token does not grant: refused by the query API, shown
	// in the frame; navigating back recovers.
	onPage[bool](t, ctx, fmt.Sprintf(`window.navigateFrame("dash", %q)`, testkit.DraftDashboardID))
	st = waitFrame(t, ctx, "dash", "refused", 10*time.Second, func(s frameStatus) bool { return s.State == "error" })
	if !words.MatchString(st.Notice) {
		t.Errorf("refusal without a readable notice: %+v", st)
	}
	onPage[bool](t, ctx, fmt.Sprintf(`window.navigateFrame("dash", %q, %q)`, testkit.DashboardID, other))
	st = waitFrame(t, ctx, "dash", "back on the dashboard", 10*time.Second, func(s frameStatus) bool { return s.State == "ready" && s.Page == other })
	if st.Error != "" || st.Notice != "" {
		t.Errorf("after recovering: %+v", st)
	}

	// A malformed navigation is refused with a notice; the page stays.
	onPage[bool](t, ctx, `window.navigateFrame("dash", 42)`)
	st = waitFrame(t, ctx, "dash", "malformed refused", 5*time.Second, func(s frameStatus) bool { return s.Error == "INVALID_NAVIGATION" })
	if st.Page != other || st.State != "ready" {
		t.Errorf("after a malformed navigation: %+v", st)
	}
	before := navigations(t, ctx)

	// The widget on another origin asks for a navigation: ignored.
	if _, err := inFrame[bool](ctx, "dash", `(window.addEventListener('message', function (ev) {
		document.documentElement.setAttribute('data-test-seen', (document.documentElement.getAttribute('data-test-seen') || '') + ev.origin + ';');
	}), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := inFrame[bool](ctx, "extra0", fmt.Sprintf(`(parent.frames['dash'].postMessage({type: 'DATABRICKS_NAVIGATE', dashboardId: %q, pageId: %q}, '*'), true)`, testkit.DashboardID, first)); err != nil {
		t.Fatalf("post from the widget: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		seen, _ := inFrame[string](wctx, "dash", `document.documentElement.getAttribute('data-test-seen') || ''`)
		if strings.Contains(seen, stranger.origin()+";") {
			break
		}
		select {
		case <-wctx.Done():
			t.Fatalf("the widget's message never reached the frame: seen %q", seen)
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond)
	st = waitFrame(t, ctx, "dash", "unchanged", time.Second, func(frameStatus) bool { return true })
	if st.Page != other || navigations(t, ctx) != before {
		t.Fatalf("the frame navigated on a message from %s: %+v", stranger.origin(), st)
	}
	inPlace("every navigation")
}

// READY goes to the embedding page's origin only, not to every allowed
// origin: before, each mount made Chromium log one "target origin ... does
// not match" warning per other allowed origin.
func TestBrowserReadyGoesOnlyToTheEmbeddingOrigin(t *testing.T) {
	em := start(t)
	host := newHostServer(t)
	allowOrigin(t, em, "https://partner.example")
	allowOrigin(t, em, host.origin())
	allowOrigin(t, em, "http://127.0.0.1:1")
	ctx := newBrowser(t)
	tok := scopedToken(t, em, "viewer-emea", "EMEA")

	var mu sync.Mutex
	var logged []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok {
			mu.Lock()
			logged = append(logged, e.Entry.Text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	mismatches := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, l := range logged {
			if strings.Contains(l, "postMessage") {
				out = append(out, l)
			}
		}
		return out
	}

	// The app's own frame sends no referrer: the origin comes from
	// location.ancestorOrigins then.
	for _, noReferrer := range []bool{false, true} {
		navigate(t, ctx, host.page(newHostPage(em, "READY origin", hostFrame{Name: "dash", Dashboard: testkit.DashboardID, Token: tok, NoReferrer: noReferrer})))
		st := waitFrame(t, ctx, "dash", "ready", 15*time.Second, isSettled)
		if st.State != "ready" {
			t.Fatalf("no referrer %v: frame %+v", noReferrer, st)
		}
		parent, err := inFrame[string](ctx, "dash", `document.body.getAttribute('data-parent-origin')`)
		if err != nil || parent != host.origin() {
			t.Fatalf("no referrer %v: the frame found its parent's origin %q (%v), want %s", noReferrer, parent, err, host.origin())
		}
		time.Sleep(500 * time.Millisecond) // let any warning arrive
		if m := mismatches(); len(m) != 0 {
			t.Errorf("no referrer %v: READY was posted to other origins: %q", noReferrer, m)
		}
		ready := 0
		for _, m := range onPage[[]message](t, ctx, `window.received`) {
			if m.Type == "DATABRICKS_EMBED_READY" {
				ready++
			}
		}
		if ready != 1 {
			t.Errorf("no referrer %v: the page received READY %d times, want once", noReferrer, ready)
		}
	}

	// The capture works: a post to a wrong origin is logged.
	onPage[bool](t, ctx, `(document.querySelector('iframe').contentWindow.postMessage('x', 'https://partner.example'), true)`)
	deadline := time.Now().Add(5 * time.Second)
	for len(mismatches()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(mismatches()) == 0 {
		t.Fatal("a post to a wrong origin was not logged: the check above proves nothing")
	}
}
