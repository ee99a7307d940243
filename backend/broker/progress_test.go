package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
)

// The page shows what a token request waits for (issue #14): each retry
// reports its step, the answer that caused it, the next attempt and the wait.
func TestWaitsAreReportedToTheRequest(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 2, RetryAfterSeconds: 1})
	var mu sync.Mutex
	var waits []broker.Wait
	ctx := broker.WithWaits(context.Background(), func(w broker.Wait) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, w)
	})
	if _, err := b.Token(ctx, viewer("v1", "EMEA")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 2 {
		t.Fatalf("waits = %+v, want two (two 429s)", waits)
	}
	for i, w := range waits {
		if w.Step != "tokeninfo" || w.Reason != "429 Too Many Requests" || w.Attempt != i+2 || w.Attempts != 4 || w.For <= 0 || w.For > time.Second {
			t.Errorf("wait %d = %+v, want tokeninfo, 429, attempt %d of 4, a wait of at most 1s (Retry-After, capped by MaxBackoff)", i, w, i+2)
		}
	}
	// Without an observer nothing is reported and nothing breaks.
	_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 1, RetryAfterSeconds: 1})
	if _, err := b.Token(context.Background(), viewer("v2", "EMEA")); err != nil {
		t.Fatal(err)
	}
}
