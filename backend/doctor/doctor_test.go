package doctor_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"embedlab/backend/doctor"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

const appOrigin = "http://localhost:3000" // allowed by the bundled workspace

// workspace starts an emulator for one test and returns it with the
// configuration that checks it.
func workspace(t *testing.T, dashboardFile string) (*emulator.Emulator, doctor.Config) {
	t.Helper()
	em := testkit.Emulator(t, emulator.Options{DashboardFile: dashboardFile, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return em, doctor.Config{InstanceURL: em.URL(), WorkspaceID: em.WorkspaceID(), DashboardID: testkit.DashboardID,
		ClientID: testkit.EmbedderID, ClientSecret: testkit.EmbedderSecret,
		Emulated: true, Viewers: viewers.Default(), ViewersSource: "viewers.json (bundled)"}
}

func run(t *testing.T, cfg doctor.Config, isolation bool) *api.DoctorReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return doctor.New(cfg).Run(ctx, doctor.Options{Origin: appOrigin, Isolation: isolation, NameViewers: true})
}

func find(t *testing.T, rep *api.DoctorReport, id string) api.DoctorCheck {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %q in the report", id)
	return api.DoctorCheck{}
}

func text(t *testing.T, rep *api.DoctorReport) string {
	var b bytes.Buffer
	if err := doctor.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCleanDashboardPasses(t *testing.T) {
	_, cfg := workspace(t, "testdata/clean.lvdash.json")
	rep := run(t, cfg, true)
	for _, c := range rep.Checks {
		if c.Status != api.StatusPass {
			t.Errorf("%s: %s: %s (fix: %s) %v", c.ID, c.Status, c.Reason, c.Fix, c.Details)
		}
	}
	if !rep.OK {
		t.Error("report not OK")
	}
	if got := len(rep.Checks); got != 11 {
		t.Errorf("%d checks, want 11 (ten and the isolation check)", got)
	}
	if rep.Credentials == nil || rep.Credentials.Mode != api.CredentialsPublisher {
		t.Errorf("embed credentials = %+v, want publisher (Lakeview's default)", rep.Credentials)
	}
	iso := rep.Isolation
	if iso == nil || len(iso.Viewers) != 3 || len(iso.Datasets) != 2 {
		t.Fatalf("isolation = %+v, want 3 viewers × 2 datasets", iso)
	}
	for _, d := range iso.Datasets {
		if d.Verdict != api.VerdictIsolated || !d.UsesExternalValue {
			t.Errorf("dataset %s: %s (%s)", d.Name, d.Verdict, d.Reason)
		}
		prints := map[string]bool{}
		for _, c := range d.Cells {
			if c.Rows == 0 || c.Fingerprint == "" || c.Shared != 0 {
				t.Errorf("dataset %s: cell %+v", d.Name, c)
			}
			prints[c.Fingerprint] = true
		}
		if len(prints) != 3 {
			t.Errorf("dataset %s: %d distinct fingerprints, want 3", d.Name, len(prints))
		}
	}
	if len(iso.Probes) != 7 {
		t.Errorf("%d probes, want 7", len(iso.Probes))
	}
	for _, p := range iso.Probes {
		if p.Status != api.StatusPass || (p.HTTPStatus != 401 && p.HTTPStatus != 403 && p.HTTPStatus != 404) {
			t.Errorf("probe %s: %s %d %s", p.ID, p.Status, p.HTTPStatus, p.Reason)
		}
	}
	out := text(t, rep)
	for _, want := range []string{"PASS  Workspace reachable", "viewer-amer", "ISOLATED", "Tokens that must get nothing", "OK: 11 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestTheBundledDashboardPasses(t *testing.T) {
	_, cfg := workspace(t, "")
	if rep := run(t, cfg, true); !rep.OK {
		t.Fatalf("the bundled dashboard fails:\n%s", text(t, rep))
	}
}

// TestEachCheckFailsForItsOwnReason breaks one thing at a time, and only
// the checks that depend on it may fail.
func TestEachCheckFailsForItsOwnReason(t *testing.T) {
	piiErr := func(file string) error {
		_, err := viewers.Parse("viewers.json", []byte(file))
		if err == nil {
			t.Fatal("the viewers file was accepted")
		}
		return err
	}
	for _, tc := range []struct {
		name   string
		break_ func(em *emulator.Emulator, cfg *doctor.Config)
		fails  []string // checks that must fail; every other must not
		check  string
		status string
		says   string
	}{
		{"bad secret", func(em *emulator.Emulator, cfg *doctor.Config) { cfg.ClientSecret = "not-the-secret-0000000000" },
			[]string{api.CheckSecret}, api.CheckSecret, api.StatusFail, "refused the service principal"},
		{"wrong workspace id", func(em *emulator.Emulator, cfg *doctor.Config) { cfg.WorkspaceID = "999" },
			[]string{api.CheckWorkspace}, api.CheckWorkspace, api.StatusFail, "WORKSPACE_ID says 999"},
		{"unknown id", func(em *emulator.Emulator, cfg *doctor.Config) { cfg.DashboardID = "0123456789abcdef0123456789abcdef" },
			[]string{api.CheckTokenInfo}, api.CheckTokenInfo, api.StatusFail, "unknown id"},
		{"secret refused (fault switch)", func(em *emulator.Emulator, cfg *doctor.Config) {
			fault(t, em, emulator.Fault{Endpoint: emulator.EndpointToken, Status: 401, Count: 1})
		}, []string{api.CheckSecret}, api.CheckSecret, api.StatusFail, "invalid_client"},
		{"tokeninfo refused (fault switch)", func(em *emulator.Emulator, cfg *doctor.Config) {
			fault(t, em, emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 403, Count: 1})
		}, []string{api.CheckTokenInfo}, api.CheckTokenInfo, api.StatusFail, "no CAN RUN"},
		{"unpublished", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) { s.Dashboards[0].Published = false })
		}, []string{api.CheckTokenInfo}, api.CheckTokenInfo, api.StatusFail, "unpublished"},
		{"no CAN RUN", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) { s.Dashboards[0].CanRun = nil })
		}, []string{api.CheckTokenInfo}, api.CheckTokenInfo, api.StatusFail, "no CAN RUN"},
		{"origin not allowed", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) { s.EmbeddingOrigins = []string{"https://portal.example.com"} })
		}, []string{api.CheckOrigin}, api.CheckOrigin, api.StatusFail, "may not embed"},
		{"no origin allowed", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) { s.EmbeddingOrigins = nil })
		}, []string{api.CheckOrigin}, api.CheckOrigin, api.StatusFail, "'none'"},
		{"clock skew", func(em *emulator.Emulator, cfg *doctor.Config) {
			if err := em.SetClockSkew(5 * time.Minute); err != nil {
				t.Fatal(err)
			}
		}, []string{api.CheckClock}, api.CheckClock, api.StatusFail, "5m0s ahead of"},
		{"PII viewer id", func(em *emulator.Emulator, cfg *doctor.Config) {
			cfg.Viewers, cfg.ViewersErr = nil, piiErr(`{"viewers":[{"id":"ada@example.com","external_value":"EMEA","users":["ada"]}]}`)
		}, []string{api.CheckViewers}, api.CheckViewers, api.StatusFail, "refused"},
		{"duplicate viewer", func(em *emulator.Emulator, cfg *doctor.Config) {
			cfg.Viewers, cfg.ViewersErr = nil, piiErr(`{"viewers":[{"id":"viewer-1","external_value":"EMEA","users":["ada"]},`+
				`{"id":"viewer-1","external_value":"APAC","users":["ada"]}]}`)
		}, []string{api.CheckViewers}, api.CheckViewers, api.StatusFail, "refused"},
		{"secret expires soon", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) {
				s.ServicePrincipals[0].SecretExpireTime = time.Now().Add(5 * 24 * time.Hour).UTC().Format(time.RFC3339)
			})
		}, nil, api.CheckSecret, api.StatusWarn, "expires"},
		{"secret expired", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) {
				s.ServicePrincipals[0].SecretExpireTime = time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
			})
		}, []string{api.CheckSecret}, api.CheckSecret, api.StatusFail, "expired"},
		{"definition not readable", func(em *emulator.Emulator, cfg *doctor.Config) {
			// A principal with CAN RUN elsewhere only: tokeninfo 403, definition 403.
			update(t, em, func(s *emulator.State) { s.Dashboards[0].CanRun = nil })
		}, []string{api.CheckTokenInfo}, api.CheckDatasets, api.StatusWarn, "may not read"},
		{"viewer's credentials without SELECT", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) { s.Dashboards[0].EmbedCredentials = emulator.CredentialsViewer })
		}, []string{api.CheckCredentials}, api.CheckCredentials, api.StatusFail, "does not have SELECT"},
		{"viewer's credentials with SELECT", func(em *emulator.Emulator, cfg *doctor.Config) {
			update(t, em, func(s *emulator.State) {
				s.Dashboards[0].EmbedCredentials = emulator.CredentialsViewer
				s.Dashboards[0].SelectGrants = s.Dashboards[0].CanRun
			})
		}, nil, api.CheckCredentials, api.StatusPass, "can read the data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em, cfg := workspace(t, "testdata/clean.lvdash.json")
			tc.break_(em, &cfg)
			rep := run(t, cfg, false)
			c := find(t, rep, tc.check)
			if c.Status != tc.status || !strings.Contains(c.Reason, tc.says) {
				t.Errorf("%s: %s %q, want %s saying %q", tc.check, c.Status, c.Reason, tc.status, tc.says)
			}
			if c.Status != api.StatusPass && c.Fix == "" {
				t.Errorf("%s: no fix", tc.check)
			}
			for _, c := range rep.Checks {
				if (c.Status == api.StatusFail) != slices.Contains(tc.fails, c.ID) {
					t.Errorf("%s: %s: %s", c.ID, c.Status, c.Reason)
				}
			}
			if rep.OK != (len(tc.fails) == 0) {
				t.Errorf("OK = %v with failures %v", rep.OK, tc.fails)
			}
		})
	}
}

func fault(t *testing.T, em *emulator.Emulator, f emulator.Fault) {
	t.Helper()
	if err := em.InjectFault(f); err != nil {
		t.Fatal(err)
	}
}

func update(t *testing.T, em *emulator.Emulator, f func(*emulator.State)) {
	t.Helper()
	if err := em.Update(f); err != nil {
		t.Fatal(err)
	}
}

func TestIsolationFindsLeaks(t *testing.T) {
	_, cfg := workspace(t, "testdata/leaky.lvdash.json")
	rep := run(t, cfg, true)
	t.Log("\n" + text(t, rep))
	ds := find(t, rep, api.CheckDatasets)
	if ds.Status != api.StatusFail || !strings.Contains(ds.Reason, "all_products") || !strings.Contains(ds.Reason, "commented") ||
		strings.Contains(ds.Reason, "always_true") {
		t.Errorf("datasets: %s %q: want all_products and commented named unfiltered (always_true uses the value)", ds.Status, ds.Reason)
	}
	if iso := find(t, rep, api.CheckIsolation); iso.Status != api.StatusFail || iso.Fix == "" {
		t.Errorf("isolation check: %s %q", iso.Status, iso.Reason)
	}
	want := map[string]string{
		"by_country":   api.VerdictIsolated,
		"all_products": api.VerdictIdentical,
		"always_true":  api.VerdictIdentical,
		"commented":    api.VerdictIdentical,
		"plus_emea":    api.VerdictOverlap,
		"lowercase":    api.VerdictEmpty,
	}
	for _, d := range rep.Isolation.Datasets {
		if d.Verdict != want[d.Name] {
			t.Errorf("%s: %s (%s), want %s", d.Name, d.Verdict, d.Reason, want[d.Name])
		}
	}
	byName := func(name string) api.IsolationDataset {
		i := slices.IndexFunc(rep.Isolation.Datasets, func(d api.IsolationDataset) bool { return d.Name == name })
		return rep.Isolation.Datasets[i]
	}
	if d := byName("all_products"); d.UsesExternalValue || !strings.Contains(d.Reason, "unfiltered") {
		t.Errorf("all_products: %+v", d)
	}
	if d := byName("always_true"); !d.UsesExternalValue || !strings.Contains(d.Reason, "always true") || d.Status != api.StatusFail {
		t.Errorf("always_true: %+v", d)
	}
	if d := byName("plus_emea"); d.Cells[0].Shared == 0 || d.Status != api.StatusWarn {
		t.Errorf("plus_emea: %+v: the EMEA rows should count as shared", d)
	}
}

func TestIsolationNeedsTwoViewers(t *testing.T) {
	_, cfg := workspace(t, "")
	one := viewers.Default().Viewers()[:1]
	rep := doctor.New(cfg).Run(context.Background(), doctor.Options{Isolation: true, Viewers: one})
	if iso := rep.Isolation; iso.Status != api.StatusSkip || !strings.Contains(iso.Reason, "two or more viewers") {
		t.Errorf("isolation with one viewer: %s %q", iso.Status, iso.Reason)
	}
}

func TestUnreachableWorkspaceSkipsTheRest(t *testing.T) {
	cfg := doctor.Config{InstanceURL: "http://127.0.0.1:1", WorkspaceID: "1", DashboardID: "0123456789abcdef0123456789abcdef",
		ClientID: "x", ClientSecret: "y", Viewers: viewers.Default(), Timeout: 2 * time.Second}
	rep := run(t, cfg, true)
	if rep.OK || rep.Checks[0].Status != api.StatusFail || !strings.Contains(rep.Checks[0].Reason, "could not be reached") {
		t.Fatalf("first check: %+v", rep.Checks[0])
	}
	for _, c := range rep.Checks[1:] {
		if c.Status == api.StatusFail {
			t.Errorf("%s fails too: %s", c.ID, c.Reason)
		}
	}
}
