package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Query parameters of tokeninfo.
const (
	ParamExternalViewerID = "external_viewer_id"
	ParamExternalValue    = "external_value"
)

// Limits of tokeninfo's parameters (observed on real workspaces).
const (
	// MaxViewerAndValueBytes bounds external_viewer_id + external_value.
	MaxViewerAndValueBytes = 1024
)

// Fields of the tokeninfo answer: the three that the official SDKs' answer
// type has (GetPublishedDashboardTokenInfoResponse in databricks-sdk-go's
// service/dashboards), and all that step 3 needs. TokenInfo keeps any other
// field a workspace may add, for clients that pass everything on.
const (
	FieldAuthorizationDetails = "authorization_details"
	FieldCustomClaim          = "custom_claim"
	FieldScope                = "scope"
)

// AuthorizationDetail is one entry of authorization_details (RFC 9396), as
// the official SDKs model it (AuthorizationDetails in databricks-sdk-go).
type AuthorizationDetail struct {
	Type         string      `json:"type"`
	ResourceName string      `json:"resource_name"`
	GrantRules   []GrantRule `json:"grant_rules"`
	// ResourceLegacyACLPath is the tree-store path of the resource, e.g.
	// "/dashboards/{id}" on the dashboard's entry. Optional: a field of the
	// entry, never of the tokeninfo answer itself.
	ResourceLegacyACLPath string `json:"resource_legacy_acl_path,omitempty"`
}

// GrantRule names a permission set granted on a resource.
type GrantRule struct {
	PermissionSet string `json:"permission_set"`
}

// Permission sets that tokeninfo grants for an embedded dashboard.
const (
	PermWorkspaceAccess = "permissionSets/workspace.workspace-access"
	PermDBSQLAccess     = "permissionSets/workspace.dbsql-access"
	PermDashboardRunner = "permissionSets/dashboard.runner"
)

// EmbedScopes are the narrow scopes tokeninfo hands out for an embedded
// dashboard, in the order real workspaces list them.
var EmbedScopes = []string{
	"dashboards.lakeview-embedded:read",
	"dashboards.query-execution",
	"settings:read",
	"sql.redash-config:read",
}

// TokenInfo is the answer of GET .../published/tokeninfo. It keeps every
// field it was given, known or not, because the exchange must send them all
// back as they are.
type TokenInfo struct {
	fields map[string]json.RawMessage
}

// NewTokenInfo builds the answer a workspace gives: the three fields the
// official SDKs model, nothing invented beside them.
func NewTokenInfo(details []AuthorizationDetail, customClaim, scope string) (*TokenInfo, error) {
	t := &TokenInfo{fields: map[string]json.RawMessage{}}
	d, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("encode authorization_details: %w", err)
	}
	t.fields[FieldAuthorizationDetails] = d
	t.setString(FieldCustomClaim, customClaim)
	t.setString(FieldScope, scope)
	return t, nil
}

func (t *TokenInfo) setString(k, v string) {
	b, _ := json.Marshal(v) // a string always encodes
	t.fields[k] = b
}

// UnmarshalJSON keeps every field and checks that the three the exchange
// needs are present and of the right type.
func (t *TokenInfo) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("tokeninfo answer is not a JSON object: %w", err)
	}
	if m == nil {
		return errors.New("tokeninfo answer is null")
	}
	t.fields = m
	if _, err := t.AuthorizationDetails(); err != nil {
		return err
	}
	for _, k := range []string{FieldCustomClaim, FieldScope} {
		if s, err := t.String(k); err != nil {
			return err
		} else if s == "" {
			return fmt.Errorf("tokeninfo answer has no %s", k)
		}
	}
	return nil
}

// MarshalJSON writes every field.
func (t *TokenInfo) MarshalJSON() ([]byte, error) { return json.Marshal(t.fields) }

// String returns a string field.
func (t *TokenInfo) String(k string) (string, error) {
	raw, ok := t.fields[k]
	if !ok {
		return "", fmt.Errorf("tokeninfo answer has no %s", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("tokeninfo field %s is not a string", k)
	}
	return s, nil
}

// CustomClaim returns custom_claim ("" when absent).
func (t *TokenInfo) CustomClaim() string { s, _ := t.String(FieldCustomClaim); return s }

// Scope returns scope ("" when absent).
func (t *TokenInfo) Scope() string { s, _ := t.String(FieldScope); return s }

// AuthorizationDetails decodes authorization_details.
func (t *TokenInfo) AuthorizationDetails() ([]AuthorizationDetail, error) {
	raw, ok := t.fields[FieldAuthorizationDetails]
	if !ok {
		return nil, errors.New("tokeninfo answer has no authorization_details")
	}
	var d []AuthorizationDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("tokeninfo field authorization_details is not an array of details: %w", err)
	}
	if len(d) == 0 {
		return nil, errors.New("tokeninfo field authorization_details is empty")
	}
	return d, nil
}

// Keys lists the fields in sorted order.
func (t *TokenInfo) Keys() []string {
	keys := make([]string, 0, len(t.fields))
	for k := range t.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ExchangeForm is the body of step 3 as the sample apps send it:
// grant_type=client_credentials plus every tokeninfo field, strings as they
// are and anything else (the authorization_details array) as one compact
// JSON string. SDKExchangeForm is what a client built on an SDK sends.
func (t *TokenInfo) ExchangeForm() url.Values {
	form := url.Values{"grant_type": {GrantClientCredentials}}
	for k, raw := range t.fields {
		form.Set(k, FormValue(raw))
	}
	return form
}

// SDKExchangeForm is the body of step 3 as a client built on an official SDK
// sends it: grant_type=client_credentials and exactly the three fields of the
// SDKs' tokeninfo answer type, whatever else the answer held.
func (t *TokenInfo) SDKExchangeForm() url.Values {
	all := t.ExchangeForm()
	form := url.Values{"grant_type": all["grant_type"]}
	for _, k := range []string{FieldAuthorizationDetails, FieldCustomClaim, FieldScope} {
		if v, ok := all[k]; ok {
			form[k] = v
		}
	}
	return form
}

// FormValue turns a JSON value into the text sent in a form: a JSON string
// unquoted, anything else compacted.
func FormValue(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// customClaimPrefix starts every custom_claim of an embedded dashboard.
const customClaimPrefix = "urn:aibi:external_data:"

// CustomClaim builds the custom_claim for one viewer of one dashboard.
func CustomClaim(externalValue, viewerID, dashboardID string) string {
	return customClaimPrefix + externalValue + ":" + viewerID + ":" + dashboardID
}

// ParsedClaim is custom_claim taken apart.
type ParsedClaim struct {
	ExternalValue    string
	ExternalViewerID string
	DashboardID      string
}

// ParseCustomClaim takes custom_claim apart. The value may itself contain
// colons, so the viewer id and dashboard id are read from the end.
func ParseCustomClaim(s string) (ParsedClaim, error) {
	rest, ok := strings.CutPrefix(s, customClaimPrefix)
	if !ok {
		return ParsedClaim{}, fmt.Errorf("custom_claim does not start with %q", customClaimPrefix)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return ParsedClaim{}, errors.New("custom_claim has no dashboard id")
	}
	dash := rest[i+1:]
	rest = rest[:i]
	j := strings.LastIndexByte(rest, ':')
	if j < 0 {
		return ParsedClaim{}, errors.New("custom_claim has no external_viewer_id")
	}
	p := ParsedClaim{ExternalValue: rest[:j], ExternalViewerID: rest[j+1:], DashboardID: dash}
	if p.DashboardID == "" || p.ExternalViewerID == "" {
		return ParsedClaim{}, errors.New("custom_claim has an empty viewer or dashboard id")
	}
	return p, nil
}

// ValidateViewer applies the workspace's rules for tokeninfo's parameters,
// so the backend can refuse bad input before it costs an upstream call.
func ValidateViewer(viewerID, value string) error {
	switch {
	case viewerID == "":
		return errors.New("external_viewer_id is required")
	case strings.Contains(viewerID, ":"):
		return errors.New("external_viewer_id must not contain ':', which separates the parts of custom_claim")
	case strings.Contains(value, "|"):
		return errors.New("external_value must not contain '|', which breaks the token's custom_claim")
	case len(viewerID)+len(value) > MaxViewerAndValueBytes:
		return fmt.Errorf("external_viewer_id and external_value together are %d bytes; the limit is %d", len(viewerID)+len(value), MaxViewerAndValueBytes)
	case !printable(viewerID):
		return errors.New("external_viewer_id must be printable UTF-8 text without control characters")
	case !printable(value):
		return errors.New("external_value must be printable UTF-8 text without control characters")
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
