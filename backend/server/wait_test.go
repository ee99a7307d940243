package server_test

import (
	"net/http"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// While the broker waits on the workspace's rate limit, the wait endpoint
// says what it waits for, the attempt that comes next and how long until
// it; once the token is there, nothing waits (issue #14, Deliver 4).
func TestEmbedTokenWaitShowsTheBrokersRetries(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: func(c *broker.Config) { c.Attempts, c.MaxBackoff = 4, 2*time.Second }})
	c := f.signedIn(t, testkit.Admin)
	_ = f.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 3, RetryAfterSeconds: 1})

	done := make(chan testkit.Reply, 1)
	go func() { r, _ := embedToken(t, c, "viewer-emea"); done <- r }()
	var seen api.EmbedTokenWait
	deadline := time.Now().Add(5 * time.Second)
	for !seen.Waiting && time.Now().Before(deadline) {
		r := c.Do(http.MethodGet, api.PathEmbedTokenWait+"?viewer=viewer-emea", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("wait: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &seen)
		time.Sleep(50 * time.Millisecond)
	}
	if !seen.Waiting || seen.Step != "tokeninfo" || seen.Reason != "429 Too Many Requests" || seen.Attempt < 2 || seen.Attempts != 4 ||
		seen.RetryInMS <= 0 || seen.RetryInMS > 1000 {
		t.Fatalf("while the broker retries, wait = %+v", seen)
	}
	if r := <-done; r.Status != http.StatusOK {
		t.Fatalf("token after the retries: %d %s", r.Status, r.Body)
	}
	var after api.EmbedTokenWait
	c.Do(http.MethodGet, api.PathEmbedTokenWait+"?viewer=viewer-emea", nil).JSON(t, &after)
	if after.Waiting {
		t.Errorf("after the answer, wait = %+v", after)
	}
	// Only the user's own viewers.
	if r := c.Do(http.MethodGet, api.PathEmbedTokenWait+"?viewer=viewer-mars", nil); r.Status != http.StatusForbidden {
		t.Errorf("unknown viewer: %d %s", r.Status, r.Body)
	}
}
