package viewers

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"embedlab/shared/wire"
)

// FuzzParse: any viewers file is accepted or refused, never a panic. A
// refusal has one line per problem, each naming the file. What is accepted
// holds only viewers the workspace will take (wire.ValidateViewer), with a
// non-empty value, unique ids that do not look like personal data, and
// users whose names can log in; and Authorize grants exactly the pairs the
// file lists, refusing every other user and id alike.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("viewers.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"viewers": null}`, `{"viewers": []}`, `{"viewers": [null]}`, `{"viewers": {}}`,
		`{"viewers": [{"id": "v1", "external_value": "EMEA", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "v1", "external_value": "EMEA", "users": ["ada"]}, {"id": "v1", "external_value": "APAC", "users": ["bob"]}]}`,
		`{"viewers": [{"id": "ada@example.com", "external_value": "x", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "Ada Lovelace", "external_value": "x", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "+44 20 7946 0958", "external_value": "x", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "a:b", "external_value": "x|y", "users": ["Ada", "", "a b", "ada", "ada"]}]}`,
		`{"viewers": [{"id": "v", "external_value": "x' OR '1'='1", "display_name": "\u0007", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "v", "external_value": "", "users": []}], "extra": 1}`,
		`{"viewers": [{"id": 5, "external_value": ["x"], "users": "ada", "external_valeu": "x"}]}`,
		"{\"viewers\": [{\"id\": \"v\xff\", \"external_value\": \"\\u0000\", \"users\": [\"ada\"]}]}",
		`{"viewers": [{"id": "v", "external_value": "` + strings.Repeat("x", 1030) + `", "users": ["ada"]}]}`,
		`{"_note": 1, "viewers": [{"id": "v", "external_value": "x", "users": ["ada"]}]}`,
		`{"viewers": [{"id": "v", "external_value": "x", "users": ["ada"]}]} trailing`,
		"{\n\"viewers\": [\n}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.json", data)
		if err != nil {
			if s != nil {
				t.Fatal("a refusal with a set")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.json: ") {
					t.Fatalf("line %q does not name the file", line)
				}
			}
			return
		}
		if s.Len() == 0 {
			t.Fatal("accepted a file without viewers")
		}
		ids := map[string]bool{}
		for _, v := range s.Viewers() {
			if err := wire.ValidateViewer(v.ID, v.ExternalValue); err != nil {
				t.Fatalf("accepted viewer %q the workspace refuses: %v", v.ID, err)
			}
			if v.ExternalValue == "" || ids[v.ID] || personalData(v.ID) != "" || v.DisplayName == "" ||
				strings.IndexFunc(v.DisplayName, unicode.IsControl) >= 0 {
				t.Fatalf("accepted viewer %+v (duplicate %v)", v, ids[v.ID])
			}
			ids[v.ID] = true
		}
		for _, u := range s.Users() {
			if checkUserName(u) != nil {
				t.Fatalf("accepted user %q", u)
			}
			mine := s.For(u)
			if len(mine) == 0 {
				t.Fatalf("user %q is listed but may act as no viewer", u)
			}
			for _, v := range mine {
				if got, err := s.Authorize(u, v.ID); err != nil || !reflect.DeepEqual(got, v) {
					t.Fatalf("Authorize(%q, %q) = %+v, %v", u, v.ID, got, err)
				}
			}
			for _, v := range s.Viewers() {
				if _, err := s.Authorize(u, v.ID); err == nil && !containsViewer(mine, v.ID) {
					t.Fatalf("Authorize lets %q act as %q, which the file does not list for them", u, v.ID)
				}
			}
		}
		// A user the file does not name, and an id it does not list, are
		// refused with the same public message.
		_, e1 := s.Authorize("\x00stranger", s.Viewers()[0].ID)
		_, e2 := s.Authorize(s.Users()[0], "\x00no-such-viewer")
		var d1, d2 *DeniedError
		if !errors.As(e1, &d1) || !errors.As(e2, &d2) || d1.PublicMessage() != d2.PublicMessage() {
			t.Fatalf("refusals: %v / %v", e1, e2)
		}
		again, err := Parse("fuzz.json", data)
		if err != nil || !reflect.DeepEqual(again.Viewers(), s.Viewers()) {
			t.Fatal("parsing the same file twice gives different viewers")
		}
	})
}

func containsViewer(vs []Viewer, id string) bool {
	for _, v := range vs {
		if v.ID == id {
			return true
		}
	}
	return false
}
