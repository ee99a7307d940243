package wire

// Paths of the workspace endpoints, relative to the instance URL.
const (
	PathDatabricksConfig = "/.well-known/databricks-config"
	PathOIDCDiscovery    = "/oidc/.well-known/oauth-authorization-server"
	PathOpenIDDiscovery  = "/oidc/.well-known/openid-configuration"
	PathToken            = "/oidc/v1/token"
	PathKeys             = "/oidc/v1/keys"
	PathAuthorize        = "/oidc/v1/authorize"
)

// TokenInfoPath is the path of the published dashboard's tokeninfo endpoint.
func TokenInfoPath(dashboardID string) string {
	return "/api/2.0/lakeview/dashboards/" + dashboardID + "/published/tokeninfo"
}

// Grant types and scopes used by the kit.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"

	ScopeAllAPIs = "all-apis"
)

// TokenResponse is the body of a successful POST /oidc/v1/token.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// OAuthError is the body of a failed OAuth call (RFC 6749 section 5.2).
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// RefreshTokenInvalid is the error_description with which Databricks refuses
// a refresh token that is unknown, expired or revoked (error invalid_grant).
// The official SDKs match it exactly (databricks-sdk-go credentials/u2m:
// ErrorDescription == "Refresh token is invalid") to tell the user to sign in
// again, so it must not be reworded.
const RefreshTokenInvalid = "Refresh token is invalid"

// OAuth error codes.
const (
	OAuthInvalidRequest       = "invalid_request"
	OAuthInvalidClient        = "invalid_client"
	OAuthInvalidGrant         = "invalid_grant"
	OAuthUnauthorizedClient   = "unauthorized_client"
	OAuthUnsupportedGrantType = "unsupported_grant_type"
	OAuthInvalidScope         = "invalid_scope"
	OAuthServerError          = "server_error"
	OAuthTemporarilyUnavail   = "temporarily_unavailable"
)

// AuthServerMetadata is the OAuth authorization server discovery document
// (RFC 8414) served at PathOIDCDiscovery.
type AuthServerMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// DatabricksConfig is served at PathDatabricksConfig; the official SDKs read
// it first to find the OIDC endpoint.
type DatabricksConfig struct {
	OIDCEndpoint string `json:"oidc_endpoint"`
	WorkspaceID  string `json:"workspace_id"`
	Cloud        string `json:"cloud"`
	HostType     string `json:"host_type"`
}

// JWKS is a JSON Web Key Set (RFC 7517).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one RSA public key of a JWKS.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}
