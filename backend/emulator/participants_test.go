package emulator_test

import (
	"net/http"
	"net/url"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// A participant's own service principal works as the demo one does (CAN
// RUN, tokeninfo), and every log line of theirs names them, including a
// refused attempt with their client id; the workspace's own lines name
// nobody, and ?owner= shows one participant only their own lines.
func TestParticipantIdentitiesAndLogOwners(t *testing.T) {
	em := start(t)
	initial := em.Snapshot()
	p := emulator.Participant{Name: "alice", ClientID: "p-alice-0001", Secret: "dosedemo0alice0participant",
		UserID: "900001", UserName: "alice@participants.example.com", Password: "alice-pass-123"}
	if err := em.AddParticipant(p, testkit.EmbedderID, testkit.WorkspaceAda.Email); err != nil {
		t.Fatal(err)
	}
	if err := em.AddParticipant(p, testkit.EmbedderID, testkit.WorkspaceAda.Email); err != nil { // again: idempotent
		t.Fatal(err)
	}
	// The fault lab's reset restores the initial state: participants stay.
	if err := em.Restore(initial); err != nil {
		t.Fatal(err)
	}
	r := postForm(t, em, p.ClientID, p.Secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != 200 {
		t.Fatalf("participant's token: %d %s", r.status, r.body)
	}
	info := get(t, tokenInfoURL(em, testkit.DashboardID, "partner-alice", "EMEA"), tr.AccessToken)
	if info.status != 200 {
		t.Fatalf("participant's tokeninfo (CAN RUN like the demo principal): %d %s", info.status, info.body)
	}
	postForm(t, em, p.ClientID, "wrong-secret-0000000", url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	spToken(t, em) // the workspace's own principal

	var page struct {
		Entries []emulator.RequestEntry `json:"entries"`
	}
	get(t, em.URL()+"/emulator/requests", "").json(t, &page)
	owners := map[string]int{}
	for _, e := range page.Entries {
		owners[e.Owner]++
	}
	if owners["alice"] != 3 || owners[""] != 1 {
		t.Fatalf("owners of the request log: %v (%+v)", owners, page.Entries)
	}
	get(t, em.URL()+"/emulator/requests?owner=alice", "").json(t, &page)
	for _, e := range page.Entries {
		if e.Owner != "alice" {
			t.Fatalf("?owner=alice shows %+v", e)
		}
	}
	if len(page.Entries) != 3 {
		t.Fatalf("?owner=alice: %d lines", len(page.Entries))
	}

	if err := em.RemoveParticipant(p); err != nil {
		t.Fatal(err)
	}
	if r := postForm(t, em, p.ClientID, p.Secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("removed participant still gets tokens: %d", r.status)
	}
}
