package workshop

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"embedlab/shared/api"
)

// The trainer's grid: a cell per exercise with the hint the participant
// sees, stuck after three red checks (or ten minutes), the exercise they
// are stuck on; a participant who only joined is listed; resetting one
// participant leaves the others as they were.
func TestTrainerGridStuckAndPerParticipantReset(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{}
	now := time.Now()
	s := newService(t, filepath.Join(t.TempDir(), "w.db"), log)
	s.o.Now = func() time.Time { return now }
	s.o.Identities = okIdentities{}
	if _, err := s.Overview(ctx, "carol"); err != nil { // joined, started nothing
		t.Fatal(err)
	}
	for _, u := range []string{"ada", "bob"} {
		if _, err := s.Start(ctx, u, "sp-token"); err != nil {
			t.Fatal(err)
		}
	}
	id, _, _ := s.o.Store.Identity(ctx, "ada")
	log.add(LogRequest, map[string]string{"method": "POST", "path": "/oidc/v1/token", "status": "401", "owner": "bob", "principal": ""})
	log.add(LogRequest, map[string]string{"method": "POST", "path": "/oidc/v1/token", "status": "200", "owner": "ada", "principal": id.ClientID})
	for range 3 {
		if x, _ := s.Check(ctx, "bob", "sp-token"); x.Status.State != api.ExerciseFailed {
			t.Fatalf("bob: %+v", x.Status)
		}
	}
	if x, _ := s.Check(ctx, "ada", "sp-token"); x.Status.State != api.ExercisePassed {
		t.Fatalf("ada: %+v", x.Status)
	}
	tr, err := s.Trainer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]api.Participant{}
	for _, p := range tr.Participants {
		by[p.User] = p
	}
	if len(by) != 3 || by["carol"].ClientID == "" || len(by["carol"].Cells) != 0 {
		t.Fatalf("participants: %+v", tr.Participants)
	}
	bob := by["bob"]
	if tr.Stuck != 1 || bob.Stuck != "sp-token" || bob.StuckHint == "" || bob.Cells["sp-token"].Attempts != 3 || !bob.Cells["sp-token"].Stuck {
		t.Fatalf("bob should be stuck on sp-token with his hint: %+v", bob)
	}
	if by["ada"].Stuck != "" || by["ada"].Passed != 1 || by["ada"].Cells["sp-token"].State != api.ExercisePassed {
		t.Fatalf("ada: %+v", by["ada"])
	}
	// Ten minutes later ada is not stuck (done); a fresh start is, once old.
	s.Start(ctx, "ada", "tokeninfo-new-viewer")
	now = now.Add(11 * time.Minute)
	tr, _ = s.Trainer(ctx)
	for _, p := range tr.Participants {
		if p.User == "ada" && p.Stuck != "tokeninfo-new-viewer" {
			t.Fatalf("ada, started 11 minutes ago: %+v", p)
		}
	}

	if err := s.ResetParticipant(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetParticipant(ctx, "ada", "no-such-exercise"); err == nil {
		t.Fatal("an unknown exercise was accepted")
	}
	tr, _ = s.Trainer(ctx)
	for _, p := range tr.Participants {
		switch p.User {
		case "bob":
			if len(p.Cells) != 0 || p.Stuck != "" || p.ClientID == "" {
				t.Fatalf("bob after his reset: %+v", p)
			}
		case "ada":
			if p.Passed != 1 {
				t.Fatalf("bob's reset touched ada: %+v", p)
			}
		}
	}
}

type okIdentities struct{}

func (okIdentities) Add(Identity) error    { return nil }
func (okIdentities) Remove(Identity) error { return nil }
