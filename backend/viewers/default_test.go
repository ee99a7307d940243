package viewers

import (
	"slices"
	"testing"
)

func TestDefaultDemoViewers(t *testing.T) {
	s := Default()
	want := []Viewer{
		{ID: "viewer-amer", DisplayName: "Americas (AMER)", ExternalValue: "AMER"},
		{ID: "viewer-apac", DisplayName: "Asia-Pacific (APAC)", ExternalValue: "APAC"},
		{ID: "viewer-emea", DisplayName: "Europe, Middle East & Africa (EMEA)", ExternalValue: "EMEA"},
	}
	if got := s.Viewers(); !slices.Equal(got, want) {
		t.Fatalf("Viewers() = %+v\nwant %+v", got, want)
	}
	for user, ids := range map[string][]string{
		"ada":    {"viewer-amer", "viewer-emea"},
		"grace":  {"viewer-apac", "viewer-emea"},
		"admin":  {"viewer-amer", "viewer-apac", "viewer-emea"},
		"nobody": {},
	} {
		if got := idsOf(s.For(user)); !slices.Equal(got, ids) {
			t.Errorf("For(%q) = %v, want %v", user, got, ids)
		}
	}
	if got, want := s.Users(), []string{"ada", "admin", "grace"}; !slices.Equal(got, want) {
		t.Errorf("Users() = %v, want %v", got, want)
	}
	if Default() != s {
		t.Error("Default() should parse the bundled file once and share the result")
	}
}

func idsOf(vs []Viewer) []string {
	ids := []string{}
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}
