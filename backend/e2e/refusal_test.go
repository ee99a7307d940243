package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

// With a 20 s token lifetime and a 15 s margin, the page asks for a new
// token 5 s after the first and sends it into the frame, which keeps its
// rows and counts the refresh.
func TestTokenIsRefreshedBeforeExpiry(t *testing.T) {
	s := newStack(t, options{margin: 15 * time.Second})
	if err := s.em.SetTokenLifetime(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.loginAs(t, testkit.Grace)
	first := s.waitFrame(t, mainFrame, "the first rows", ready, 30*time.Second)
	jti := s.eval(t, `document.querySelector('[data-claim="jti"] td.value').innerText`)

	st := s.waitFrame(t, mainFrame, "a refreshed token", func(st frameState) bool { return ready(st) && st.Refresh == "1" }, 20*time.Second)
	if st.Viewer != first.Viewer || st.Revenue != first.Revenue {
		t.Fatalf("after the refresh the frame shows %+v, before %+v", st, first)
	}
	s.wait(t, "a refresh event in the inspector", `!!document.querySelector('#frame-events li[data-kind="refresh"]')`, 5*time.Second)
	if jti2 := s.eval(t, `document.querySelector('[data-claim="jti"] td.value').innerText`); jti2 == jti {
		t.Errorf("the inspector still shows the first token %s", jti)
	}
	browsertest.Screenshot(t, s.ctx, "app-dashboard-refreshed")
}

func TestWrongPasswordIsRefused(t *testing.T) {
	s := newStack(t, options{})
	s.login(t, "ada", "not-her-password")
	s.wait(t, "the login error", `!!document.getElementById('login-error')`, 10*time.Second)
	msg := s.eval(t, `document.getElementById('login-error').innerText`)
	if !strings.Contains(strings.ToLower(msg), "password") {
		t.Errorf("login error = %q", msg)
	}
	if p := s.eval(t, `location.pathname`); p != "/login" {
		t.Errorf("after a wrong password the browser is on %s", p)
	}
	browsertest.Screenshot(t, s.ctx, "app-login-wrong-password")

	// The dashboard is not reachable without a session.
	s.open(t, "/")
	s.wait(t, "the redirect to /login", `location.pathname == '/login'`, 10*time.Second)
}

func TestUserWithoutViewerIsToldWhy(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Nobody)
	s.wait(t, "the no-viewer notice", `!!document.getElementById('no-viewers')`, 30*time.Second)
	msg := s.eval(t, `document.getElementById('no-viewers').innerText`)
	if !strings.Contains(msg, "nobody") || !strings.Contains(msg, "EMBEDLAB_VIEWERS_FILE") {
		t.Errorf("notice = %q", msg)
	}
	if n := s.eval(t, `String(document.querySelectorAll('iframe').length)`); n != "0" {
		t.Errorf("%s frames for a user with no viewer", n)
	}
	browsertest.Screenshot(t, s.ctx, "app-no-viewers")

	// Asking the API directly for someone else's viewer is refused too.
	got, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](
		`fetch('/api/embed-token?viewer=viewer-emea').then(r => r.json().then(b => r.status + ' ' + b.error))`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(got, "403 ") {
		t.Errorf("embed token for a viewer nobody may act as: %q (%v)", got, err)
	}
}
