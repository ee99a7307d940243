//go:build !noemulator

package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// doctorEnv starts an emulator with a dashboard file and returns the
// settings of a real workspace pointing at it.
func doctorEnv(t *testing.T, dashboardFile string) (*emulator.Emulator, map[string]string) {
	t.Helper()
	em := testkit.Emulator(t, emulator.Options{DashboardFile: dashboardFile, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	dash, id, secret, err := em.Embedding()
	if err != nil {
		t.Fatal(err)
	}
	return em, map[string]string{"INSTANCE_URL": em.URL(), "WORKSPACE_ID": em.WorkspaceID(), "DASHBOARD_ID": dash,
		"SERVICE_PRINCIPAL_ID": id, "SERVICE_PRINCIPAL_SECRET": secret}
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestDoctorCommandExitCodes(t *testing.T) {
	_, env := doctorEnv(t, "doctor/testdata/clean.lvdash.json")
	_, leaky := doctorEnv(t, "doctor/testdata/leaky.lvdash.json")
	pii := filepath.Join(t.TempDir(), "viewers.json")
	if err := os.WriteFile(pii, []byte(`{"viewers":[{"id":"ada@example.com","external_value":"EMEA","users":["ada"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"clean", env, []string{"doctor"}, 0, "OK: 10 passed, 0 failed", ""},
		{"isolation command", env, []string{"isolation"}, 0, "ISOLATED", ""},
		{"doctor -isolation", env, []string{"doctor", "-isolation", "-viewers", "viewer-emea,viewer-apac"}, 0, "viewer-apac", ""},
		{"bad secret", with(env, "SERVICE_PRINCIPAL_SECRET", "wrong-secret-000000000000"), []string{"doctor"}, 1, "FAIL  Service principal secret", "1 of 10 checks failed"},
		{"origin not allowed", env, []string{"doctor", "--origin", "https://portal.example.com"}, 1, "may not embed", "checks failed"},
		{"PII viewer", with(env, "EMBEDLAB_VIEWERS_FILE", pii), []string{"doctor"}, 1, "looks like an e-mail address", "checks failed"},
		{"unfiltered dataset", leaky, []string{"doctor", "--isolation"}, 1, "IDENTICAL", "checks failed"},
		{"unknown flag", env, []string{"doctor", "-frobnicate"}, 2, "", "flag provided but not defined"},
		{"stray argument", env, []string{"doctor", "now"}, 2, "", "no arguments"},
		{"unknown viewer", env, []string{"doctor", "-viewers", "viewer-mars"}, 2, "", `no viewer "viewer-mars"`},
		{"bad settings", map[string]string{"INSTANCE_URL": env["INSTANCE_URL"]}, []string{"doctor"}, 2, "", "configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := cli(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.out) || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tc.code, tc.out, stdout, tc.err, stderr)
			}
		})
	}
}

func TestDoctorCommandJSON(t *testing.T) {
	_, env := doctorEnv(t, "doctor/testdata/leaky.lvdash.json")
	stdout, _, code := cli(t, env, "doctor", "-json", "-isolation")
	var rep api.DoctorReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if code != 1 || rep.OK || rep.Isolation == nil || len(rep.Isolation.Viewers) != 3 || len(rep.Isolation.Datasets) != 6 {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
	if rep.Emulated || rep.Credentials == nil || rep.Credentials.Mode != api.CredentialsPublisher {
		t.Errorf("emulated %v, credentials %+v", rep.Emulated, rep.Credentials)
	}
}

// In emulator mode the doctor checks the emulator already running, or
// starts one for the run.
func TestDoctorCommandInEmulatorMode(t *testing.T) {
	stdout, stderr, code := cli(t, map[string]string{"EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:1"}, "doctor", "-isolation")
	if code != 0 || !strings.Contains(stderr, "started for this run") || !strings.Contains(stdout, "(emulator)") {
		t.Fatalf("own emulator: exit %d\n%s\n%s", code, stdout, stderr)
	}
	em, _ := doctorEnv(t, "")
	if err := em.SetClockSkew(-3 * 60e9); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(em.URL(), "http://")
	stdout, stderr, code = cli(t, map[string]string{"EMBEDLAB_EMULATOR_ADDR": addr}, "doctor")
	if code != 1 || !strings.Contains(stderr, "checking the emulator running at "+em.URL()) || !strings.Contains(stdout, "FAIL  Clock agrees") {
		t.Fatalf("running emulator with a skewed clock: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// The web page's route: a session, the user's own viewers, this app's origin.
func TestDoctorThroughTheAPI(t *testing.T) {
	app, _ := startServe(t, nil)
	if r := testkit.NewClient(t, app).Do(http.MethodGet, api.PathDoctor, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without a session: %d", r.Status)
	}
	get := func(u testkit.User) api.DoctorReport {
		r := testkit.SignedIn(t, app, u).Do(http.MethodGet, api.PathDoctor+"?isolation=1", nil)
		var rep api.DoctorReport
		if r.Status != 200 || json.Unmarshal(r.Body, &rep) != nil {
			t.Fatalf("doctor: %d %s", r.Status, r.Body)
		}
		return rep
	}
	rep := get(testkit.Ada)
	for _, c := range rep.Checks {
		want := api.StatusPass
		if c.ID == api.CheckOrigin {
			// serve listens on a free port here, not on 3000, which is
			// what the bundled workspace allows: a real finding.
			want = api.StatusFail
			if !strings.Contains(c.Reason, app) || !strings.Contains(c.Fix, "embedding_origins") {
				t.Errorf("origin: %q, fix %q", c.Reason, c.Fix)
			}
		}
		if c.Status != want {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Reason)
		}
	}
	if rep.Origin != app || len(rep.Isolation.Viewers) != 2 {
		t.Errorf("origin %s, isolation viewers %+v: want ada's two", rep.Origin, rep.Isolation.Viewers)
	}
	if iso := get(testkit.Nobody).Isolation; iso.Status != api.StatusSkip {
		t.Errorf("a user without viewers: isolation %s %s", iso.Status, iso.Reason)
	}
}
