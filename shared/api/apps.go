package api

import (
	"time"

	"embedlab/shared/claims"
)

// Paths of the "Call an app" API.
const (
	PathApps         = "/api/apps"
	PathAppsLogin    = "/api/apps/login"    // POST: start a U2M sign-in; DELETE: forget the token
	PathAppsCallback = "/api/apps/callback" // where the workspace sends the browser back
	PathAppsCall     = "/api/apps/call"
)

// AppsOverview is the answer of GET /api/apps: what can be called, and
// with which tokens.
type AppsOverview struct {
	Apps    []App         `json:"apps"`
	Sources []TokenSource `json:"sources"`
	// Scopes a U2M sign-in may ask for, with what each allows.
	Scopes []ScopeChoice `json:"scopes"`
	U2M    U2MStatus     `json:"u2m"`
	// AppDomains are where calls may go, e.g. ".databricksapps.com".
	AppDomains []string `json:"app_domains"`
	// Identities are the identity provider's identities the federated and
	// idp-direct sources may use.
	Identities []FederatedIdentity `json:"identities,omitempty"`
}

// FederatedIdentity is an identity of an identity provider whose token the
// federated source exchanges: a user (account-wide federation) or a
// workload (workload identity federation for a service principal).
type FederatedIdentity struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// App is an app the UI offers (the emulator's; empty for a real workspace,
// where the user types the URL).
type App struct {
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Description   string   `json:"description,omitempty"`
	Status        string   `json:"status"`
	UserAPIScopes []string `json:"user_api_scopes,omitempty"`
}

// TokenSource is one way to get a token, and whether it is usable here.
type TokenSource struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Available   bool   `json:"available"`
	Problem     string `json:"problem,omitempty"`
	Fix         string `json:"fix,omitempty"`
}

// ScopeChoice is a scope the user may pick for U2M.
type ScopeChoice struct {
	Scope   string `json:"scope"`
	Meaning string `json:"meaning"`
	Default bool   `json:"default,omitempty"`
}

// U2MStatus says whether this user has a U2M token, and with which scopes.
type U2MStatus struct {
	SignedIn bool     `json:"signed_in"`
	Scopes   []string `json:"scopes,omitempty"`
}

// AppsLoginRequest starts a U2M sign-in.
type AppsLoginRequest struct {
	Scopes []string `json:"scopes"`
}

// AppsLoginResponse is where to send the browser.
type AppsLoginResponse struct {
	AuthorizationURL string `json:"authorization_url"`
}

// AppCallRequest is one call to an app.
type AppCallRequest struct {
	Source  string `json:"source"`
	Profile string `json:"profile,omitempty"` // for SourceProfile
	Method  string `json:"method"`
	URL     string `json:"url"`
	Body    string `json:"body,omitempty"`

	// Identity picks one of AppsOverview.Identities, for SourceFederated and
	// SourceIdPDirect; empty means the first.
	Identity string `json:"identity,omitempty"`
}

// AppCallResult is what came back, the token's claims and the diagnosis.
type AppCallResult struct {
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Status     int               `json:"status"` // 0: no answer
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body"`
	Truncated  bool              `json:"truncated,omitempty"`
	DurationMS float64           `json:"duration_ms"`
	Source     string            `json:"source"`
	SourceInfo string            `json:"source_info,omitempty"`
	Claims     *claims.Claims    `json:"claims,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Diagnosis  AppDiagnosis      `json:"diagnosis"`
}

// AppDiagnosis names the likely cause of the answer and the fix.
type AppDiagnosis struct {
	OK     bool   `json:"ok"`
	Title  string `json:"title"`
	Cause  string `json:"cause"`
	Fix    string `json:"fix,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// QueryU2MError carries the outcome of a failed U2M sign-in from the
// callback to the Call an app page: a code, never text, so that nobody can
// put words in the page's mouth with a crafted link.
const QueryU2MError = "u2m_error"

// embedlab's own codes of a failed U2M sign-in, beside OAuth's (RFC 6749
// 4.1.2.1 and OpenID Connect's).
const (
	U2MErrorNotConfigured  = "u2m_not_configured"
	U2MErrorSignInExpired  = "sign_in_expired"
	U2MErrorExchangeFailed = "token_exchange_failed"
)

var u2mErrorTexts = map[string]string{
	"access_denied":             "The sign-in was declined at the workspace (you, or a policy, refused the consent). Sign in again and allow access.",
	"invalid_request":           "The workspace found the sign-in request malformed. Start the sign-in again.",
	"unauthorized_client":       "The workspace does not let embedlab's OAuth client use this sign-in. Check the OAuth app connection (EMBEDLAB_OAUTH_CLIENT_ID).",
	"unsupported_response_type": "The workspace does not support this kind of sign-in for embedlab's OAuth client.",
	"invalid_scope":             "The workspace refused a scope you picked. Pick scopes from the list and sign in again.",
	"server_error":              "The workspace failed during the sign-in. Try again in a moment.",
	"temporarily_unavailable":   "The workspace is busy or down for a moment. Try again shortly.",
	"login_required":            "The workspace needs you to sign in there first. Start the sign-in again.",
	"consent_required":          "The workspace needs your consent for the scopes. Start the sign-in again and allow access.",
	"interaction_required":      "The workspace needs you to complete a step there. Start the sign-in again.",
	U2MErrorNotConfigured:       "U2M is not configured on this server.",
	U2MErrorSignInExpired:       "This sign-in is unknown, was started by another user, or has expired. Start it again from this page.",
	U2MErrorExchangeFailed:      "The workspace did not give a token for the sign-in. Start it again; the server log says why.",
}

// U2MErrorText words a failed U2M sign-in's code in embedlab's own voice:
// only known codes are shown; anything else gets one fixed sentence.
func U2MErrorText(code string) string {
	if t, ok := u2mErrorTexts[code]; ok {
		return t
	}
	return "The sign-in did not complete (the workspace answered with an error embedlab does not know). Start it again."
}
