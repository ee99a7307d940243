package workshop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The first command of an exercise names each missing requirement with its
// fix, and says all is set when nothing is missing; run by a real shell.
func TestRequirementsAreCheckedUpFront(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh here")
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, ok := checkCommand([]string{"curl", "jq", "repo"})
	if !ok || !strings.HasPrefix(c.Label, "First") {
		t.Fatalf("%+v", c)
	}
	run := func(dir string) string {
		cmd := exec.Command(sh, "-c", c.Shell)
		cmd.Dir, cmd.Env = dir, []string{"PATH=" + bin}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := run(t.TempDir())
	if strings.Contains(out, "missing: curl") || !strings.Contains(out, "missing: jq: install jq") ||
		!strings.Contains(out, "missing: embedlab's repository") || strings.Contains(out, "all set") {
		t.Fatalf("without jq, outside the repository:\n%s", out)
	}
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "backend"), 0o755)
	os.WriteFile(filepath.Join(repo, "backend", "main.go"), nil, 0o644)
	os.WriteFile(filepath.Join(repo, "go.mod"), nil, 0o644)
	os.WriteFile(filepath.Join(bin, "jq"), []byte("#!/bin/sh\n"), 0o755)
	if out := run(repo); strings.Contains(out, "missing") || !strings.Contains(out, "all set") {
		t.Fatalf("with everything:\n%s", out)
	}
	if _, ok := checkCommand(nil); ok {
		t.Fatal("an exercise that needs nothing got a check")
	}
	_, err = Parse("x.json", []byte(`{"id":"x","title":"t","goal":"g","requires":["wget"],"commands":[{"shell":"a"}],
		"checkpoint":{"description":"d","steps":[{"expect":"e","log":"request","where":{"path":"/"},"hint":"h"}]}}`))
	if err == nil || !strings.Contains(err.Error(), `requires[0]: "wget" is not a known requirement`) {
		t.Fatalf("%v", err)
	}
}

// Every bundled exercise says what it needs.
func TestBundledExercisesStateTheirRequirements(t *testing.T) {
	xs, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if len(x.Requires) == 0 {
			t.Errorf("%s names no requirements", x.ID)
		}
		for _, c := range x.Commands {
			for tool, need := range map[string]string{"curl ": "curl", "jq ": "jq", "go run": "go", "base64": "base64"} {
				if strings.Contains(c.Shell, tool) && !strings.Contains(strings.Join(x.Requires, " "), need) {
					t.Errorf("%s uses %q but does not require %s", x.ID, tool, need)
				}
			}
		}
	}
}
