package broker_test

import (
	"context"
	"testing"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
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
