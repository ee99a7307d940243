package server_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// TestDoctorVia runs the page's doctor through the SQL Statement Execution
// API (?via=sql), as on a real workspace, and refuses a way it does not
// know; the fixture then checks that no answer carried the secret or an
// all-apis token.
func TestDoctorVia(t *testing.T) {
	f := serve(t, nil)
	c := f.signedIn(t, testkit.Admin)
	r := c.Do(http.MethodGet, api.PathDoctor+"?"+api.QueryIsolation+"=1&"+api.QueryVia+"=sql", nil)
	var rep api.DoctorReport
	r.JSON(t, &rep)
	if r.Status != http.StatusOK || rep.Isolation == nil || rep.Isolation.Method != api.MethodStatements || rep.Isolation.Status != api.StatusPass {
		t.Fatalf("via=sql: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(rep.Isolation.RunsAs, "not with the dashboard publisher's") {
		t.Errorf("runs_as: %q", rep.Isolation.RunsAs)
	}
	c.Do(http.MethodGet, api.PathDoctor+"?"+api.QueryIsolation+"=1&"+api.QueryVia+"=odbc", nil).APIError(t, http.StatusBadRequest, "bad_request")
}
