package viewers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAuthorize(t *testing.T) {
	s := Default()
	tests := []struct {
		user, viewer string
		wantValue    string
		wantReason   error
	}{
		{"ada", "viewer-emea", "EMEA", nil},
		{"ada", "viewer-amer", "AMER", nil},
		{"admin", "viewer-apac", "APAC", nil},
		{"ada", "viewer-apac", "", ErrNotAllowed},
		{"nobody", "viewer-emea", "", ErrNotAllowed},
		{"stranger", "viewer-emea", "", ErrNotAllowed},
		{"ada", "viewer-nowhere", "", ErrUnknownViewer},
		{"ada", "", "", ErrUnknownViewer},
		{"ada", "VIEWER-EMEA", "", ErrUnknownViewer}, // ids are exact
		{"", "viewer-emea", "", ErrNotAllowed},
	}
	for _, tt := range tests {
		v, err := s.Authorize(tt.user, tt.viewer)
		if tt.wantReason == nil {
			if err != nil || v.ExternalValue != tt.wantValue || v.ID != tt.viewer {
				t.Errorf("Authorize(%q, %q) = %+v, %v; want value %q", tt.user, tt.viewer, v, err, tt.wantValue)
			}
			continue
		}
		if !errors.Is(err, tt.wantReason) {
			t.Errorf("Authorize(%q, %q) error = %v, want %v", tt.user, tt.viewer, err, tt.wantReason)
			continue
		}
		if v != (Viewer{}) {
			t.Errorf("Authorize(%q, %q) returned %+v with its refusal", tt.user, tt.viewer, v)
		}
		var denied *DeniedError
		if !errors.As(err, &denied) {
			t.Fatalf("error %T is not a *DeniedError", err)
		}
		if denied.PublicMessage() != DeniedMessage {
			t.Errorf("PublicMessage() = %q, want %q for every reason", denied.PublicMessage(), DeniedMessage)
		}
	}
}

func TestDeniedErrorIsSafeToLog(t *testing.T) {
	_, err := Default().Authorize("ada", "x\nFAKE log line"+strings.Repeat("y", 500))
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("a client-chosen id put a newline in the log line: %q", msg)
	}
	if len(msg) > 200 {
		t.Errorf("log line is %d bytes; the client-chosen id should be cut short", len(msg))
	}
	if !strings.Contains(msg, "no such viewer") {
		t.Errorf("log line %q should say why", msg)
	}
}

func TestForReturnsCopies(t *testing.T) {
	s := Default()
	got := s.For("admin")
	got[0].ExternalValue = "EVERYTHING"
	all := s.Viewers()
	all[1].ExternalValue = "EVERYTHING"
	for _, v := range s.For("admin") {
		if v.ExternalValue == "EVERYTHING" {
			t.Fatal("changing a returned slice changed the Set")
		}
	}
}

func TestOrderDoesNotDependOnFileOrder(t *testing.T) {
	a := `{"viewers":[
		{"id":"b","display_name":"Same","external_value":"1","users":["u"]},
		{"id":"a","display_name":"Same","external_value":"2","users":["u"]},
		{"id":"c","display_name":"Alpha","external_value":"3","users":["u"]}]}`
	b := `{"viewers":[
		{"id":"c","display_name":"Alpha","external_value":"3","users":["u"]},
		{"id":"a","display_name":"Same","external_value":"2","users":["u"]},
		{"id":"b","display_name":"Same","external_value":"1","users":["u"]}]}`
	for _, src := range []string{a, b} {
		s, err := Parse("v.json", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(s.For("u")), []string{"c", "a", "b"}; !slices.Equal(got, want) {
			t.Errorf("For = %v, want %v (display name, then id)", got, want)
		}
	}
}
