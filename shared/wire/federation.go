package wire

// Token federation (the package documentation, "Token federation"): an
// identity provider's JWT is exchanged at PathToken for a Databricks token
// (RFC 8693) before it can call anything, a Databricks App included.
const (
	// TokenTypeJWT is the subject_token_type of the exchange.
	TokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"

	FieldSubjectToken     = "subject_token"
	FieldSubjectTokenType = "subject_token_type"

	// PathOpenIDConfiguration is an identity provider's discovery document,
	// relative to its issuer URL; its jwks_uri names the signing keys.
	PathOpenIDConfiguration = "/.well-known/openid-configuration"

	// EnvOIDCToken and EnvOIDCTokenFile are where the official SDKs' env-oidc
	// and file-oidc auth types read the identity provider's token.
	EnvOIDCToken     = "DATABRICKS_OIDC_TOKEN"
	EnvOIDCTokenFile = "DATABRICKS_OIDC_TOKEN_FILEPATH"

	// AppsMetaIssuer is the ErrorInfo metadata key of the issuer of an
	// identity provider's token the Apps proxy refused
	// (AppsReasonIdPTokenNotExchanged).
	AppsMetaIssuer = "issuer"
)

// OpenIDConfiguration is the part of an identity provider's discovery
// document a token exchange needs (OpenID Connect Discovery 1.0).
type OpenIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	TokenEndpoint                    string   `json:"token_endpoint,omitempty"`
	GrantTypesSupported              []string `json:"grant_types_supported,omitempty"`
	ResponseTypesSupported           []string `json:"response_types_supported,omitempty"`
	SubjectTypesSupported            []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ClaimsSupported                  []string `json:"claims_supported,omitempty"`
}
