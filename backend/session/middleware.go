package session

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// contextKey is where RequireSession puts the Session in echo.Context.
const contextKey = "embedlab/session"

// FromContext returns the session RequireSession stored for this request.
func FromContext(c echo.Context) (Session, bool) {
	s, ok := c.Get(contextKey).(Session)
	return s, ok
}

// RequireSession refuses requests without a valid session with 401
// (CodeNoSession) and stores the session for FromContext. Answers that
// depend on who asks are marked "Cache-Control: private, no-store", so no
// shared cache keeps one user's answer for another; a handler may override.
func (m *Manager) RequireSession() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s, err := m.FromRequest(c.Request())
			if err != nil {
				return EchoError(c, err)
			}
			c.Set(contextKey, s)
			c.Response().Header().Set("Cache-Control", "private, no-store")
			return next(c)
		}
	}
}

// RequireCSRF refuses a state-changing request (any method but GET, HEAD,
// OPTIONS and TRACE) whose X-CSRF-Token header is not the session's CSRF
// token, with 403 (CodeCSRF). Put it after RequireSession; used alone it
// reads the session itself and refuses a missing one with 401.
func (m *Manager) RequireCSRF() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if safeMethod(c.Request().Method) {
				return next(c)
			}
			s, ok := FromContext(c)
			if !ok {
				var err error
				if s, err = m.FromRequest(c.Request()); err != nil {
					return EchoError(c, err)
				}
				c.Set(contextKey, s)
			}
			got := c.Request().Header.Get(CSRFHeader)
			if got == "" {
				return EchoError(c, newError(CodeCSRF, "missing "+CSRFHeader+" header: send the csrf_token that login and whoami return", nil))
			}
			// Constant time, so the token cannot be guessed byte by byte.
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRFToken)) != 1 {
				return EchoError(c, newError(CodeCSRF, CSRFHeader+" does not match this session: fetch whoami again", nil))
			}
			return next(c)
		}
	}
}

// safeMethod lists the methods that must not change state. Anything else,
// including methods Go does not know, needs the token.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// CheckLoginRequest guards a login route, which has no session and so no
// CSRF token. It refuses, with 415, a body that is not declared
// application/json: HTML forms cannot send that type, and a cross-site
// script that sets it triggers a CORS preflight the server never approves.
// It refuses, with 403, a request the browser marks as cross-origin
// (Sec-Fetch-Site, or else Origin against Host) unless the origin is in
// Options.TrustedOrigins. Non-browser clients, which send neither header,
// pass. HandleLogin calls it; a custom login handler must too.
func (m *Manager) CheckLoginRequest(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return newError(CodeUnsupportedMediaType, "login needs Content-Type: application/json", nil)
	}
	if err := m.origins.Check(r); err != nil {
		return newError(CodeCSRF, "login from another origin refused", fmt.Errorf("%w (Origin %q)", err, clipHeader(r.Header.Get("Origin"))))
	}
	return nil
}

// clipHeader keeps a client-chosen header short enough for a log line.
func clipHeader(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
