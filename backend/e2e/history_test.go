package e2e

import (
	"embedlab/backend/testkit"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// settledOn waits until the dashboard page shows viewer on page (the pill,
// the heading, the URL) and the frame inside shows the same viewer and page.
func (s *stack) settledOn(t *testing.T, viewer, page string) {
	t.Helper()
	s.wait(t, "the page on "+viewer+"/"+page, fmt.Sprintf(`(function(v,p){var h=document.getElementById('frame-title'), a=document.querySelector('#pages a.active'),
		sel=document.querySelector('#viewers a.selected');
		return !!h && h.dataset.viewer===v && !!a && a.dataset.page===p && !!sel && sel.dataset.viewer===v;})(%q,%q)`, viewer, page), 20*time.Second)
	st := s.waitFrame(t, mainFrame, viewer+"/"+page, func(st frameState) bool { return ready(st) && st.Viewer == viewer && st.Page == page }, 20*time.Second)
	if st.Rows == 0 && page != "products" {
		t.Errorf("%s/%s: no rows", viewer, page)
	}
}

func (s *stack) historyLength(t *testing.T) int {
	t.Helper()
	n, err := chromedp.Run(s.ctx, chromedp.Evaluate[int](`history.length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *stack) back(t *testing.T, forward bool) {
	t.Helper()
	js := `history.back()`
	if forward {
		js = `history.forward()`
	}
	if _, err := chromedp.Run(s.ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
		t.Fatal(err)
	}
}

// Issue #14: a page change added two history entries (the page's and the
// iframe's navigation), and Back then left the URL on Products while the
// frame said "Waiting for a token", then NO_TOKEN. Now each change is one
// entry, and Back and Forward restore viewer, page and frame.
func TestBackAndForwardRestoreViewerPageAndFrame(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the viewer list", `document.querySelectorAll('#viewers a[data-viewer]').length == 2`, 30*time.Second)
	s.open(t, "/?viewer=viewer-amer")
	s.wait(t, "the page picker", `!!document.querySelector('#pages a')`, 20*time.Second)
	first := s.eval(t, `document.querySelector('#pages a').dataset.page`)
	s.settledOn(t, "viewer-amer", first)
	h0 := s.historyLength(t)

	steps := []struct{ sel, viewer, page string }{
		{`#viewers a[data-viewer="viewer-emea"]`, "viewer-emea", first},
		{`#pages a[data-page="products"]`, "viewer-emea", "products"},
		{`#viewers a[data-viewer="viewer-amer"]`, "viewer-amer", "products"},
		{`#pages a[data-page="` + first + `"]`, "viewer-amer", first},
	}
	for i, st := range steps {
		if err := s.click(st.sel); err != nil {
			t.Fatal(err)
		}
		s.settledOn(t, st.viewer, st.page)
		if n := s.historyLength(t); n != h0+i+1 {
			t.Fatalf("after %d changes history has %d entries more, want %d: one per change", i+1, n-h0, i+1)
		}
	}
	// Back through every change, then Forward again: each restores the
	// viewer, the page and a frame showing them.
	for i := len(steps) - 2; i >= -1; i-- {
		s.back(t, false)
		v, p := "viewer-amer", first
		if i >= 0 {
			v, p = steps[i].viewer, steps[i].page
		}
		s.settledOn(t, v, p)
		if u := s.eval(t, `location.search`); !strings.Contains(u, "viewer="+v) {
			t.Errorf("Back to %s/%s: URL %q", v, p, u)
		}
	}
	for i := range steps {
		s.back(t, true)
		s.settledOn(t, steps[i].viewer, steps[i].page)
	}
	if n := s.historyLength(t); n != h0+len(steps) {
		t.Errorf("Back and Forward changed the history's length: %d, want %d", n, h0+len(steps))
	}
}

// Issue #14: a deep link opened while signed out landed on / after sign-in.
func TestDeepLinkSurvivesSignIn(t *testing.T) {
	s := newStack(t, options{})
	s.open(t, "/?viewer=viewer-emea&page=products")
	s.wait(t, "the login page", `location.pathname === '/login' && !!document.querySelector('#login #name')`, 20*time.Second)
	if u := s.eval(t, `location.search`); !strings.Contains(u, "next=") {
		t.Fatalf("the login page forgot the link: %q", u)
	}
	s.submitLogin(t, testkit.Ada)
	s.settledOn(t, "viewer-emea", "products")
	if u := s.eval(t, `location.pathname + location.search`); u != "/?viewer=viewer-emea&page=products" {
		t.Errorf("after sign-in the URL is %q", u)
	}
	// A next= that leaves the site is ignored.
	s.signOut(t)
	s.open(t, "/login?next=//evil.example/x")
	s.wait(t, "the login form", `!!document.querySelector('#login #name')`, 20*time.Second)
	s.submitLogin(t, testkit.Ada)
	s.wait(t, "the dashboard", `location.origin + location.pathname === '`+s.url+`/' && !!document.querySelector('#viewers')`, 20*time.Second)
}
