package workshop

import (
	"fmt"
	"slices"
	"strings"

	"embedlab/shared/api"
)

// An exercise's commands may need more than the README promises (Go and a
// browser): curl, jq, or embedlab's repository for `go run ./backend`.
// Each exercise names what it needs ("requires"); the page lists it, and
// the first command checks it and says what is missing and how to get it,
// before a participant meets "command not found" halfway through.

// requirement is one thing an exercise may need.
type requirement struct {
	what  string // for people
	check string // a POSIX shell test that succeeds when it is there
	fix   string
}

var requirements = map[string]requirement{
	"curl": {"curl", "command -v curl >/dev/null", "install curl (apt install curl, brew install curl; Windows 10+ has curl.exe)"},
	"jq":   {"jq", "command -v jq >/dev/null", "install jq (apt install jq, brew install jq, winget install jqlang.jq)"},
	"go":   {"Go", "command -v go >/dev/null", "install Go from https://go.dev/dl (the README's one requirement)"},
	"repo": {"embedlab's repository as the current folder (for go run ./backend)", "test -f backend/main.go -a -f go.mod",
		"cd into your clone of embedlab (git clone it first), or use the browser steps the hints name"},
	"base64": {"base64", "command -v base64 >/dev/null", "install coreutils (base64 is part of it)"},
}

func knownRequirements() string { return strings.Join(slicesSorted(requirements), ", ") }

func slicesSorted(m map[string]requirement) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// validateRequires checks the names in an exercise's "requires".
func validateRequires(bad func(field, format string, a ...any), rs []string) {
	for i, r := range rs {
		if _, ok := requirements[r]; !ok {
			bad(fmt.Sprintf("requires[%d]", i), "%q is not a known requirement (known: %s)", r, knownRequirements())
		}
	}
}

// requiresView lists what an exercise needs, for the page.
func requiresView(rs []string) []api.Requirement {
	out := []api.Requirement{}
	for _, r := range rs {
		q := requirements[r]
		out = append(out, api.Requirement{Name: r, What: q.what, Fix: q.fix})
	}
	return out
}

// checkCommand is the first command of an exercise that needs anything:
// it prints one line per missing requirement with its fix, or that all is
// there.
func checkCommand(rs []string) (api.Command, bool) {
	if len(rs) == 0 {
		return api.Command{}, false
	}
	var b strings.Builder
	b.WriteString("ok=1\n")
	for _, r := range rs {
		q := requirements[r]
		fmt.Fprintf(&b, "%s || { ok=; echo \"missing: %s: %s\"; }\n", q.check, q.what, q.fix)
	}
	b.WriteString(`[ -n "$ok" ] && echo "all set: this exercise's commands will run here"`)
	if slices.Contains(rs, "jq") && slices.Contains(rs, "go") {
		// Such exercises have embedlab lines that need neither curl nor jq.
		b.WriteString("\n" + `[ -z "$ok" ] && echo "the lines labelled 'No curl or jq?' need only Go and the repository"`)
	}
	return api.Command{Label: "First: check that this terminal has what the commands need", Shell: b.String()}, true
}
