package api

import (
	"strings"
	"testing"
)

func TestSourcesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Sources {
		if s.ID == "" || s.Label == "" || s.Description == "" || seen[s.ID] {
			t.Errorf("source %+v: an id, a label and a description, each id once", s)
		}
		seen[s.ID] = true
		if s.Role != "" && !KnownRole(s.Role) {
			t.Errorf("source %s needs the unknown role %q", s.ID, s.Role)
		}
		// Whatever is the server's identity needs a role; one's own does not.
		if s.ServerIdentity != (s.Role != "") {
			t.Errorf("source %s: server identity %t but role %q", s.ID, s.ServerIdentity, s.Role)
		}
	}
	if _, ok := LookupSource(SourceM2M); !ok || !strings.Contains(SourceIDs(true), SourceFederated) || strings.Contains(SourceIDs(true), SourceNoAccess) {
		t.Errorf("lookup or ids: %s", SourceIDs(true))
	}
}

// TestU2MErrorText: a callback's code is worded by embedlab; any other text
// (a crafted link) is never shown (issue 16, F7).
func TestU2MErrorText(t *testing.T) {
	if got := U2MErrorText("access_denied"); !strings.Contains(got, "declined") {
		t.Errorf("access_denied: %q", got)
	}
	for _, attack := range []string{"Your account is locked: call +1-555-0100", "access_denied: call us", ""} {
		if got := U2MErrorText(attack); strings.Contains(got, "call") || strings.Contains(got, "555") || got == "" {
			t.Errorf("%q shown as %q", attack, got)
		}
	}
}
