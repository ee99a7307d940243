package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"embedlab/backend/doctor"
	"embedlab/backend/session"
	"embedlab/shared/api"
)

// doctorHandler runs the doctor for the web page, one run at a time: a
// run makes a dozen calls to the workspace, and the isolation check one
// query per dataset and viewer.
type doctorHandler struct {
	s    *Server
	d    *doctor.Doctor
	busy chan struct{}
}

func (s *Server) doctorRoutes(auth *echo.Group, d *doctor.Doctor) {
	h := &doctorHandler{s: s, d: d, busy: make(chan struct{}, 1)}
	auth.GET(strings.TrimPrefix(api.PathDoctor, "/api"), h.run)
}

// run answers GET /api/doctor[?isolation=1]: the checklist, checked from
// this app's origin, with the signed-in user's own viewers only (viewer
// ids are other tenants' audit identifiers, so a user sees only theirs).
func (h *doctorHandler) run(c echo.Context) error {
	if h.d == nil {
		return fail(http.StatusNotFound, "not_found", "the doctor is not configured on this server")
	}
	sess, _ := session.FromContext(c)
	ctx := c.Request().Context()
	select {
	case h.busy <- struct{}{}:
		defer func() { <-h.busy }()
	case <-ctx.Done():
		return &problem{status: http.StatusServiceUnavailable, code: "busy", message: "another doctor run took too long", retryAfter: 5, cause: ctx.Err()}
	}
	iso := c.QueryParam(api.QueryIsolation)
	via := c.QueryParam(api.QueryVia)
	if via != "" && via != doctor.ViaStatements && via != doctor.ViaEmbedQuery {
		return fail(http.StatusBadRequest, "bad_request", "via must be "+doctor.ViaStatements+" (the SQL Statement Execution API) or "+doctor.ViaEmbedQuery+" (the emulator's embed query API)")
	}
	// A page that goes away cancels ctx, and with it the statements in flight.
	rep := h.d.Run(ctx, doctor.Options{
		Origin:    c.Scheme() + "://" + c.Request().Host,
		Isolation: iso == "1" || iso == "true",
		Viewers:   h.s.viewers.For(sess.User),
		Via:       via,
	})
	return c.JSON(http.StatusOK, rep)
}
