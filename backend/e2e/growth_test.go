package e2e

import (
	"embedlab/backend/testkit"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// wasmStats is what window.embedlabStats() answers: the Wasm's goroutines
// and the components' live JavaScript listeners and intervals.
type wasmStats struct {
	Goroutines int `json:"goroutines"`
	Listeners  int `json:"listeners"`
}

func (s *stack) stats(t *testing.T) wasmStats {
	t.Helper()
	st, err := chromedp.Run(s.ctx, chromedp.Evaluate[wasmStats](`window.embedlabStats()`))
	if err != nil {
		t.Fatalf("read window.embedlabStats(): %v", err)
	}
	return st
}

// sample reads the stats n times over d and returns the lowest and highest
// goroutine counts seen (a token fetch in flight adds a goroutine or two
// for its duration; what matters is what stays).
func (s *stack) sample(t *testing.T, n int, d time.Duration) (lo, hi wasmStats) {
	t.Helper()
	for i := range n {
		st := s.stats(t)
		if i == 0 || st.Goroutines < lo.Goroutines {
			lo.Goroutines = st.Goroutines
		}
		if i == 0 || st.Listeners < lo.Listeners {
			lo.Listeners = st.Listeners
		}
		hi.Goroutines, hi.Listeners = max(hi.Goroutines, st.Goroutines), max(hi.Listeners, st.Listeners)
		time.Sleep(d / time.Duration(n))
	}
	return lo, hi
}

// Issue #14: the inspector's one-second tick re-rendered the page, each
// render gave the frame fresh callbacks, and each update scheduled another
// refresh timer, so the page gained a goroutine a second (11 to 41 in
// 30 s), each parked for about 55 minutes.
func TestDashboardHeldOpenDoesNotGrow(t *testing.T) {
	s := newStack(t, options{timeout: 3 * time.Minute})
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the viewer list", `document.querySelectorAll('#viewers a[data-viewer]').length == 2`, 30*time.Second)
	s.open(t, "/?viewer=viewer-emea")
	s.waitFrame(t, mainFrame, "EMEA rows", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
	s.wait(t, "the countdown", `!!document.getElementById('countdown')`, 10*time.Second)

	_, before := s.sample(t, 6, 3*time.Second)
	t.Logf("settled: at most %d goroutines, %d JS listeners", before.Goroutines, before.Listeners)

	// Switching viewers and pages must release what each frame held.
	for i := range 10 {
		v := []string{"viewer-amer", "viewer-emea"}[i%2]
		if err := s.click(fmt.Sprintf(`#viewers a[data-viewer=%q]`, v)); err != nil {
			t.Fatal(err)
		}
		s.waitFrame(t, mainFrame, v+" rows", func(st frameState) bool { return ready(st) && st.Viewer == v }, 20*time.Second)
	}
	countdown := s.eval(t, `document.getElementById('countdown').innerText`)
	start := time.Now()
	time.Sleep(60*time.Second - 3*time.Second)
	after, _ := s.sample(t, 6, 3*time.Second)
	t.Logf("after 10 switches and %s held open: at least %d goroutines, %d JS listeners", time.Since(start).Round(time.Second), after.Goroutines, after.Listeners)
	if after.Goroutines > before.Goroutines {
		t.Errorf("goroutines grew from %d to %d while the page sat open", before.Goroutines, after.Goroutines)
	}
	if after.Listeners > before.Listeners {
		t.Errorf("JS listeners grew from %d to %d", before.Listeners, after.Listeners)
	}
	// The countdown still ticks (it is not frozen to save goroutines).
	if now := s.eval(t, `document.getElementById('countdown').innerText`); now == countdown {
		t.Errorf("the countdown stayed at %q for a minute", now)
	}
}
