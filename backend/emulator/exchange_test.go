package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// The whole exchange written from the reference, request by request, as a
// shell user with curl does it.
func TestThreeStepExchangeByHand(t *testing.T) {
	em := start(t)

	// Step 1: client_credentials with HTTP Basic and scope=all-apis.
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var step1 map[string]any
	r.json(t, &step1)
	if r.status != 200 || step1["token_type"] != "Bearer" || step1["expires_in"] != float64(3600) || step1["scope"] != "all-apis" {
		t.Fatalf("step 1: %d %s", r.status, r.body)
	}
	broad := step1["access_token"].(string)

	// Step 2: tokeninfo for one viewer.
	r = get(t, tokenInfoURL(em, testkit.DashboardID, "viewer-emea", "EMEA"), broad)
	var step2 map[string]json.RawMessage
	r.json(t, &step2)
	if r.status != 200 {
		t.Fatalf("step 2: %d %s", r.status, r.body)
	}
	var details []wire.AuthorizationDetail
	if err := json.Unmarshal(step2["authorization_details"], &details); err != nil || len(details) != 3 {
		t.Fatalf("authorization_details = %s", step2["authorization_details"])
	}
	if details[2].ResourceName != "workspaces/"+testkit.WorkspaceID+"/dashboards/"+testkit.DashboardID ||
		details[2].GrantRules[0].PermissionSet != "permissionSets/dashboard.runner" ||
		details[0].ResourceName != "workspaces/"+testkit.WorkspaceID {
		t.Fatalf("authorization_details = %+v", details)
	}
	// Exactly the official SDKs' three fields; resource_legacy_acl_path sits
	// inside the dashboard's entry, nowhere else.
	if len(step2) != 3 || step2["custom_claim"] == nil || step2["scope"] == nil {
		t.Fatalf("tokeninfo answer has fields other than the SDKs' three: %s", r.body)
	}
	if details[2].ResourceLegacyACLPath != "/dashboards/"+testkit.DashboardID || details[0].ResourceLegacyACLPath != "" || details[1].ResourceLegacyACLPath != "" {
		t.Fatalf("resource_legacy_acl_path = %+v", details)
	}
	var claim, scope string
	_ = json.Unmarshal(step2["custom_claim"], &claim)
	_ = json.Unmarshal(step2["scope"], &scope)
	if claim != "urn:aibi:external_data:EMEA:viewer-emea:"+testkit.DashboardID {
		t.Fatalf("custom_claim = %q", claim)
	}
	if scope != "dashboards.lakeview-embedded:read dashboards.query-execution settings:read sql.redash-config:read" {
		t.Fatalf("scope = %q", scope)
	}

	// Step 3: every field back, authorization_details as one JSON string.
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range step2 {
		var s string
		if json.Unmarshal(v, &s) == nil {
			form.Set(k, s)
		} else {
			form.Set(k, string(v))
		}
	}
	r = postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, form)
	var step3 wire.TokenResponse
	r.json(t, &step3)
	if r.status != 200 || step3.Scope != scope {
		t.Fatalf("step 3: %d %s", r.status, r.body)
	}
	c := verifyWithJWKS(t, em, step3.AccessToken)
	if c.CustomClaim != claim || c.Subject != testkit.EmbedderID || c.HasScope("all-apis") || !c.HasScope("dashboards.query-execution") {
		t.Fatalf("scoped claims = %+v", c)
	}
	if len(c.AuthorizationDetails) != 3 || c.AuthorizationDetails[2].ResourceName != details[2].ResourceName {
		t.Fatalf("scoped authorization_details = %+v", c.AuthorizationDetails)
	}
	if c.ExpiresAt-c.IssuedAt != 3600 {
		t.Fatalf("lifetime = %d s", c.ExpiresAt-c.IssuedAt)
	}
	// The audit log names the viewer, never the value.
	audit := em.Audit(0)
	if len(audit) != 1 || audit[0].ExternalViewerID != "viewer-emea" || audit[0].DashboardID != testkit.DashboardID || audit[0].TokenID != c.ID {
		t.Fatalf("audit = %+v", audit)
	}
	b, _ := json.Marshal(audit)
	if strings.Contains(string(b), "EMEA\"") || strings.Contains(string(b), ":EMEA:") {
		t.Fatalf("audit log holds external_value: %s", b)
	}
}

// The shared TokenInfo type (what the broker will use) builds the same form.
func TestExchangeWithSharedTokenInfo(t *testing.T) {
	em := start(t)
	info := tokenInfo(t, em, spToken(t, em), "viewer-apac", "APAC")
	if info.CustomClaim() != wire.CustomClaim("APAC", "viewer-apac", testkit.DashboardID) {
		t.Fatalf("custom_claim = %q", info.CustomClaim())
	}
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, info.ExchangeForm())
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
}

func TestExchangeRefusesWhatTokenInfoDidNotIssue(t *testing.T) {
	em := start(t)
	broad := spToken(t, em)
	info := tokenInfo(t, em, broad, "viewer-emea", "EMEA")
	other := tokenInfo(t, em, broad, "viewer-amer", "AMER")
	_ = other

	tamper := func(k, v string) url.Values {
		f := info.ExchangeForm()
		f.Set(k, v)
		return f
	}
	drop := func(k string) url.Values {
		f := info.ExchangeForm()
		f.Del(k)
		return f
	}
	details, _ := info.AuthorizationDetails()
	foreign := append([]wire.AuthorizationDetail{}, details...)
	foreign[2].ResourceName = "workspaces/" + testkit.WorkspaceID + "/dashboards/" + testkit.DraftDashboardID
	foreignJSON, _ := json.Marshal(foreign)
	reordered, _ := json.MarshalIndent(details, "", "   ")
	otherACL := append([]wire.AuthorizationDetail{}, details...)
	otherACL[2].ResourceLegacyACLPath = "/dashboards/" + testkit.DraftDashboardID
	otherACLJSON, _ := json.Marshal(otherACL)
	shortJSON, _ := json.Marshal(details[:2])

	cases := []struct {
		name   string
		id     string
		secret string
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{"value changed in custom_claim", testkit.EmbedderID, testkit.EmbedderSecret, tamper("custom_claim", wire.CustomClaim("AMER", "viewer-emea", testkit.DashboardID)), 400, "invalid_grant", "not issued by tokeninfo"},
		{"viewer changed in custom_claim", testkit.EmbedderID, testkit.EmbedderSecret, tamper("custom_claim", wire.CustomClaim("EMEA", "viewer-x", testkit.DashboardID)), 400, "invalid_grant", "not issued by tokeninfo"},
		{"foreign dashboard's details", testkit.EmbedderID, testkit.EmbedderSecret, tamper("authorization_details", string(foreignJSON)), 400, "invalid_grant", "authorization_details does not match"},
		{"scope widened", testkit.EmbedderID, testkit.EmbedderSecret, tamper("scope", info.Scope()+" all-apis"), 400, "invalid_grant", "scope does not match"},
		{"another viewer's custom_claim with these details", testkit.EmbedderID, testkit.EmbedderSecret, tamper("custom_claim", wire.CustomClaim("EMEA", "viewer-amer", testkit.DashboardID)), 400, "invalid_grant", "not issued by tokeninfo"},
		{"resource_legacy_acl_path changed", testkit.EmbedderID, testkit.EmbedderSecret, tamper("authorization_details", string(otherACLJSON)), 400, "invalid_grant", "authorization_details does not match"},
		{"an entry dropped", testkit.EmbedderID, testkit.EmbedderSecret, tamper("authorization_details", string(shortJSON)), 400, "invalid_grant", "authorization_details does not match"},
		{"custom_claim dropped", testkit.EmbedderID, testkit.EmbedderSecret, drop("custom_claim"), 400, "invalid_request", "custom_claim is required"},
		{"scope dropped", testkit.EmbedderID, testkit.EmbedderSecret, drop("scope"), 400, "invalid_scope", "scope is required"},
		{"another client replays it", testkit.NoAccessID, testkit.NoAccessSecret, info.ExchangeForm(), 400, "invalid_grant", "not issued by tokeninfo to this client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, em, tc.id, tc.secret, tc.form)
			var oe wire.OAuthError
			r.json(t, &oe)
			if r.status != tc.status || oe.Code != tc.code || !strings.Contains(oe.Description, tc.desc) {
				t.Fatalf("got %d %+v, want %d %s containing %q", r.status, oe, tc.status, tc.code, tc.desc)
			}
		})
	}
	// The shape a client built on an official SDK sends: exactly the three
	// fields of the SDKs' tokeninfo type, authorization_details re-encoded
	// from the SDK's struct (its own key order).
	t.Run("exactly the three SDK fields", func(t *testing.T) {
		f := info.SDKExchangeForm()
		if len(f) != 4 {
			t.Fatalf("form = %v", f)
		}
		f.Set("authorization_details", sdkEncoded(t, details))
		if r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, f); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	// The sample apps pass on every top-level field they got, and a workspace
	// may add fields: extra fields are accepted.
	t.Run("an extra top-level field", func(t *testing.T) {
		f := info.ExchangeForm()
		f.Set("resource_legacy_acl_path", "/dashboards/"+testkit.DashboardID)
		f.Set("future_flag", "true")
		if r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, f); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	// resource_legacy_acl_path is optional: hand-built requests leave it out.
	t.Run("resource_legacy_acl_path left out of the entry", func(t *testing.T) {
		bare := append([]wire.AuthorizationDetail{}, details...)
		bare[2].ResourceLegacyACLPath = ""
		b, _ := json.Marshal(bare)
		if r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, tamper("authorization_details", string(b))); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("re-encoded details are the same details", func(t *testing.T) {
		r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, tamper("authorization_details", string(reordered)))
		if r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	if n := len(em.Audit(0)); n != 4 {
		t.Fatalf("%d scoped tokens issued, want only the 4 legitimate ones", n)
	}
}

// sdkEncoded encodes authorization_details as databricks-sdk-go's
// dashboards.AuthorizationDetails does: fields in its struct's order
// (grant_rules, resource_legacy_acl_path, resource_name, type), empty ones
// left out.
func sdkEncoded(t *testing.T, details []wire.AuthorizationDetail) string {
	t.Helper()
	type rule struct {
		PermissionSet string `json:"permission_set,omitempty"`
	}
	type detail struct {
		GrantRules            []rule `json:"grant_rules,omitempty"`
		ResourceLegacyAclPath string `json:"resource_legacy_acl_path,omitempty"`
		ResourceName          string `json:"resource_name,omitempty"`
		Type                  string `json:"type,omitempty"`
	}
	out := make([]detail, len(details))
	for i, d := range details {
		out[i] = detail{ResourceLegacyAclPath: d.ResourceLegacyACLPath, ResourceName: d.ResourceName, Type: d.Type}
		for _, g := range d.GrantRules {
			out[i].GrantRules = append(out[i].GrantRules, rule{g.PermissionSet})
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `[{"grant_rules"`) {
		t.Fatalf("not in the SDK's order: %s", b)
	}
	return string(b)
}

func TestTokenInfoErrors(t *testing.T) {
	em := start(t)
	broad := spToken(t, em)
	scoped := func() string {
		r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, tokenInfo(t, em, broad, "v1", "EMEA").ExchangeForm())
		var tr wire.TokenResponse
		r.json(t, &tr)
		return tr.AccessToken
	}()
	noAccess := func() string {
		r := postForm(t, em, testkit.NoAccessID, testkit.NoAccessSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
		var tr wire.TokenResponse
		r.json(t, &tr)
		return tr.AccessToken
	}()
	// A token from another emulator: right shape, unknown key and issuer.
	foreign := spToken(t, start(t))
	tampered := broad[:len(broad)-6] + "AAAAAA"

	cases := []struct {
		name        string
		url, bearer string
		status      int
		code, msg   string
	}{
		{"no token", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), "", 401, "UNAUTHENTICATED", "Bearer"},
		{"garbage token", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), "not-a-jwt", 401, "UNAUTHENTICATED", "malformed"},
		{"bad signature", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), tampered, 401, "UNAUTHENTICATED", "signature"},
		{"another workspace's token", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), foreign, 401, "UNAUTHENTICATED", ""},
		{"scoped token", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), scoped, 403, "PERMISSION_DENIED", "required scopes: all-apis"},
		{"missing viewer id", em.URL() + wire.TokenInfoPath(testkit.DashboardID) + "?external_value=EMEA", broad, 400, "INVALID_PARAMETER_VALUE", "external_viewer_id is required"},
		{"pipe in value", tokenInfoURL(em, testkit.DashboardID, "v1", "EM|EA"), broad, 400, "INVALID_PARAMETER_VALUE", "'|'"},
		{"colon in viewer", tokenInfoURL(em, testkit.DashboardID, "v:1", "EMEA"), broad, 400, "INVALID_PARAMETER_VALUE", "':'"},
		{"over 1 KB", tokenInfoURL(em, testkit.DashboardID, "v1", strings.Repeat("x", 1023)), broad, 400, "INVALID_PARAMETER_VALUE", "limit is 1024"},
		{"control character", tokenInfoURL(em, testkit.DashboardID, "v1", "EM\nEA"), broad, 400, "INVALID_PARAMETER_VALUE", "control"},
		{"repeated viewer id", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA") + "&external_viewer_id=v2", broad, 400, "INVALID_PARAMETER_VALUE", "repeated"},
		{"unknown dashboard", tokenInfoURL(em, "01f00000000000000000000000000000", "v1", "EMEA"), broad, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist"},
		{"unpublished dashboard", tokenInfoURL(em, testkit.DraftDashboardID, "v1", "EMEA"), broad, 404, "RESOURCE_DOES_NOT_EXIST", "not published"},
		{"no CAN RUN", tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), noAccess, 403, "PERMISSION_DENIED", "CAN RUN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tc.url, tc.bearer)
			var ae wire.APIError
			r.json(t, &ae)
			if r.status != tc.status || ae.ErrorCode != tc.code || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %d %+v, want %d %s containing %q", r.status, ae, tc.status, tc.code, tc.msg)
			}
		})
	}
	t.Run("exactly 1 KB is accepted", func(t *testing.T) {
		r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", strings.Repeat("x", 1022)), broad)
		if r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("empty value is accepted", func(t *testing.T) {
		if r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", ""), broad); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
}

func TestExpiredTokenIsRefused(t *testing.T) {
	em := start(t)
	if err := em.SetTokenLifetime(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	broad := spToken(t, em)
	if err := em.SetClockSkew(11 * time.Second); err != nil {
		t.Fatal(err)
	}
	r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), broad)
	var ae wire.APIError
	r.json(t, &ae)
	if r.status != http.StatusUnauthorized || !strings.Contains(ae.Message, "expired") {
		t.Fatalf("got %d %+v", r.status, ae)
	}
}

func TestPermissionIsCheckedAgainAtExchange(t *testing.T) {
	em := start(t)
	info := tokenInfo(t, em, spToken(t, em), "v1", "EMEA")
	if err := em.Update(func(s *emulator.State) { s.Dashboards[0].CanRun = nil }); err != nil {
		t.Fatal(err)
	}
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, info.ExchangeForm())
	var oe wire.OAuthError
	r.json(t, &oe)
	if r.status != 400 || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "CAN RUN") {
		t.Fatalf("got %d %+v", r.status, oe)
	}
}
