package testkit_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/session"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
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

func TestUsersAreTheBundledOnes(t *testing.T) {
	ours := map[string]string{}
	for _, u := range []testkit.User{testkit.Ada, testkit.Grace, testkit.Admin, testkit.Nobody} {
		ours[u.Name] = u.Password
	}
	demo := session.DemoPasswords()
	if len(demo) != len(ours) {
		t.Errorf("session has %d demo users, testkit %d", len(demo), len(ours))
	}
	for _, c := range demo {
		if ours[c.Name] != c.Password {
			t.Errorf("demo user %s: testkit's password %q, session's %q", c.Name, ours[c.Name], c.Password)
		}
	}
}

// Serve is main's wiring: the emulator and the app answer, ada signs in
// and gets a token for her EMEA viewer, and the admin key is printed.
func TestServeIsTheAppAsServeRunsIt(t *testing.T) {
	a := testkit.Serve(t, nil)
	c := testkit.SignedIn(t, a.URL, testkit.Ada)
	var tok api.EmbedToken
	r := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil)
	r.JSON(t, &tok)
	if r.Status != http.StatusOK || tok.Viewer.ExternalValue != "EMEA" {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(a.Out.String(), a.Emulator.AdminKey()) {
		t.Errorf("serve's output does not give the emulator's admin key:\n%s", a.Out.String())
	}
	testkit.NewClient(t, a.URL).Do(http.MethodGet, api.PathViewers, nil).APIError(t, http.StatusUnauthorized, "no_session")
	if strings.Contains(a.Log.String(), testkit.EmbedderSecret) {
		t.Error("the secret is in the log")
	}
}
