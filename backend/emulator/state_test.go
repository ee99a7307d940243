package emulator_test

import (
	"slices"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

func TestBundledStateIsValid(t *testing.T) {
	s := emulator.DefaultState()
	if len(s.Dashboards) < 2 || len(s.ServicePrincipals) < 2 || !strings.Contains(s.Note, "demo") {
		t.Fatalf("bundled state = %+v", s)
	}
}

func TestParseStateReportsEveryProblem(t *testing.T) {
	bad := `{
	  "workspace_id": "ws-1",
	  "token_lifetime_seconds": 5,
	  "embedding_origins": ["http://localhost:3000/", "localhost"],
	  "service_principals": [{"application_id": "sp1", "secret": "short"}, {"application_id": "sp1", "secret": "long-enough-secret-1"}],
	  "dashboards": [{"id": "XYZ", "published": true, "can_run": ["sp9"]}],
	  "users": [{"id": "1", "user_name": "no-at-sign"}]
	}`
	_, err := emulator.ParseState("my-state.json", []byte(bad))
	if err == nil {
		t.Fatal("a broken state was accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"my-state.json", `workspace_id "ws-1"`, "token_lifetime_seconds 5", `embedding_origins[0] "http://localhost:3000/"`,
		`embedding_origins[1] "localhost"`, "service_principals[0].secret", `service_principals[1].application_id "sp1": used twice`,
		`dashboards[0].id "XYZ"`, `dashboards[0].can_run[0] "sp9"`, `users[0].user_name "no-at-sign"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n"); n != 9 {
		t.Errorf("want one line per problem, got:\n%s", msg)
	}
}

func TestParseStateRefusesUnknownFieldsAndBadJSON(t *testing.T) {
	for name, in := range map[string]string{
		"unknown field": `{"workspace_id":"1","dashbords":[]}`,
		"bad JSON":      `{"workspace_id":`,
		"wrong type":    `{"workspace_id":1}`,
	} {
		if _, err := emulator.ParseState("s.json", []byte(in)); err == nil || !strings.Contains(err.Error(), "s.json") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestUpdateRefusesInvalidState(t *testing.T) {
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update(func(s *emulator.State) { s.Dashboards[0].CanRun = []string{"nobody"} }); err == nil {
		t.Fatal("an update naming an unknown principal was accepted")
	}
	if d := e.Snapshot().Dashboards[0]; d.ID != testkit.DashboardID || !slices.Contains(d.CanRun, testkit.EmbedderID) {
		t.Fatal("a refused update changed the state")
	}
}
