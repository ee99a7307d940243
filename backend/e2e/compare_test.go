package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

func TestCompareShowsTwoViewersSideBySide(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers a[data-viewer]')`, 30*time.Second)

	s.open(t, "/compare?a=viewer-emea&b=viewer-apac")
	a := s.waitFrame(t, "dashboard-frame-a", "EMEA rows on the left", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
	b := s.waitFrame(t, "dashboard-frame-b", "APAC rows on the right", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-apac" }, 30*time.Second)
	if a.Revenue == b.Revenue || a.Rows == 0 || b.Rows == 0 {
		t.Fatalf("left %+v, right %+v: want two different sets of rows", a, b)
	}
	verdict := s.eval(t, `document.getElementById('verdict').innerText`)
	if !strings.Contains(verdict, `"EMEA"`) || !strings.Contains(verdict, `"APAC"`) {
		t.Errorf("verdict = %q", verdict)
	}
	if v := s.eval(t, `document.querySelector('#side-b .side-value').innerText`); v != "APAC" {
		t.Errorf("right side's external_value = %q", v)
	}
	browsertest.Screenshot(t, s.ctx, "app-compare-emea-apac")

	// Picking another viewer on the right changes only the right side, and the URL.
	if err := chromedp.Do(s.ctx, chromedp.SetValue(chromedp.ID("pick-b"), "viewer-amer"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('pick-b').dispatchEvent(new Event('change', {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	b2 := s.waitFrame(t, "dashboard-frame-b", "AMER rows on the right", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-amer" }, 30*time.Second)
	if b2.Revenue == b.Revenue || b2.Revenue == a.Revenue {
		t.Fatalf("AMER on the right shows %s (EMEA %s, APAC %s)", b2.Revenue, a.Revenue, b.Revenue)
	}
	if still := s.frame(t, "dashboard-frame-a"); still.Viewer != "viewer-emea" || still.Revenue != a.Revenue {
		t.Errorf("the left side changed: %+v", still)
	}
	if u := s.eval(t, `location.search`); !strings.Contains(u, "b=viewer-amer") || !strings.Contains(u, "a=viewer-emea") {
		t.Errorf("URL after switching: %q", u)
	}
}
