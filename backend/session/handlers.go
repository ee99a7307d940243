package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// maxLoginBody bounds the login request's body.
const maxLoginBody = 4 << 10

// loginRequest is the body of POST login.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// HandleLogin is the login route: POST {"name": ..., "password": ...} with
// Content-Type: application/json. It answers 200 with the Session's JSON
// (user, display_name, csrf_token, issued_at, expires_at) and sets the
// cookie; refusals are *Errors passed through EchoError.
func (m *Manager) HandleLogin(c echo.Context) error {
	r := c.Request()
	if err := m.CheckLoginRequest(r); err != nil {
		return EchoError(c, err)
	}
	var req loginRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	// The decoder's own message is not passed on: it can quote the body,
	// and the body holds a password.
	if err := dec.Decode(&req); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the login body is larger than %d bytes", maxLoginBody))
		}
		return EchoError(c, newError(CodeBadRequest, `the body must be JSON {"name": "...", "password": "..."}`, nil))
	}
	s, err := m.Login(req.Name, req.Password, c.RealIP())
	if err != nil {
		return EchoError(c, err)
	}
	if err := m.SetCookie(c.Response(), s); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s)
}

// HandleWhoAmI answers the session's JSON, like login does; the page calls
// it on load to learn who is logged in and the CSRF token. Mount it behind
// RequireSession.
func (m *Manager) HandleWhoAmI(c echo.Context) error {
	s, ok := FromContext(c)
	if !ok {
		var err error
		if s, err = m.FromRequest(c.Request()); err != nil {
			return EchoError(c, err)
		}
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.JSON(http.StatusOK, s)
}

// HandleLogout ends the session and deletes the cookie; 204. Mount it
// behind RequireSession and RequireCSRF, so another site cannot log a user
// out.
func (m *Manager) HandleLogout(c echo.Context) error {
	m.Logout(c.Response(), c.Request())
	return c.NoContent(http.StatusNoContent)
}
