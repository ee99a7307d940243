//go:build !noemulator

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/shared/api"
)

// TestIsolationCommandGatesADeploy runs `embedlab isolation -json` as a
// pipeline step would, with a real workspace's settings (the emulator
// behind them): the JSON says what ran and why it failed, and the exit code
// fails the deploy on a leak or a missing grant.
func TestIsolationCommandGatesADeploy(t *testing.T) {
	_, clean := doctorEnv(t, "doctor/testdata/clean.lvdash.json")
	_, leaky := doctorEnv(t, "doctor/testdata/leaky.lvdash.json")
	noSelect, env := doctorEnv(t, "doctor/testdata/clean.lvdash.json")
	if err := noSelect.Update(func(s *emulator.State) { s.Tables[0].Select = nil }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		code    int
		verdict map[string]string
		grant   string
	}{
		{"isolated", clean, 0, map[string]string{"sales_region": api.VerdictIsolated, "country_product": api.VerdictIsolated}, ""},
		{"leaking", leaky, 1, map[string]string{"all_products": api.VerdictIdentical, "always_true": api.VerdictIdentical}, ""},
		{"missing grant", env, 1, map[string]string{"sales_region": api.VerdictError}, "SELECT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := cli(t, tc.env, "isolation", "-json")
			var rep api.DoctorReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout is not one JSON report (%v):\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			if code != tc.code || rep.OK != (tc.code == 0) || rep.Isolation == nil {
				t.Fatalf("exit %d (want %d), ok %v\nstderr: %s", code, tc.code, rep.OK, stderr)
			}
			iso := rep.Isolation
			if rep.Emulated || iso.Method != api.MethodStatements || iso.RunsAs == "" {
				t.Errorf("emulated %v, method %q, runs_as %q: want the real-workspace path", rep.Emulated, iso.Method, iso.RunsAs)
			}
			for _, d := range iso.Datasets {
				if w, ok := tc.verdict[d.Name]; ok && d.Verdict != w {
					t.Errorf("%s: %s, want %s", d.Name, d.Verdict, w)
				}
			}
			if tc.grant != "" && (len(iso.MissingGrants) == 0 || iso.MissingGrants[0].Privilege != tc.grant) {
				t.Errorf("missing grants: %+v", iso.MissingGrants)
			}
			if tc.code != 0 && !strings.Contains(stderr, "checks failed") {
				t.Errorf("stderr: %s", stderr)
			}
		})
	}
	if _, stderr, code := cli(t, clean, "isolation", "-via", "odbc"); code != 2 || !strings.Contains(stderr, "-via") {
		t.Errorf("-via odbc: exit %d, %s", code, stderr)
	}
}
