package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"embedlab/backend/broker"
)

// At its cap the cache drops the token stored first (the nearest to its
// renewal), and a token past its margin goes as soon as another is stored.
func TestCacheDropsTheOldestAtItsCapAndTheStale(t *testing.T) {
	em := startEmulator(t)
	clk := newFakeClock()
	b := newBroker(t, em, func(c *broker.Config) { c.MaxCached = 3; withClock(clk)(c) })
	ctx := context.Background()
	get := func(i int) *broker.Result {
		t.Helper()
		r, err := b.Token(ctx, viewer(fmt.Sprintf("v%d", i), fmt.Sprintf("value-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 1; i <= 4; i++ {
		get(i)
	}
	if n := b.Cached(); n != 3 {
		t.Fatalf("%d cached, want the cap of 3", n)
	}
	if get(4).FromCache != true || get(2).FromCache != true {
		t.Fatal("a recent viewer's token was dropped")
	}
	if get(1).FromCache {
		t.Fatal("the oldest token was kept past the cap")
	}
	// v1 is back (v2 went); an hour on, all are stale: the next store
	// drops them.
	clk.Add(time.Hour)
	get(5)
	if n := b.Cached(); n != 1 {
		t.Fatalf("%d cached after the others went stale, want 1", n)
	}
}
