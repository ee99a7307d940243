package wire

import (
	"encoding/json"
	"strings"
)

// Scopes a user (U2M) token may carry besides all-apis (the package
// documentation, "Calling a Databricks App's /api/ routes"). offline_access
// asks for a refresh token; the others are the custom scopes an app with user
// authorization requires.
const (
	ScopeOfflineAccess  = "offline_access"
	ScopeSQL            = "sql"
	ScopeFiles          = "file.files"
	ScopeGenie          = "dashboards.genie"
	ScopeCurrentUser    = "iam.current-user:read"
	ScopeAccessControls = "iam.access-control:read"
)

// PKCE code challenge method: the only one a workspace accepts.
const CodeChallengeS256 = "S256"

// Databricks Apps: what the Apps proxy forwards to an app (the package
// documentation, "Calling a Databricks App's /api/ routes"). Only routes
// under AppsAPIPrefix accept bearer tokens.
const (
	AppsAPIPrefix = "/api/"

	HeaderForwardedEmail             = "X-Forwarded-Email"
	HeaderForwardedUser              = "X-Forwarded-User"
	HeaderForwardedPreferredUsername = "X-Forwarded-Preferred-Username"
	HeaderForwardedAccessToken       = "X-Forwarded-Access-Token"
	HeaderForwardedHost              = "X-Forwarded-Host"
	HeaderRealIP                     = "X-Real-Ip"
	HeaderRequestID                  = "X-Request-Id"
)

// ErrorInfo is one entry of a REST error's details: a machine-readable
// reason for the failure (the google.rpc.ErrorInfo shape Databricks uses).
type ErrorInfo struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ErrorInfoType is the @type of an ErrorInfo detail.
const ErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo"

// Reasons the emulator's Apps proxy puts in an ErrorInfo detail, one per
// cause of the 401/403/404 table, so a client can name the cause without
// parsing the message. A real workspace may send none: treat them as hints.
const (
	AppsReasonTokenMissing      = "TOKEN_MISSING"       // 401: no Authorization: Bearer
	AppsReasonTokenMalformed    = "TOKEN_MALFORMED"     // 401: not a JWT, or not signed by this workspace
	AppsReasonTokenExpired      = "TOKEN_EXPIRED"       // 401
	AppsReasonMissingAppScopes  = "MISSING_APP_SCOPES"  // 401: user authorization app, token lacks its scopes
	AppsReasonNoCanUse          = "NO_CAN_USE"          // 403: caller lacks CAN USE on the app
	AppsReasonInsufficientScope = "INSUFFICIENT_SCOPES" // 403: token scopes do not allow calling apps
	AppsReasonAppNotFound       = "APP_NOT_FOUND"       // 404: wrong app URL, or no such app
	AppsReasonAppStopped        = "APP_STOPPED"         // 404: app not deployed or stopped
	AppsReasonNotAPIPath        = "PATH_NOT_UNDER_API"  // 404: bearer tokens reach only /api/
)

// AppsReasonIdPTokenNotExchanged (401): an identity provider's JWT was sent
// as is; it must be exchanged at /oidc/v1/token first (token federation, the
// package documentation, "Token federation").
const AppsReasonIdPTokenNotExchanged = "IDP_TOKEN_NOT_EXCHANGED"

// Metadata keys of the Apps proxy's ErrorInfo.
const (
	AppsMetaApp           = "app"
	AppsMetaMissingScopes = "missing_scopes" // space separated
)

// Reason returns the reason of the first ErrorInfo detail, or "".
func (e *APIError) Reason() string {
	info, _ := e.Info()
	return info.Reason
}

// Info returns the first ErrorInfo detail.
func (e *APIError) Info() (ErrorInfo, bool) {
	for _, raw := range e.Details {
		var info ErrorInfo
		if json.Unmarshal(raw, &info) == nil && info.Type == ErrorInfoType && info.Reason != "" {
			return info, true
		}
	}
	return ErrorInfo{}, false
}

// AppHostLabel is the first DNS label of an app's URL:
// https://<app-name>-<workspace-id>.<region>.databricksapps.com.
func AppHostLabel(appName, workspaceID string) string {
	return appName + "-" + workspaceID
}

// ParseAppHost takes an app's host name (without port) apart into the app's
// name and the workspace id, reading the id as the digits after the last
// '-' of the first label.
func ParseAppHost(host string) (appName, workspaceID string, ok bool) {
	label, _, _ := strings.Cut(host, ".")
	i := strings.LastIndexByte(label, '-')
	if i <= 0 || i == len(label)-1 {
		return "", "", false
	}
	for _, c := range label[i+1:] {
		if c < '0' || c > '9' {
			return "", "", false
		}
	}
	return strings.ToLower(label[:i]), label[i+1:], true
}
