package testkit_test

import (
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

func TestWorkspaceIdentitiesAreTheBundledOnes(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	user := false
	for _, u := range em.Snapshot().Users {
		if u.UserName == testkit.WorkspaceAda.Name && u.Password == testkit.WorkspaceAda.Password {
			user = true
		}
	}
	if !user {
		t.Errorf("the bundled workspace has no user %s with testkit's password", testkit.WorkspaceAda.Name)
	}
	want := map[string]bool{"ada": false, "linus": false, "ci-main": false}
	for _, id := range em.FederationIdentities() {
		switch {
		case id.Username == testkit.WorkspaceAda.Name && id.Password == testkit.WorkspaceAda.Password:
			want["ada"] = true
		case id.Username == testkit.IdPLinus.Name && id.Password == testkit.IdPLinus.Password:
			want["linus"] = true
		case id.ClientID == testkit.CIMainClientID && id.Secret == testkit.CIMainSecret && id.ServicePrincipal == testkit.EmbedderID:
			want["ci-main"] = true
		}
	}
	for who, found := range want {
		if !found {
			t.Errorf("the bundled identity provider has no %s with testkit's credentials", who)
		}
	}
}
