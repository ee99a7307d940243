package e2e

import (
	"strings"
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/lab"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// Issue #14: with the workspace unreachable, a frame stayed a grey box for
// 30 s or more with no words, and the fault lab had no way to show it.
func TestWorkspaceDownIsNamedAndTheFrameRecoversByItself(t *testing.T) {
	s := newStack(t, options{timeout: labTimeout})
	s.loginAs(t, testkit.Admin) // the fault lab needs the role trainer
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.open(t, "/?viewer=viewer-emea")
	s.waitFrame(t, mainFrame, "EMEA rows", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)

	// The workspace goes away while a viewer is shown; the presenter picks
	// another page, so a new frame must load from the workspace.
	if err := s.em.SetDown(true); err != nil {
		t.Fatal(err)
	}
	if err := s.click(`#pages a[data-page="products"]`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.wait(t, "the watchdog's words", `(function(){var d=document.querySelector('.frame-stalled');
		return !!d && d.dataset.code==='`+api.CodeUnreachable+`' && d.innerText.indexOf('cannot reach the workspace')>=0 &&
			!!d.querySelector('button.retry') && d.innerText.indexOf('Checking again')>=0;})()`, 15*time.Second)
	t.Logf("the page named the unreachable workspace %s after the frame was mounted", time.Since(start).Round(100*time.Millisecond))
	browsertest.Screenshot(t, s.ctx, "app-dashboard-workspace-down")
	if ev := s.eval(t, `(document.querySelector('#frame-events li[data-kind="stalled"]')||{innerText:''}).innerText`); ev == "" {
		t.Error("no stalled event among the frame events")
	}

	// It comes back: the frame reloads by itself, with no click.
	if err := s.em.SetDown(false); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	s.waitFrame(t, mainFrame, "products rows after the workspace came back", func(st frameState) bool {
		return ready(st) && st.Viewer == "viewer-emea" && st.Page == "products"
	}, 20*time.Second)
	s.wait(t, "the words gone", `!document.querySelector('.frame-stalled')`, 5*time.Second)
	t.Logf("recovered %s after the workspace came back", time.Since(back).Round(100*time.Millisecond))

	// The fault lab's toggle: a new token cannot be got, and the page says why.
	s.toggle(t, lab.WorkspaceDown, true)
	s.open(t, "/?viewer=viewer-amer")
	s.wait(t, "the unreachable diagnosis", `(function(){var t=document.querySelector('#trouble');
		return !!t && t.dataset.code==='`+api.CodeUnreachable+`' && t.innerText.indexOf('could not be reached')>=0 && !!document.getElementById('token-retry');})()`, 30*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-dashboard-workspace-down-token")
	s.toggle(t, lab.WorkspaceDown, false)
	s.open(t, "/?viewer=viewer-amer")
	s.waitFrame(t, mainFrame, "AMER rows once the toggle is off", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-amer" }, 30*time.Second)
}

// Issue #14: the clock-skew card promised a warning in the frame that never
// came. The page now warns above the frame (the frame itself keeps its
// rows: the workspace checks exp on its own clock), as the card says.
func TestClockSkewIsWarnedAboveTheFrame(t *testing.T) {
	s := newStack(t, options{timeout: labTimeout})
	s.loginAs(t, testkit.Admin) // the fault lab needs the role trainer
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.toggle(t, lab.ClockSkew, true)
	if card := s.eval(t, `document.querySelector('#toggle-`+lab.ClockSkew+`').innerText`); !strings.Contains(card, "warning above the frame") {
		t.Errorf("the card does not promise the warning: %q", card)
	}
	s.open(t, "/?viewer=viewer-emea")
	s.waitFrame(t, mainFrame, "EMEA rows despite the skew", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
	s.wait(t, "the warning above the frame", `(function(){var w=document.querySelector('#frame-card #frame-clock-skew');
		return !!w && /2h0m[0-5]s behind/.test(w.innerText);})()`, 10*time.Second) // iat is read a moment after it was set: 2h0m1s on a busy machine
	browsertest.Screenshot(t, s.ctx, "app-dashboard-clock-skew")
	s.toggle(t, lab.ClockSkew, false)
}
