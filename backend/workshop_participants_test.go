//go:build !noemulator

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// Two participants in one room: each has a service principal of their
// own, shown in their own exercises; one's token never turns the other's
// checkpoint green, and each sees the hint for their own attempt only.
// The identities survive a restart and a reset of the workspace.
func TestParticipantsCallsCountOnlyForThemselves(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	progress := filepath.Join(t.TempDir(), "workshop.db")
	lb, ws, st := labOn(t, em, progress)
	ctx := context.Background()
	shown := map[string]string{}
	for _, u := range []string{"alice", "bob"} {
		if _, err := ws.Start(ctx, u, "sp-token"); err != nil {
			t.Fatal(err)
		}
		ov, err := ws.Overview(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ov.Exercises[0].Commands {
			shown[u] += c.Shell + "\n"
		}
	}
	alice, _, _ := st.Identity(ctx, "alice")
	bob, _, _ := st.Identity(ctx, "bob")
	if alice.ClientID == bob.ClientID || alice.ClientID == testkit.EmbedderID || alice.Secret == bob.Secret {
		t.Fatalf("shared identities: %+v %+v", alice, bob)
	}
	if !strings.Contains(shown["alice"], alice.ClientID) || !strings.Contains(shown["alice"], alice.Secret) || strings.Contains(shown["alice"], bob.Secret) {
		t.Fatalf("alice's exercise shows:\n%s", shown["alice"])
	}

	env := func(who string, secret string) map[string]string {
		me, _, _ := st.Identity(ctx, who)
		return map[string]string{"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": me.ClientID, "DATABRICKS_CLIENT_SECRET": secret,
			"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "none")}
	}
	// alice gets her token; bob gets a 401 with a wrong secret.
	if _, errs, code := cli(t, env("alice", alice.Secret), "token"); code != exitOK {
		t.Fatalf("alice's token: %s", errs)
	}
	if _, _, code := cli(t, env("bob", "not-bobs-secret-at-all"), "token"); code == exitOK {
		t.Fatal("a wrong secret got a token")
	}
	a, err := ws.Check(ctx, "alice", "sp-token")
	if err != nil || a.Status.State != api.ExercisePassed {
		t.Fatalf("alice: %+v %v", a.Status, err)
	}
	b, err := ws.Check(ctx, "bob", "sp-token")
	if err != nil || b.Status.State != api.ExerciseFailed || !strings.Contains(b.Status.Hint, "401 invalid_client") {
		t.Fatalf("bob got alice's credit, or not his own hint: %+v %v", b.Status, err)
	}
	if _, err := ws.Start(ctx, "alice", "tokeninfo-new-viewer"); err != nil {
		t.Fatal(err)
	}
	if a, _ := ws.Check(ctx, "alice", "tokeninfo-new-viewer"); strings.Contains(a.Status.Hint, "401") {
		t.Fatalf("alice sees bob's 401 hint: %+v", a.Status)
	}

	// The fault lab's reset keeps them; so does a restart.
	if err := lb.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, env("bob", bob.Secret), "token"); code != exitOK {
		t.Fatalf("bob after a reset: %s", errs)
	}
	st.Close()
	_, ws2, st2 := labOn(t, em, progress)
	if again, _, _ := st2.Identity(ctx, "alice"); again.ClientID != alice.ClientID {
		t.Fatalf("a restart gave alice new identities: %+v", again)
	}
	if b, _ := ws2.Check(ctx, "bob", "sp-token"); b.Status.State != api.ExercisePassed {
		t.Fatalf("bob's own token after the reset did not count: %+v", b.Status)
	}
}
