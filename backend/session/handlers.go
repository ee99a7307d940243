package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"

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
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The server's read time limit cut a stalled body off.
			return echo.NewHTTPError(http.StatusRequestTimeout, "the login body did not arrive in time")
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

// HandleLogout ends the session and deletes the cookie; 204. With
// ?everywhere=true it ends every session of the user ("sign out
// everywhere"). Mount it behind RequireSession and RequireCSRF, so another
// site cannot log a user out. OnSignOutEverywhere, when set, runs after
// such a sign-out with the user's name (to drop what the server holds for
// them).
func (m *Manager) HandleLogout(c echo.Context) error {
	everywhere := false
	switch v := c.QueryParam("everywhere"); v {
	case "", "false", "0":
	case "true", "1":
		everywhere = true
	default:
		return EchoError(c, newError(CodeBadRequest, "everywhere must be true or false", nil))
	}
	s, err := m.Logout(c.Response(), c.Request(), everywhere)
	if err != nil {
		return err // the revocation was not kept: a 500, so the user knows
	}
	if everywhere && m.onEverywhere != nil && s.User != "" {
		m.onEverywhere(s.User)
	}
	return c.NoContent(http.StatusNoContent)
}

// OnSignOutEverywhere sets what runs after a user signs out everywhere.
func (m *Manager) OnSignOutEverywhere(f func(user string)) { m.onEverywhere = f }
