package broker_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

func TestForgetMakesTheNextRequestSeeTheWorkspaceAsItIsNow(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	ctx := context.Background()
	if _, err := b.Token(ctx, viewer("viewer-emea", "EMEA")); err != nil {
		t.Fatal(err)
	}
	// The secret is revoked: the cache hides it until Forget.
	if err := em.Update(func(s *emulator.State) { s.ServicePrincipals[0].Secret = "revoked0revoked0revoked0" }); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Token(ctx, viewer("viewer-emea", "EMEA")); err != nil || !r.FromCache {
		t.Fatalf("before Forget: %+v %v, want the cached token", r, err)
	}
	b.Forget()
	if b.Cached() != 0 {
		t.Fatalf("%d tokens still cached", b.Cached())
	}
	if _, err := b.Token(ctx, viewer("viewer-emea", "EMEA")); !broker.IsKind(err, broker.KindBadSecret) {
		t.Fatalf("after Forget: err = %v, want bad secret", err)
	}
}

// Forget must not wait for a call to the workspace in flight (the fault lab
// calls it while a slow step 1 may be under way), and what that call gets
// must not outlive it.
func TestForgetDoesNotWaitForACallInFlight(t *testing.T) {
	em := startEmulator(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == wire.PathToken {
			once.Do(func() { close(entered); <-release })
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	b := newBroker(t, em, func(c *broker.Config) { c.HTTPClient = &http.Client{Transport: slow} })
	ctx := context.Background()
	first := make(chan error, 1)
	go func() {
		_, err := b.Token(ctx, viewer("viewer-emea", "EMEA"))
		first <- err
	}()
	<-entered
	forgot := make(chan struct{})
	go func() { b.Forget(); close(forgot) }()
	select {
	case <-forgot:
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("Forget waited for step 1 in flight")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the request in flight: %v", err)
	}
	if b.Cached() != 0 {
		t.Fatal("the token of an exchange begun before Forget was cached")
	}
	before := testkit.ExchangeCalls(em)
	r, err := b.Token(ctx, viewer("viewer-emea", "EMEA"))
	if err != nil || r.FromCache || r.Trace[0].Reused || testkit.ExchangeCalls(em)-before != 3 {
		t.Fatalf("after Forget: err %v, %d calls, trace %+v; want a fresh exchange with a new service principal token", err, testkit.ExchangeCalls(em)-before, r.Trace)
	}
}
