// Package testkit is what embedlab's tests share: a workspace emulator on a
// random port, stopped when the test ends, and the demo identities of the
// emulator's bundled workspace.json. Only tests import it.
package testkit

import (
	"context"
	"testing"

	"embedlab/backend/emulator"
)

// Demo identities of the bundled workspace.json: public demo values, like
// every secret in that file. TestIdentitiesAreTheBundledOnes keeps them in
// step with it.
const (
	// EmbedderID and EmbedderSecret are the embedding service principal,
	// with CAN RUN on DashboardID.
	EmbedderID     = "5f0c7a52-8d3e-4b1f-9a6c-2e7d1b3c4a58"
	EmbedderSecret = "dosedemo0embedder0not0a0real0secret"
	// NoAccessID and NoAccessSecret are a service principal without CAN RUN.
	NoAccessID     = "9b2e4d61-3c7a-4f8e-b5d2-6a1c0e9f8d37"
	NoAccessSecret = "dosedemo0noaccess0not0a0real0secret"
	// DashboardID is the published sales dashboard; DraftDashboardID one
	// that is not published.
	DashboardID      = "01f0a1b2c3d4e5f60718293a4b5c6d7e"
	DraftDashboardID = "01f0ffffeeeeddddccccbbbbaaaa9999"
)

// Emulator starts a workspace emulator with opts, its listeners on
// 127.0.0.1:0, and shuts it down when the test ends.
func Emulator(t testing.TB, opts emulator.Options) *emulator.Emulator {
	t.Helper()
	em, err := emulator.Start(opts, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Shutdown(context.Background()) })
	return em
}
