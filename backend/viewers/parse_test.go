package viewers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	s, err := Parse("v.json", []byte(`{
		"_note": "free text",
		"viewers": [
			{"id": "customer-0042", "external_value": "ACME | Ltd", "users": ["ada"]}
		]}`))
	if err == nil {
		t.Fatalf("a '|' in external_value must be refused, got %+v", s.Viewers())
	}
	s, err = Parse("v.json", []byte(`{"viewers": [{"id": "customer-0042", "external_value": "Ada Lovelace <ada@example.com>", "users": ["ada"]}]}`))
	if err != nil {
		t.Fatalf("external_value may be personal data: %v", err)
	}
	v := s.Viewers()[0]
	if v.DisplayName != "customer-0042" {
		t.Errorf("DisplayName = %q, want the id when display_name is absent", v.DisplayName)
	}
}

// TestParseProblems checks that every problem is reported on its own line,
// naming the file and the JSON path.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // one per expected line, in order
	}{
		{"not JSON", `{"viewers": [}`, []string{"v.json: line 1, column 15: invalid JSON"}},
		{"bare array", `[]`, []string{"v.json: the file holds a JSON array; the file must be a JSON object"}},
		{"null", `null`, []string{"v.json: it is null"}},
		{"missing list", `{}`, []string{"v.json: viewers: is missing"}},
		{"empty list", `{"viewers": []}`, []string{"v.json: viewers: is empty"}},
		{"list of wrong type", `{"viewers": {}}`, []string{"v.json: viewers: must be an array"}},
		{"unknown top field", `{"viewer": [], "viewers": [{"id":"a","external_value":"b","users":["u"]}]}`,
			[]string{"v.json: viewer: unknown field; the file's fields are _note, viewers"}},
		{"entry not an object", `{"viewers": ["viewer-emea"]}`, []string{"v.json: viewers[0]: must be an object"}},
		{"unknown and wrongly typed fields", `{"viewers": [{"id": 7, "external_valeu": "EMEA", "region": "x", "users": "ada"}]}`,
			[]string{
				"v.json: viewers[0].external_valeu: unknown field",
				"v.json: viewers[0].region: unknown field",
				"v.json: viewers[0].id: must be a string",
				"v.json: viewers[0].users: must be an array of login user names",
			}},
		{"missing everything", `{"viewers": [{}]}`, []string{
			"v.json: viewers[0].id: external_viewer_id is required",
			"v.json: viewers[0].external_value: external_value is required",
			"v.json: viewers[0].users: is empty",
		}},
		{"duplicate ids", `{"viewers": [
			{"id":"viewer-x","external_value":"A","users":["u"]},
			{"id":"viewer-y","external_value":"B","users":["u"]},
			{"id":"viewer-x","external_value":"C","users":["u"]}]}`,
			[]string{"v.json: viewers[2].id: same id as viewers[0].id: each external_viewer_id must be unique"}},
		{"wire rules", `{"viewers": [
			{"id":"a:b","external_value":"A","users":["u"]},
			{"id":"ok","external_value":"A|B","users":["u"]},
			{"id":"ok2","external_value":"` + strings.Repeat("x", 1024) + `","users":["u"]},
			{"id":"ok3","external_value":"tab\u0007","users":["u"]}]}`,
			[]string{
				"v.json: viewers[0].id: external_viewer_id must not contain ':'",
				"v.json: viewers[1].external_value: external_value must not contain '|'",
				"v.json: viewers[2].external_value: external_viewer_id and external_value together are 1025 bytes",
				"v.json: viewers[3].external_value: external_value must be printable",
			}},
		{"combined length", `{"viewers": [{"id":"` + strings.Repeat("i", 600) + `","external_value":"` + strings.Repeat("v", 600) + `","users":["u"]}]}`,
			[]string{"v.json: viewers[0]: external_viewer_id and external_value together are 1200 bytes; the limit is 1024"}},
		{"bad users", `{"viewers": [{"id":"v","external_value":"A","users":["ada","","Grace","a b","ada"]}]}`,
			[]string{
				"v.json: viewers[0].users[1]: user name is empty",
				`v.json: viewers[0].users[2]: user name "Grace" must be lower case`,
				"v.json: viewers[0].users[3]: user name must not contain whitespace",
				`v.json: viewers[0].users[4]: "ada" is already listed at viewers[0].users[0]`,
			}},
		{"control character in display name", `{"viewers": [{"id":"v","display_name":"a\u0000b","external_value":"A","users":["u"]}]}`,
			[]string{"v.json: viewers[0].display_name: must not contain control characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("v.json", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", s.Viewers())
			}
			assertLines(t, err.Error(), tt.want)
		})
	}
}

// TestPersonalDataIDs checks each kind of personal-data id is refused with
// its reason, and without repeating the id.
func TestPersonalDataIDs(t *testing.T) {
	tests := []struct {
		id, reason string
	}{
		{"ada@example.com", "looks like an e-mail address"},
		{"ada(at)example.com@", "looks like an e-mail address"},
		{"Ada Lovelace", "looks like a person's name"},
		{"ada\u00a0lovelace", "looks like a person's name"},
		{"+44 20 7946 0958", "looks like a person's name"}, // whitespace is checked first
		{"+442079460958", "looks like a phone number"},
		{"020-7946-0958", "looks like a phone number"},
		{"(555)123.4567", "looks like a phone number"},
		{"5551234", "looks like a phone number"},
	}
	for _, tt := range tests {
		reason := tt.reason
		src := `{"viewers": [{"id": "` + tt.id + `", "external_value": "EMEA", "users": ["ada"]}]}`
		_, err := Parse("v.json", []byte(src))
		if err == nil {
			t.Errorf("id %q was accepted", tt.id)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "v.json: viewers[0].id: ") || !strings.Contains(msg, reason) || !strings.Contains(msg, "must not be personal data") {
			t.Errorf("id %q: error %q should name the path, say %q and why it matters", tt.id, msg, reason)
		}
		if strings.Contains(msg, tt.id) {
			t.Errorf("id %q: the error repeats the personal data: %q", tt.id, msg)
		}
	}
}

func TestOpaqueIDsAccepted(t *testing.T) {
	for _, id := range []string{"viewer-emea", "customer-0042", "123456", "1234567890123456", "c0ffee-42-99", "tenant/7/region.eu", "über-kunde"} {
		src := `{"viewers": [{"id": "` + id + `", "external_value": "EMEA", "users": ["ada"]}]}`
		if _, err := Parse("v.json", []byte(src)); err != nil {
			t.Errorf("id %q refused: %v", id, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "viewers.json")
	if err := os.WriteFile(good, defaultFile, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(good)
	if err != nil || s.Len() != 3 {
		t.Fatalf("Load(bundled copy) = %v, %v", s, err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"viewers": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": viewers: is empty") {
		t.Errorf("Load(bad) error = %v, want it to start with the path", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Load(missing) error = %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	s, err := FromEnv("viewer-demo", "EMEA", []string{"ada", "grace"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Authorize("grace", "viewer-demo")
	if err != nil || v.ExternalValue != "EMEA" || v.DisplayName != "viewer-demo" {
		t.Errorf("Authorize = %+v, %v", v, err)
	}
	if _, err := s.Authorize("nobody", "viewer-demo"); err == nil {
		t.Error("a user not listed may act as the viewer")
	}

	_, err = FromEnv("ada@example.com", "A|B", nil)
	if err == nil {
		t.Fatal("FromEnv accepted a personal id, a bad value and no users")
	}
	assertLines(t, err.Error(), []string{
		"EXTERNAL_VALUE: external_value must not contain '|'",
		"EXTERNAL_VIEWER_ID: contains '@', so it looks like an e-mail address",
		"users allowed to act as EXTERNAL_VIEWER_ID: is empty",
	})
	if strings.Contains(err.Error(), "ada@example.com") {
		t.Errorf("error repeats the personal data: %q", err)
	}
	_, err = FromEnv("", "", []string{"ada"})
	assertLines(t, err.Error(), []string{"EXTERNAL_VIEWER_ID: external_viewer_id is required", "EXTERNAL_VALUE: external_value is required"})
}

func TestFromEnvCopiesUsers(t *testing.T) {
	users := []string{"ada"}
	s, err := FromEnv("viewer-demo", "EMEA", users)
	if err != nil {
		t.Fatal(err)
	}
	users[0] = "mallory"
	if _, err := s.Authorize("mallory", "viewer-demo"); err == nil {
		t.Error("changing the caller's slice changed the Set")
	}
}

// assertLines checks that msg has exactly the wanted lines, each starting
// with (or, for the first of a file error, containing) the given text.
func assertLines(t *testing.T, msg string, want []string) {
	t.Helper()
	lines := strings.Split(msg, "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), msg)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q\nwant prefix %q", i+1, lines[i], w)
		}
	}
}
