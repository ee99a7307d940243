package api

import (
	"time"

	"embedlab/shared/claims"
)

// Paths of the backend API.
const (
	PathSession       = "/api/session"
	PathViewers       = "/api/viewers"
	PathEmbedToken    = "/api/embed-token"
	PathEmbedSettings = "/api/embed-settings"
	PathHealth        = "/api/health"
	PathReady         = "/api/ready"
	PathMetrics       = "/metrics"

	// HeaderCSRF carries the session's CSRF token on state-changing calls.
	HeaderCSRF = "X-CSRF-Token"
	// QueryViewer names the viewer an embed token is asked for.
	QueryViewer = "viewer"
)

// LoginRequest is the body of POST /api/session.
type LoginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Session is who is logged in: the answer of POST and GET /api/session.
type Session struct {
	User        string    `json:"user"`
	DisplayName string    `json:"display_name"`
	CSRFToken   string    `json:"csrf_token"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Roles are the user's roles (RoleTrainer, ...): the page hides what
	// the user may not do; the server refuses it anyway.
	Roles []string `json:"roles"`
}

// HasRole reports whether the signed-in user has role.
func (s Session) HasRole(role string) bool { return HasRole(s.Roles, role) }

// Viewer is an external viewer the user may act as. The browser names a
// viewer by ID; external_value always comes from the server.
type Viewer struct {
	ID            string `json:"id"`
	DisplayName   string `json:"display_name"`
	ExternalValue string `json:"external_value"`
}

// Viewers is the answer of GET /api/viewers.
type Viewers struct {
	Viewers []Viewer `json:"viewers"`
}

// DashboardPage names a page of the embedded dashboard.
type DashboardPage struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// DemoUser is listed on the login page in emulator mode.
type DemoUser struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Viewers  string `json:"viewers"`
}

// EmbedSettings is what the frontend needs to mount the dashboard.
type EmbedSettings struct {
	InstanceURL string          `json:"instance_url"`
	WorkspaceID string          `json:"workspace_id"`
	DashboardID string          `json:"dashboard_id"`
	Pages       []DashboardPage `json:"pages,omitempty"`
	Emulated    bool            `json:"emulated"`
	DemoUsers   []DemoUser      `json:"demo_users,omitempty"`
	// RefreshMarginSeconds is how long before exp the frontend asks for a new token.
	RefreshMarginSeconds int `json:"refresh_margin_seconds"`
}

// EmbedToken is the answer of GET /api/embed-token?viewer=ID: the scoped
// token for one viewer, its decoded claims and how it was obtained.
type EmbedToken struct {
	Viewer    Viewer        `json:"viewer"`
	Token     string        `json:"token"`
	IssuedAt  time.Time     `json:"issued_at"`
	ExpiresAt time.Time     `json:"expires_at"`
	FromCache bool          `json:"from_cache"`
	Header    claims.Header `json:"header"`
	Claims    claims.Claims `json:"claims"`
	Trace     []TraceStep   `json:"trace"`
}

// TraceStep is one upstream call of the exchange, with credentials redacted.
type TraceStep struct {
	Name       string  `json:"name"`
	Purpose    string  `json:"purpose"`
	Method     string  `json:"method,omitempty"`
	URL        string  `json:"url,omitempty"`
	Status     int     `json:"status,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Request    string  `json:"request,omitempty"`
	Response   string  `json:"response,omitempty"`
	// Reused is set when no call was made (a cached token was used).
	Reused bool   `json:"reused,omitempty"`
	Note   string `json:"note,omitempty"`
}
