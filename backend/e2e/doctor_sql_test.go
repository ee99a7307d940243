package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

// TestDoctorPageRealWorkspacePath runs the isolation check on the doctor
// page the way it runs on a real workspace (the SQL Statement Execution
// API, as the service principal): rows isolated, whose permissions said
// plainly; then the service principal loses SELECT and the page names the
// grant and who can give it.
func TestDoctorPageRealWorkspacePath(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers a[data-viewer]')`, 30*time.Second)
	s.open(t, "/doctor")
	s.wait(t, "the report", `!!document.getElementById('isolation-via')`, 30*time.Second)
	if err := s.click("#isolation-via"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the statements run", `document.getElementById('isolation')?.dataset.method === 'sql_statements' && !!document.getElementById('isolation-table')`, 60*time.Second)
	if rows := s.eval(t, `[...document.querySelectorAll('#isolation-table tbody tr')].map(tr => tr.dataset.dataset + '=' + tr.dataset.verdict).join(' ')`); rows != "sales_region=isolated country_product=isolated" {
		t.Errorf("isolation rows: %s", rows)
	}
	if runsAs := s.eval(t, `document.getElementById('runs-as').innerText`); !strings.Contains(runsAs, "not with the dashboard publisher's") {
		t.Errorf("runs as: %q", runsAs)
	}
	browsertest.Screenshot(t, s.ctx, "app-doctor-sql")

	if err := s.em.Update(func(st *emulator.State) { st.Tables[0].Select = []string{"ada@example.com"} }); err != nil {
		t.Fatal(err)
	}
	if err := s.click("#run-doctor"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the missing grant", `!!document.querySelector('#missing-grants li[data-privilege="SELECT"]')`, 60*time.Second)
	grant := s.eval(t, `document.getElementById('missing-grants').innerText`)
	for _, want := range []string{"main.embedlab.sales", "metastore admin", "GRANT SELECT ON TABLE"} {
		if !strings.Contains(grant, want) {
			t.Errorf("missing grant lacks %q: %s", want, grant)
		}
	}
	browsertest.Screenshot(t, s.ctx, "app-doctor-sql-no-select")
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, s.ctx, "app-doctor-sql-no-select-390")
}
