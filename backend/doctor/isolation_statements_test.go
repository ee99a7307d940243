package doctor_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"embedlab/backend/doctor"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// realWorkspace starts an emulator and returns the configuration a real
// workspace would have: Emulated false, so the isolation check takes the
// real-workspace path (Lakeview API + SQL Statement Execution API) and no
// emulator-only route.
func realWorkspace(t *testing.T, dashboardFile string) (*emulator.Emulator, doctor.Config) {
	t.Helper()
	em, cfg := workspace(t, dashboardFile)
	cfg.Emulated = false
	return em, cfg
}

// statementIDs lists the statements the emulator saw polled or cancelled,
// and counts the polls.
func statementIDs(em *emulator.Emulator) (ids []string, polls int) {
	for _, e := range em.Requests(0) {
		rest, ok := strings.CutPrefix(e.Path, wire.PathStatements+"/")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, "/")
		if e.Method == "GET" {
			polls++
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, polls
}

func TestRealWorkspaceIsolationPasses(t *testing.T) {
	em, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
	rep := run(t, cfg, true)
	t.Log("\n" + text(t, rep))
	for _, c := range rep.Checks {
		if c.Status != api.StatusPass {
			t.Errorf("%s: %s: %s (fix: %s) %v", c.ID, c.Status, c.Reason, c.Fix, c.Details)
		}
	}
	iso := rep.Isolation
	if iso.Method != api.MethodStatements || iso.WarehouseID != "e0e0b1c2d3e4f5a6" || len(iso.Datasets) != 2 {
		t.Fatalf("isolation: method %q, warehouse %q, %d datasets", iso.Method, iso.WarehouseID, len(iso.Datasets))
	}
	for _, d := range iso.Datasets {
		prints := map[string]bool{}
		for _, c := range d.Cells {
			if c.Rows == 0 || c.Fingerprint == "" || c.StatementID == "" {
				t.Errorf("dataset %s: cell %+v", d.Name, c)
			}
			prints[c.Fingerprint] = true
		}
		if d.Verdict != api.VerdictIsolated || len(prints) != 3 {
			t.Errorf("dataset %s: %s, %d fingerprints (%s)", d.Name, d.Verdict, len(prints), d.Reason)
		}
	}
	if len(iso.Probes) != 2 {
		t.Fatalf("probes: %+v", iso.Probes)
	}
	for _, p := range iso.Probes {
		if p.Status != api.StatusPass || (p.HTTPStatus != 401 && p.HTTPStatus != 403) {
			t.Errorf("probe %s: %s %d %s", p.ID, p.Status, p.HTTPStatus, p.Reason)
		}
	}
	// Said plainly: whose permissions.
	check := find(t, rep, api.CheckIsolation)
	details := strings.Join(check.Details, "\n")
	for _, want := range []string{"permissions of the caller", "not with the dashboard publisher's", cfg.ClientID, ":embedlab_external_value"} {
		if !strings.Contains(details, want) {
			t.Errorf("isolation details lack %q:\n%s", want, details)
		}
	}
	// Only what a real workspace has: the statements API, never the
	// emulator's embed query routes or its switches (the embed page itself
	// is real: the origin check reads its CSP).
	var sql int
	for _, e := range em.Requests(0) {
		if strings.HasPrefix(e.Path, "/embed/api/") || strings.HasPrefix(e.Path, "/emulator/") {
			t.Errorf("the real-workspace path called %s %s", e.Method, e.Path)
		}
		if e.Method == "POST" && e.Path == wire.PathStatements {
			sql++
		}
	}
	if sql != 2*3+2 { // two datasets × three viewers, two probes
		t.Errorf("%d statements sent, want 8", sql)
	}
}

func TestRealWorkspaceIsolationFindsLeaks(t *testing.T) {
	_, cfg := realWorkspace(t, "testdata/leaky.lvdash.json")
	rep := run(t, cfg, true)
	t.Log("\n" + text(t, rep))
	if iso := find(t, rep, api.CheckIsolation); iso.Status != api.StatusFail || iso.Fix == "" || rep.OK {
		t.Errorf("isolation check: %s %q, report OK %v", iso.Status, iso.Reason, rep.OK)
	}
	want := map[string]string{
		"by_country":   api.VerdictIsolated,
		"all_products": api.VerdictIdentical,
		"always_true":  api.VerdictIdentical, // OR 1=1
		"commented":    api.VerdictIdentical,
		"plus_emea":    api.VerdictOverlap,
		"lowercase":    api.VerdictEmpty,
	}
	for _, d := range rep.Isolation.Datasets {
		if w, ok := want[d.Name]; ok && d.Verdict != w {
			t.Errorf("%s: %s (%s), want %s", d.Name, d.Verdict, d.Reason, w)
		}
		if d.Name == "always_true" && (!d.UsesExternalValue || !strings.Contains(d.Reason, "always true")) {
			t.Errorf("always_true: %+v", d)
		}
		if d.Name == "all_products" && (d.UsesExternalValue || !strings.Contains(d.Reason, "unfiltered")) {
			t.Errorf("all_products: %+v", d)
		}
	}
}

func TestRealWorkspaceNamesMissingGrants(t *testing.T) {
	for _, tc := range []struct {
		name      string
		change    func(*emulator.State)
		privilege string
		securable string
		who, how  string
	}{
		{"no CAN USE on the warehouse", func(s *emulator.State) { s.Warehouses[0].CanUse = []string{testkit.WorkspaceAda.Email} },
			"CAN USE", "SQL warehouse Starter Warehouse (e0e0b1c2d3e4f5a6)", "ada@example.com", "Permissions"},
		{"no SELECT on the table", func(s *emulator.State) { s.Tables[0].Select = []string{testkit.WorkspaceAda.Email} },
			"SELECT", "table main.embedlab.sales", "metastore admin", "GRANT SELECT ON TABLE main.embedlab.sales TO `" + testkit.EmbedderID + "`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
			update(t, em, tc.change)
			rep := run(t, cfg, true)
			iso := rep.Isolation
			if rep.OK || iso.Status != api.StatusFail || len(iso.MissingGrants) != 1 {
				t.Fatalf("OK %v, isolation %s %q, grants %+v", rep.OK, iso.Status, iso.Reason, iso.MissingGrants)
			}
			g := iso.MissingGrants[0]
			if g.Privilege != tc.privilege || g.Securable != tc.securable || g.Principal != cfg.ClientID ||
				!strings.Contains(g.GrantedBy, tc.who) || !strings.Contains(g.How, tc.how) {
				t.Errorf("grant %+v", g)
			}
			check := find(t, rep, api.CheckIsolation)
			if !strings.Contains(check.Fix, tc.privilege) || !strings.Contains(strings.Join(check.Details, "\n"), "MISSING GRANT: "+tc.privilege) {
				t.Errorf("check: fix %q, details %v", check.Fix, check.Details)
			}
			for _, d := range iso.Datasets {
				if d.Verdict != api.VerdictError {
					t.Errorf("%s: %s", d.Name, d.Verdict)
				}
			}
		})
	}
}

func TestRealWorkspaceSlowStatementsArePolled(t *testing.T) {
	em, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
	if err := em.SetStatementLatency(800 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rep := run(t, cfg, true)
	if iso := rep.Isolation; iso.Status != api.StatusPass {
		t.Fatalf("isolation: %s %q", iso.Status, iso.Reason)
	}
	ids, polls := statementIDs(em)
	if len(ids) < 6 || polls < 2*len(ids) {
		t.Errorf("%d statements polled %d times: each should be polled while PENDING and RUNNING", len(ids), polls)
	}
}

func TestRealWorkspaceStatementsAreCancelled(t *testing.T) {
	t.Run("the run is stopped", func(t *testing.T) {
		em, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
		if err := em.SetStatementLatency(time.Minute); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for ctx.Err() == nil {
				if ids, polls := statementIDs(em); len(ids) > 0 && polls > 0 {
					cancel()
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		start := time.Now()
		rep := doctor.New(cfg).Run(ctx, doctor.Options{Origin: appOrigin, Isolation: true, NameViewers: true})
		cancel()
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("the stopped run took %s", took)
		}
		iso := rep.Isolation
		if rep.OK || iso.Status != api.StatusFail || !strings.Contains(iso.Reason, "stopped") || iso.Cancelled == 0 {
			t.Errorf("OK %v, isolation %s %q, cancelled %d", rep.OK, iso.Status, iso.Reason, iso.Cancelled)
		}
		allCancelled(t, em)
	})
	t.Run("a statement runs past its timeout", func(t *testing.T) {
		em, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
		cfg.StatementTimeout = 300 * time.Millisecond
		if err := em.SetStatementLatency(time.Minute); err != nil {
			t.Fatal(err)
		}
		rep := run(t, cfg, true)
		iso := rep.Isolation
		if iso.Status != api.StatusFail || iso.Datasets[0].Verdict != api.VerdictError || !strings.Contains(iso.Datasets[0].Cells[0].Error, "cancelled") {
			t.Fatalf("isolation %s %q: %+v", iso.Status, iso.Reason, iso.Datasets[0].Cells[0])
		}
		allCancelled(t, em)
	})
}

// allCancelled waits for every statement the emulator saw to be CANCELED:
// a cancel is asynchronous, its answer only says it was received.
func allCancelled(t *testing.T, em *emulator.Emulator) {
	t.Helper()
	ids, _ := statementIDs(em)
	if len(ids) == 0 {
		t.Fatal("no statement was seen")
	}
	for _, id := range ids {
		deadline := time.Now().Add(5 * time.Second)
		for em.Statement(id) != wire.StatementCanceled && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if s := em.Statement(id); s != wire.StatementCanceled {
			t.Errorf("statement %s: %s, want CANCELED", id, s)
		}
	}
}

func TestRealWorkspaceInjectionThroughAViewersValue(t *testing.T) {
	_, cfg := realWorkspace(t, "testdata/clean.lvdash.json")
	vs, err := viewers.Parse("viewers.json", []byte(`{"viewers":[
		{"id":"viewer-emea","external_value":"EMEA","users":["ada"]},
		{"id":"viewer-apac","external_value":"APAC","users":["ada"]},
		{"id":"viewer-quote","external_value":"x' OR '1'='1","users":["ada"]},
		{"id":"viewer-comment","external_value":"EMEA' --","users":["ada"]},
		{"id":"viewer-stack","external_value":"EMEA'; DELETE FROM sales; --","users":["ada"]},
		{"id":"viewer-marker","external_value":":embedlab_external_value","users":["ada"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Viewers = vs
	rep := run(t, cfg, true)
	t.Log("\n" + text(t, rep))
	for _, d := range rep.Isolation.Datasets {
		for i, c := range d.Cells {
			id := rep.Isolation.Viewers[i].ID
			region := id == "viewer-emea" || id == "viewer-apac"
			switch {
			case c.Error != "":
				t.Errorf("%s × %s: %s", d.Name, id, c.Error)
			case region && c.Rows == 0:
				t.Errorf("%s × %s: no rows", d.Name, id)
			case !region && c.Rows != 0:
				t.Errorf("%s × %s: %d rows for a value that is SQL, not a region: it was pasted into the statement", d.Name, id, c.Rows)
			}
		}
		if d.Verdict != api.VerdictEmpty {
			t.Errorf("%s: %s, want empty (the hostile values match nothing)", d.Name, d.Verdict)
		}
	}
	// The data is intact: the same rows for the real regions on a second run.
	again := run(t, cfg, true)
	for di, d := range again.Isolation.Datasets {
		for i, c := range d.Cells {
			if before := rep.Isolation.Datasets[di].Cells[i]; c.Fingerprint != before.Fingerprint || c.Rows != before.Rows {
				t.Errorf("%s × %s: %+v, then %+v", d.Name, again.Isolation.Viewers[i].ID, before, c)
			}
		}
	}
}

func TestRealWorkspaceRowLimit(t *testing.T) {
	// The clean dashboard plus a dataset of 6,840 rows for every viewer
	// (every sale, twice): more than the 5,000 the check reads.
	b, err := os.ReadFile("testdata/clean.lvdash.json")
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatal(err)
	}
	def["datasets"] = append(def["datasets"].([]any), map[string]any{"name": "big", "queryLines": []string{
		"SELECT s.*, k.k FROM sales AS s CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) AS k\n",
		"WHERE s.region = __aibi_external_value OR s.region <> __aibi_external_value\n"}})
	b, _ = json.Marshal(def)
	file := filepath.Join(t.TempDir(), "big.lvdash.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, cfg := realWorkspace(t, file)
	rep := run(t, cfg, true)
	i := slices.IndexFunc(rep.Isolation.Datasets, func(d api.IsolationDataset) bool { return d.Name == "big" })
	if i < 0 {
		t.Fatalf("no dataset big: %+v", rep.Isolation)
	}
	for _, c := range rep.Isolation.Datasets[i].Cells {
		if c.Rows != 5000 || !c.Truncated || c.Error != "" {
			t.Errorf("big: %+v, want 5000 rows, truncated", c)
		}
	}
}
