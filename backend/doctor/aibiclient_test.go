package doctor_test

import (
	"strings"
	"testing"

	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// A viewer whose real scoped token has base64url's '-' or '_' in its
// payload breaks @databricks/aibi-client's atob: the doctor warns, naming
// the viewer, the affected versions and the fixes.
func TestDoctorWarnsAboutTokensAIBIClientCannotRead(t *testing.T) {
	_, cfg := workspace(t, "testdata/clean.lvdash.json")
	set, err := viewers.Parse("viewers.json", []byte(`{"viewers":[
		{"id":"viewer-emea","external_value":"EMEA","users":["ada"]},
		{"id":"viewer-tilde","external_value":"A~~B","users":["ada"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Viewers = set
	rep := run(t, cfg, false)
	c := find(t, rep, api.CheckAIBIClient)
	if c.Status != api.StatusWarn || !strings.Contains(c.Reason, "1 viewer of 2") || !strings.Contains(c.Reason, "1.0.0, 1.0.1-alpha.0 and 1.0.3-alpha.0") {
		t.Fatalf("check = %+v", c)
	}
	if len(c.Details) != 1 || !strings.HasPrefix(c.Details[0], "viewer-tilde: the token's payload has") || !strings.Contains(c.Details[0], `'~'`) {
		t.Fatalf("details = %q", c.Details)
	}
	for _, want := range []string{"window.atob", "ASCII letters", "embedlab's own frame is not affected"} {
		if !strings.Contains(c.Fix, want) {
			t.Errorf("fix lacks %q: %s", want, c.Fix)
		}
	}
	t.Log(text(t, rep))
	if !rep.OK {
		t.Errorf("a warning failed the report:\n%s", text(t, rep))
	}
}
