package wire

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestCustomClaimRoundTrip(t *testing.T) {
	for _, value := range []string{"EMEA", "", "a:b:c", "ada@example.com", "x' OR '1'='1"} {
		s := CustomClaim(value, "viewer-1", "01ef")
		p, err := ParseCustomClaim(s)
		if err != nil || p.ExternalValue != value || p.ExternalViewerID != "viewer-1" || p.DashboardID != "01ef" {
			t.Errorf("value %q: %+v %v", value, p, err)
		}
	}
	for _, bad := range []string{"", "urn:other:x:y:z", "urn:aibi:external_data:", "urn:aibi:external_data:v", "urn:aibi:external_data:v::d"} {
		if _, err := ParseCustomClaim(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestValidateViewer(t *testing.T) {
	ok := [][2]string{{"v1", "EMEA"}, {"v1", ""}, {"viewer_42", "ada@example.com"}, {"v", strings.Repeat("x", 1023)}}
	for _, c := range ok {
		if err := ValidateViewer(c[0], c[1]); err != nil {
			t.Errorf("%q/%q refused: %v", c[0], c[1], err)
		}
	}
	bad := map[string][2]string{
		"required": {"", "EMEA"}, "':'": {"a:b", "x"}, "'|'": {"v", "a|b"}, "limit is 1024": {"v", strings.Repeat("x", 1024)},
		"viewer_id must be printable": {"v\x00", "x"}, "value must be printable": {"v", "\xff"},
	}
	for want, c := range bad {
		if err := ValidateViewer(c[0], c[1]); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q/%q: err = %v, want %q", c[0], c[1], err, want)
		}
	}
}

func TestTokenInfoKeepsUnknownFields(t *testing.T) {
	in := `{"authorization_details":[{"type":"workspace_rule_set","resource_name":"workspaces/1","grant_rules":[{"permission_set":"p"}]}],
	        "custom_claim":"urn:aibi:external_data:v:id:d","scope":"a b","resource_legacy_acl_path":"/dashboards/d","future_flag":true}`
	var ti TokenInfo
	if err := json.Unmarshal([]byte(in), &ti); err != nil {
		t.Fatal(err)
	}
	f := ti.ExchangeForm()
	if f.Get("grant_type") != "client_credentials" || f.Get("resource_legacy_acl_path") != "/dashboards/d" || f.Get("future_flag") != "true" ||
		f.Get("scope") != "a b" || !strings.HasPrefix(f.Get("authorization_details"), `[{"type":"workspace_rule_set"`) {
		t.Fatalf("form = %v", f)
	}
	if strings.Join(ti.Keys(), ",") != "authorization_details,custom_claim,future_flag,resource_legacy_acl_path,scope" {
		t.Fatalf("keys = %v", ti.Keys())
	}
}

// A client built on an official SDK sends exactly the three fields of the
// SDKs' tokeninfo type; resource_legacy_acl_path travels inside its entry.
func TestSDKExchangeFormSendsTheThreeSDKFields(t *testing.T) {
	in := `{"authorization_details":[{"type":"workspace_rule_set","resource_name":"workspaces/1/dashboards/d",
	        "grant_rules":[{"permission_set":"p"}],"resource_legacy_acl_path":"/dashboards/d"}],
	        "custom_claim":"urn:aibi:external_data:v:id:d","scope":"a b","future_flag":true}`
	var ti TokenInfo
	if err := json.Unmarshal([]byte(in), &ti); err != nil {
		t.Fatal(err)
	}
	f := ti.SDKExchangeForm()
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "authorization_details,custom_claim,grant_type,scope" {
		t.Fatalf("form keys = %v", keys)
	}
	var d []AuthorizationDetail
	if err := json.Unmarshal([]byte(f.Get("authorization_details")), &d); err != nil || len(d) != 1 || d[0].ResourceLegacyACLPath != "/dashboards/d" {
		t.Fatalf("authorization_details = %s (%v)", f.Get("authorization_details"), err)
	}
	if f.Get("grant_type") != "client_credentials" || f.Get("scope") != "a b" || f.Get("custom_claim") != "urn:aibi:external_data:v:id:d" {
		t.Fatalf("form = %v", f)
	}
}

func TestNewTokenInfoHasOnlyTheThreeFields(t *testing.T) {
	ti, err := NewTokenInfo([]AuthorizationDetail{{Type: "workspace_rule_set", ResourceName: "workspaces/1/dashboards/d",
		GrantRules: []GrantRule{{PermissionSet: PermDashboardRunner}}, ResourceLegacyACLPath: "/dashboards/d"}}, "c", "s")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ti)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	if len(m) != 3 || !strings.Contains(string(m["authorization_details"]), `"resource_legacy_acl_path":"/dashboards/d"`) {
		t.Fatalf("answer = %s", b)
	}
}

func TestTokenInfoRefusesIncompleteAnswers(t *testing.T) {
	for name, in := range map[string]string{
		"not an object":    `[1,2]`,
		"null":             `null`,
		"no details":       `{"custom_claim":"c","scope":"s"}`,
		"empty details":    `{"authorization_details":[],"custom_claim":"c","scope":"s"}`,
		"details a string": `{"authorization_details":"[]","custom_claim":"c","scope":"s"}`,
		"no claim":         `{"authorization_details":[{"type":"t"}],"scope":"s"}`,
		"scope a number":   `{"authorization_details":[{"type":"t"}],"custom_claim":"c","scope":1}`,
	} {
		var ti TokenInfo
		if err := json.Unmarshal([]byte(in), &ti); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
