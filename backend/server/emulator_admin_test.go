package server_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/lab"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// TestFaultLabDrivesTheEmulatorWithoutItsAdminKey: the emulator's own
// admin routes need its admin key (issue 16: in a classroom any participant
// reaches them over the network), yet a trainer's fault lab keeps working
// through the app, which drives the emulator in-process; a participant who
// goes to the emulator directly cannot undo it.
func TestFaultLabDrivesTheEmulatorWithoutItsAdminKey(t *testing.T) {
	f := serve(t, nil)
	admin := f.signedIn(t, testkit.Admin)

	if r := admin.Do(http.MethodPost, api.PathLabToggle, api.LabSet{ID: lab.ClockSkew, On: true}); r.Status != http.StatusOK {
		t.Fatalf("trainer's clock-skew toggle: %d %s", r.Status, r.Body)
	}
	if got := f.em.Faults().ClockSkewSeconds; got != -7200 {
		t.Fatalf("after the trainer's toggle the emulator's skew is %d s, want -7200", got)
	}

	// A participant's laptop, straight to the emulator, without the key.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodDelete, "/emulator/faults", ""},
		{http.MethodPut, "/emulator/clock", `{"skew_seconds":0}`},
	} {
		req, _ := http.NewRequest(c.method, f.em.URL()+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without the admin key: %d, want 401", c.method, c.path, res.StatusCode)
		}
	}
	if got := f.em.Faults().ClockSkewSeconds; got != -7200 {
		t.Fatalf("a participant's keyless call changed the skew to %d s", got)
	}

	if r := admin.Do(http.MethodPost, api.PathLabReset, struct{}{}); r.Status != http.StatusOK {
		t.Fatalf("trainer's lab reset: %d %s", r.Status, r.Body)
	}
	if got := f.em.Faults().ClockSkewSeconds; got != 0 {
		t.Fatalf("after the trainer's reset the skew is %d s", got)
	}
}
