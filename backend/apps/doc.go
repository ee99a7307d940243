// Package apps calls the /api/ routes of Databricks Apps with bearer
// tokens, and gets those tokens the four ways the wire reference (package
// wire, "Calling a Databricks App's /api/ routes") describes: U2M
// (authorization code + PKCE, with the scopes the user picks), a Databricks
// CLI profile, M2M (a service principal's client credentials) and app to app
// (the Apps runtime's own service principal), and a fifth from its "Token
// federation": an identity provider's token exchanged for a workspace token
// first (federated.go).
//
// Tokens stay in this process: callers get claims and diagnoses, never a
// refresh token. Calls go only to app URLs (https://*.databricksapps.com,
// or the emulator's Apps proxy on its own port), so a token is never sent to
// a host a user typed in.
//
// The sources' ids, labels and the role each needs are one table shared
// with the page and the CLI (shared/api.Sources); who may use which is the
// server's call (backend/server), not this package's.
package apps
