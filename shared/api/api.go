// Package api defines the JSON payloads of embedlab's own backend API, the
// one the Wasm frontend calls. Both sides compile it, so a renamed field
// breaks the build rather than the page.
package api

// Error is every error answer of the API.
type Error struct {
	// Error is a stable machine code, e.g. "forbidden", "upstream_bad_secret".
	Error string `json:"error"`
	// Message says what went wrong, for a person.
	Message string `json:"message"`
	// Fix says what to do about it, when embedlab knows.
	Fix       string `json:"fix,omitempty"`
	RequestID string `json:"request_id"`
	// RetryAfter is in seconds, for rate-limited answers.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Error codes of the embed-token route, one per cause the UI diagnoses.
const (
	CodeBadSecret        = "upstream_bad_secret"
	CodeNoCanRun         = "upstream_no_can_run"
	CodeUnknownDashboard = "upstream_unknown_dashboard"
	CodeRateLimited      = "upstream_rate_limited"
	CodeUnreachable      = "upstream_unreachable"
	CodeUpstream         = "upstream_error"
	CodeForbiddenViewer  = "forbidden_viewer"
	CodeInvalidViewer    = "invalid_viewer"
	// CodeRoleRequired refuses what needs a role of the users file the user
	// lacks; the message names the role (see RoleRefusal).
	CodeRoleRequired = "role_required"
)
