package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"embedlab/backend/broker"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// embedToken gets a scoped token for one of the user's viewers. The browser
// names the viewer; the value comes from the viewers file.
func (s *Server) embedToken(c echo.Context) error {
	v, err := s.queryViewer(c, api.PathEmbedToken)
	if err != nil {
		return err
	}
	observe, end := s.waits.begin(v.ID)
	defer end()
	r, err := s.broker.Token(broker.WithWaits(c.Request().Context(), observe), broker.Request{
		DashboardID: s.settings.DashboardID, ExternalViewerID: v.ID, ExternalValue: v.ExternalValue})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.EmbedToken{
		Viewer: apiViewer(v), Token: r.Token, IssuedAt: r.IssuedAt, ExpiresAt: r.ExpiresAt, FromCache: r.FromCache,
		Header: r.Header, Claims: r.Claims, Trace: r.Trace,
	})
}

var brokerCodes = map[broker.Kind]string{
	broker.KindBadSecret: api.CodeBadSecret, broker.KindNoCanRun: api.CodeNoCanRun,
	broker.KindUnknownDashboard: api.CodeUnknownDashboard, broker.KindRateLimited: api.CodeRateLimited,
	broker.KindUnreachable: api.CodeUnreachable, broker.KindInvalidViewer: api.CodeInvalidViewer,
	broker.KindUpstream: api.CodeUpstream,
}

// domainProblem maps the domain packages' errors; classify calls it.
func domainProblem(err error) *problem {
	var be *broker.Error
	if errors.As(err, &be) {
		return &problem{status: be.HTTPStatus(), code: brokerCodes[be.Kind], message: be.Error(), fix: be.Fix,
			retryAfter: be.RetryAfter, cause: err}
	}
	var se *session.Error
	if errors.As(err, &se) {
		p := &problem{status: se.Status(), code: string(se.Code), message: se.Message, cause: err}
		if se.Code == session.CodeThrottled { // Retry-After only where waiting helps
			p.retryAfter = se.RetryAfterSeconds()
		}
		return p
	}
	var de *viewers.DeniedError
	if errors.As(err, &de) {
		return &problem{status: http.StatusForbidden, code: api.CodeForbiddenViewer, message: de.PublicMessage(),
			fix: "pick one of your own viewers", cause: err}
	}
	return nil
}

// queryViewer is the viewer named by ?viewer= on path, if the signed-in user
// may act as it: the embed-token route and its wait route check alike.
func (s *Server) queryViewer(c echo.Context, path string) (viewers.Viewer, error) {
	id := strings.TrimSpace(c.QueryParam(api.QueryViewer))
	if id == "" {
		return viewers.Viewer{}, fail(http.StatusBadRequest, "bad_request", "name the viewer: %s?%s=<external_viewer_id>", path, api.QueryViewer)
	}
	sess, _ := session.FromContext(c)
	return s.viewers.Authorize(sess.User, id)
}
