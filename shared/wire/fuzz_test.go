package wire

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// viewerSeeds are pairs of external_viewer_id and external_value, good and
// hostile.
var viewerSeeds = [][2]string{
	{"viewer-emea", "EMEA"}, {"v1", ""}, {"customer-0042", "ada@example.com"},
	{"v", "x' OR '1'='1"}, {"v", "EMEA' --"}, {"v", "a:b:c"}, {"v", "urn:aibi:external_data:APAC:viewer-apac:01f0"},
	{"a:b", "x"}, {"v", "a|b"}, {"v|w", "x"}, {"", "EMEA"}, {"v\x00", "x"}, {"v", "\xff"}, {"v", "line\nbreak"},
	{"v", "\u202eRTL"}, {"v", "\u00a0nbsp"}, {"viewer-é", "日本"}, {"v", strings.Repeat("x", 1023)}, {"v", strings.Repeat("x", 1024)},
	{"%2F", "%3A"}, {"v&external_value=APAC", "EMEA"}, {"v", "EMEA&external_viewer_id=other"},
}

// FuzzValidateViewer: whatever ValidateViewer accepts obeys every rule of
// tokeninfo's parameters, and what it accepts survives the trip through
// the workspace unchanged: sent as query parameters and read back, and
// built into custom_claim and parsed back by the query API, it is the same
// viewer id and the same value, so a viewer's token can only ever filter
// by its own value.
func FuzzValidateViewer(f *testing.F) {
	for _, s := range viewerSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, value string) {
		err := ValidateViewer(id, value)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		switch {
		case id == "":
			t.Fatal("accepted an empty external_viewer_id")
		case strings.Contains(id, ":"):
			t.Fatalf("accepted external_viewer_id %q with ':'", id)
		case strings.Contains(value, "|"):
			t.Fatalf("accepted external_value %q with '|'", value)
		case len(id)+len(value) > MaxViewerAndValueBytes:
			t.Fatalf("accepted %d bytes", len(id)+len(value))
		case !utf8.ValidString(id) || !utf8.ValidString(value):
			t.Fatalf("accepted invalid UTF-8 %q / %q", id, value)
		case strings.IndexFunc(id+value, unicode.IsControl) >= 0:
			t.Fatalf("accepted a control character in %q / %q", id, value)
		}
		q, err := url.ParseQuery(url.Values{ParamExternalViewerID: {id}, ParamExternalValue: {value}}.Encode())
		if err != nil || len(q) != 2 || q.Get(ParamExternalViewerID) != id || q.Get(ParamExternalValue) != value {
			t.Fatalf("%q / %q do not survive the query string: %v %v", id, value, q, err)
		}
		for _, dash := range []string{"01f0a1b2c3d4e5f60718293a4b5c6d7e", "d"} {
			p, err := ParseCustomClaim(CustomClaim(value, id, dash))
			if err != nil || p.ExternalValue != value || p.ExternalViewerID != id || p.DashboardID != dash {
				t.Fatalf("custom_claim of %q / %q / %s parses as %+v (%v)", value, id, dash, p, err)
			}
		}
	})
}

// FuzzParseCustomClaim: any string is parsed or refused, never a panic;
// what parses is exactly the claim its parts build (the parse loses and
// invents nothing), with a non-empty viewer id and dashboard id that hold
// no ':', so no value can make the query API read another viewer's id or
// another dashboard's.
func FuzzParseCustomClaim(f *testing.F) {
	for _, s := range viewerSeeds {
		f.Add(CustomClaim(s[1], s[0], "01f0a1b2c3d4e5f60718293a4b5c6d7e"))
	}
	for _, s := range []string{"", "urn:aibi:external_data:", "urn:aibi:external_data:v", "urn:aibi:external_data:v::d",
		"urn:aibi:external_data::v:d", "urn:aibi:external_data:::", "urn:other:x:y:z", "URN:AIBI:EXTERNAL_DATA:a:b:c",
		"urn:aibi:external_data:a:b:c\n", "urn:aibi:external_data:\xff:b:c", "urn:aibi:external_data:a|b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseCustomClaim(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		if got := CustomClaim(p.ExternalValue, p.ExternalViewerID, p.DashboardID); got != s {
			t.Fatalf("%q parses as %+v, which builds %q", s, p, got)
		}
		if p.ExternalViewerID == "" || p.DashboardID == "" || strings.Contains(p.ExternalViewerID, ":") || strings.Contains(p.DashboardID, ":") {
			t.Fatalf("%q parses as %+v", s, p)
		}
	})
}
