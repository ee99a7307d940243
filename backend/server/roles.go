package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"embedlab/backend/session"
	"embedlab/shared/api"
)

// requireRole guards a route with a role of the users file; what names what
// the route does, for the refusal ("the fault lab's toggles needs the role
// trainer, which ada does not have").
func requireRole(role string) func(what string) echo.MiddlewareFunc {
	return func(what string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				sess, _ := session.FromContext(c)
				if err := roleProblem(sess, role, what); err != nil {
					return err
				}
				return next(c)
			}
		}
	}
}

// roleProblem is the 403 of a missing role, naming the role and how to get
// it; nil when the session has it.
func roleProblem(sess session.Session, role, what string) error {
	if sess.HasRole(role) {
		return nil
	}
	msg, fix := api.RoleRefusal(sess.User, role, what)
	return &problem{status: http.StatusForbidden, code: api.CodeRoleRequired, message: msg, fix: fix}
}
