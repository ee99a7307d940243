package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

type frameFit struct {
	MinFontPx   float64 `json:"minFontPx"`
	ScrollH     int     `json:"scrollH"`
	Labels      int     `json:"labels"`
	TableRows   int     `json:"tableRows"`
	ViewportH   int     `json:"viewportH"`
	InnerScroll bool    `json:"innerScroll"`
	// TableShown is how many of the table's rows are inside its widget's
	// visible area (not behind the widget's own scroll).
	TableShown int `json:"tableShown"`
}

// Inside the frame: the smallest chart label as drawn (font size times the
// SVG's scale) and whether the document needs a scroll of its own.
const frameFitJS = `(function(){var min=1e9,n=0;document.querySelectorAll('svg').forEach(function(s){var vb=s.viewBox&&s.viewBox.baseVal;
if(!vb||!vb.width)return;var k=s.getBoundingClientRect().width/vb.width;s.querySelectorAll('text').forEach(function(t){
var f=parseFloat(getComputedStyle(t).fontSize)*k;if(f>0){n++;if(f<min)min=f;}});});
var d=document.documentElement;return {minFontPx:min,scrollH:d.scrollHeight,labels:n,tableRows:document.querySelectorAll('tr[data-row]').length,
viewportH:window.innerHeight,innerScroll:d.scrollHeight>window.innerHeight+2,
tableShown:Array.prototype.filter.call(document.querySelectorAll('tr[data-row]'),function(r){var w=r.closest('.dash-table-wrap');
if(!w)return true;var a=r.getBoundingClientRect(),b=w.getBoundingClientRect();return a.top>=b.top-1&&a.bottom<=b.bottom+1;}).length};})()`

// Issue #14, Deliver 6: at 390 px every signed-in page broke (a 2 px
// iframe, a 799 px page); at 1280x720 chart labels were about 8 px and the
// frame showed 4 of 20 table rows inside a nested scroll.
func TestDashboardFitsAPhoneAndAProjector(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers a[data-viewer]')`, 30*time.Second)

	for _, size := range []struct{ w, h int }{{1280, 720}, {1280, 800}, {390, 844}} {
		if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(int64(size.w), int64(size.h))); err != nil {
			t.Fatal(err)
		}
		for _, pg := range []struct{ path, frame string }{{"/?viewer=viewer-emea", mainFrame}, {"/compare?a=viewer-emea&b=viewer-apac", "dashboard-frame-b"}} {
			s.open(t, pg.path)
			s.waitFrame(t, pg.frame, "rows", ready, 30*time.Second)
			name := fmt.Sprintf("layout-%dx%d-%s", size.w, size.h, map[string]string{mainFrame: "dashboard", "dashboard-frame-b": "compare"}[pg.frame])
			browsertest.Screenshot(t, s.ctx, name)
			if w := s.eval(t, `String(document.documentElement.scrollWidth)`); w != fmt.Sprint(size.w) {
				t.Errorf("%s: the page is %s px wide in a %d px window", name, w, size.w)
			}
			fw := s.eval(t, `String(Math.round(document.getElementById('`+pg.frame+`').getBoundingClientRect().width))`)
			var fwN int
			fmt.Sscan(fw, &fwN)
			if size.w == 390 && fwN < 330 {
				t.Errorf("%s: the frame is %d px wide", name, fwN)
			}
			fit, err := browsertest.FrameEval[frameFit](s.ctx, pg.frame, frameFitJS)
			if err != nil {
				t.Fatal(err)
			}
			if size.w == 1280 && pg.frame == mainFrame {
				if fit.Labels == 0 || fit.MinFontPx < 12 {
					t.Errorf("%s: the smallest of %d chart labels is drawn at %.1f px, want at least 12", name, fit.Labels, fit.MinFontPx)
				}
				if fit.InnerScroll {
					t.Errorf("%s: the frame (%d px) needs its own scroll for %d px of dashboard", name, fit.ViewportH, fit.ScrollH)
				}
				if fit.TableRows == 0 || fit.TableShown < fit.TableRows {
					t.Errorf("%s: %d of the table's %d rows show; the rest hide behind the widget's own scroll", name, fit.TableShown, fit.TableRows)
				}
			}
			t.Logf("%s: frame %d px wide, %d px tall for %d px of dashboard, smallest label %.1f px, %d of %d table rows shown", name, fwN, fit.ViewportH, fit.ScrollH, fit.MinFontPx, fit.TableShown, fit.TableRows)
		}
	}
	// The nav is there at 390 px, in the dark bar, and scrolls rather than breaking the page.
	if v := s.eval(t, `(function(){var n=document.querySelector('.topbar nav');var r=n.getBoundingClientRect();return r.width<=390&&getComputedStyle(n).overflowX==='auto'?'ok':'bad '+r.width})()`); v != "ok" {
		t.Errorf("nav at 390 px: %s", v)
	}
}

// Issue #14: at 390 px every signed-in page broke (the page 799 px wide,
// nav links white on a light background). Every page, at a phone's width
// and on a projector, in light and dark mode: no page wider than the window.
func TestEveryPageFitsAPhone(t *testing.T) {
	s := newStack(t, options{timeout: labTimeout})
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers a[data-viewer]')`, 30*time.Second)
	pages := []struct{ name, path, ready string }{
		{"dashboard", "/?viewer=viewer-emea", `!!document.getElementById('dashboard-frame-main')`},
		{"compare", "/compare", `!!document.getElementById('dashboard-frame-b')`},
		{"call-app", "/call-app", `!!document.querySelector('main')`},
		{"doctor", "/doctor", `!!document.querySelector('main')`},
		{"workshop", "/workshop", `document.querySelectorAll('.exercise').length > 0`},
		{"lab", "/lab", `document.querySelectorAll('#lab .toggle').length > 0`},
		{"trainer", "/trainer", `!!document.querySelector('main')`},
	}
	for _, dark := range []bool{false, true} {
		scheme := map[bool]string{false: "light", true: "dark"}[dark]
		if _, err := chromedp.Run(s.ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
			return cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{390, 1280} {
			if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(int64(w), 800)); err != nil {
				t.Fatal(err)
			}
			for _, p := range pages {
				if dark && p.name != "dashboard" && p.name != "lab" {
					continue
				}
				s.open(t, p.path)
				s.wait(t, p.name, p.ready, 30*time.Second)
				time.Sleep(700 * time.Millisecond) // the frame's first paint, for the screenshot
				browsertest.Screenshot(t, s.ctx, fmt.Sprintf("page-%s-%d-%s", p.name, w, scheme))
				if got := s.eval(t, `String(document.documentElement.scrollWidth)`); got != fmt.Sprint(w) {
					t.Errorf("%s at %d px (%s): the page is %s px wide", p.name, w, scheme, got)
				}
				if dark {
					if bg := s.eval(t, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(13, 17, 23)" {
						t.Errorf("%s in dark mode: body background %s", p.name, bg)
					}
				}
			}
		}
	}
}
