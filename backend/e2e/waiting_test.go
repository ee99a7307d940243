package e2e

import (
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// Issue #14: during a rate-limit storm the page said "Getting a token..."
// for 23-25 s with no sign of progress. Now it shows what it waits for, a
// countdown and the attempt, from the backend's retries and its own.
func TestRateLimitWaitIsVisible(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	if err := s.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 1000, RetryAfterSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	s.open(t, "/?viewer=viewer-emea")
	// The backend's retry: step, answer, attempt and a countdown.
	s.wait(t, "the backend's wait", `(function(){var w=document.getElementById('token-loading');
		return !!w && /Waiting for a retry of tokeninfo: 429 Too Many Requests\. Attempt [234] of 4 in [0-9.]+m?s\./.test(w.innerText);})()`, 10*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-dashboard-waiting")
	// Then the page's own retry after the backend gave up, with its attempt.
	s.wait(t, "the page's wait", `(function(){var w=document.getElementById('token-loading');
		return !!w && /asks again in [0-9.]+m?s \(attempt 2 of 3\)/.test(w.innerText);})()`, 15*time.Second)
	// In the end the diagnosis, with a way to try again.
	s.wait(t, "the rate-limit diagnosis", `(function(){var t=document.querySelector('#trouble');
		return !!t && t.dataset.code==='`+api.CodeRateLimited+`' && !!document.getElementById('token-retry');})()`, 30*time.Second)
	s.em.ResetFaults()
	if err := s.click(`#token-retry`); err != nil {
		t.Fatal(err)
	}
	s.waitFrame(t, mainFrame, "EMEA rows after the storm", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
}
