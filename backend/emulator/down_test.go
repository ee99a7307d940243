package emulator_test

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// The fault lab's "workspace down" really refuses connections, then serves
// again on the same address.
func TestSetDownRefusesConnectionsThenServesAgain(t *testing.T) {
	em := start(t)
	discovery := em.URL() + "/oidc/.well-known/oauth-authorization-server"
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() error {
		res, err := client.Get(discovery)
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("discovery: %d", res.StatusCode)
			}
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := em.SetDown(true); err != nil {
		t.Fatal(err)
	}
	if err := get(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("while down: %v, want connection refused", err)
	}
	if !em.Down() {
		t.Error("Down() = false while down")
	}
	if err := em.SetDown(false); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("back up: %v", err)
	}
	if err := em.SetDown(false); err != nil || em.Down() {
		t.Fatalf("SetDown(false) twice: %v", err)
	}
}
