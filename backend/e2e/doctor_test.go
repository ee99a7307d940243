package e2e

import (
	"strings"
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

// TestDoctorPage opens the doctor as admin: every check passes and the
// isolation table has a column per viewer and a row per dataset. Then the
// workspace stops allowing this app's origin, and Run again says so, with
// the fix.
func TestDoctorPage(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers a[data-viewer]')`, 30*time.Second)

	s.open(t, "/doctor")
	s.wait(t, "the report", `!!document.getElementById('doctor-summary') && !!document.getElementById('isolation-table')`, 30*time.Second)
	if ok := s.eval(t, `document.getElementById('doctor-summary').dataset.ok`); ok != "true" {
		t.Fatalf("summary: %s", s.eval(t, `document.getElementById('doctor-summary').innerText`))
	}
	statuses := s.eval(t, `[...document.querySelectorAll('#checks li.check')].map(li => li.dataset.check + '=' + li.dataset.status).join(' ')`)
	if strings.Count(statuses, "=pass") != 11 {
		t.Errorf("checks: %s", statuses)
	}
	if n := s.eval(t, `String(document.querySelectorAll('#isolation-table thead th').length)`); n != "5" {
		t.Errorf("isolation header has %s cells, want dataset + 3 viewers + verdict", n)
	}
	if rows := s.eval(t, `[...document.querySelectorAll('#isolation-table tbody tr')].map(tr => tr.dataset.dataset + '=' + tr.dataset.verdict).join(' ')`); rows != "sales_region=isolated country_product=isolated" {
		t.Errorf("isolation rows: %s", rows)
	}
	if probes := s.eval(t, `[...document.querySelectorAll('#probes li')].filter(li => li.dataset.status === 'pass').length + ''`); probes != "7" {
		t.Errorf("%s of 7 probes refused", probes)
	}
	if mode := s.eval(t, `document.getElementById('credentials').dataset.mode`); mode != "publisher" {
		t.Errorf("credentials: %s", mode)
	}
	if active := s.eval(t, `document.querySelector('.topbar nav a.active').innerText`); active != "Doctor" {
		t.Errorf("active nav link: %q", active)
	}
	browsertest.Screenshot(t, s.ctx, "app-doctor")

	if err := s.em.Update(func(st *emulator.State) { st.EmbeddingOrigins = []string{"https://portal.example.com"} }); err != nil {
		t.Fatal(err)
	}
	if err := s.click("#run-doctor"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the origin check to fail", `document.getElementById('doctor-summary').dataset.ok === 'false'`, 30*time.Second)
	origin := s.eval(t, `document.querySelector('li[data-check="origin"]').innerText`)
	if !strings.Contains(origin, s.url) || !strings.Contains(origin, "embedding_origins") {
		t.Errorf("origin check shows: %s", origin)
	}
	if st := s.eval(t, `document.querySelector('li[data-check="origin"]').dataset.status`); st != "fail" {
		t.Errorf("origin check: %s", st)
	}
	browsertest.Screenshot(t, s.ctx, "app-doctor-origin-refused")
}
