package server_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/shared/api"
)

// TestDoctorVia runs the page's doctor through the SQL Statement Execution
// API (?via=sql), as on a real workspace, and refuses a way it does not
// know; the fixture then checks that no answer carried the secret or an
// all-apis token.
func TestDoctorVia(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{doctor: true})
	c := f.client()
	c.login(t, "admin", "admin-demo-pass")
	r := c.do(t, http.MethodGet, api.PathDoctor+"?"+api.QueryIsolation+"=1&"+api.QueryVia+"=sql", nil, false)
	var rep api.DoctorReport
	r.json(t, &rep)
	if r.status != http.StatusOK || rep.Isolation == nil || rep.Isolation.Method != api.MethodStatements || rep.Isolation.Status != api.StatusPass {
		t.Fatalf("via=sql: %d %s", r.status, r.body)
	}
	if !strings.Contains(rep.Isolation.RunsAs, "not with the dashboard publisher's") {
		t.Errorf("runs_as: %q", rep.Isolation.RunsAs)
	}
	c.do(t, http.MethodGet, api.PathDoctor+"?"+api.QueryIsolation+"=1&"+api.QueryVia+"=odbc", nil, false).apiError(t, http.StatusBadRequest, "bad_request")
}
