package testkit_test

import (
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

func TestIdentitiesAreTheBundledOnes(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	dash, id, secret, err := em.Embedding()
	if err != nil || dash != testkit.DashboardID || id != testkit.EmbedderID || secret != testkit.EmbedderSecret {
		t.Fatalf("the bundled workspace embeds %s as %s (%v); testkit says %s as %s", dash, id, err, testkit.DashboardID, testkit.EmbedderID)
	}
	st := em.Snapshot()
	found := false
	for _, sp := range st.ServicePrincipals {
		if sp.ApplicationID == testkit.NoAccessID && sp.Secret == testkit.NoAccessSecret {
			found = true
		}
	}
	if !found {
		t.Error("the bundled workspace has no service principal NoAccessID with NoAccessSecret")
	}
	draft := false
	for _, d := range st.Dashboards {
		if d.ID == testkit.DraftDashboardID && !d.Published {
			draft = true
		}
	}
	if !draft {
		t.Error("the bundled workspace has no unpublished dashboard DraftDashboardID")
	}
}
