package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"embedlab/backend/session"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// Lab is the fault lab (emulator mode only): toggles that break the
// emulated workspace live. backend/lab implements it.
type Lab interface {
	Toggles() api.Lab
	Set(id string, on bool) (api.Lab, error)
	// Reset turns every toggle off and restores the workspace.
	Reset() error
}

// Workshop is the workshop mode (emulator mode only): exercises, their
// checkpoints and each user's progress. backend/workshop implements it.
type Workshop interface {
	Overview(ctx context.Context, user string) (api.Workshop, error)
	Start(ctx context.Context, user, id string) (api.Exercise, error)
	Check(ctx context.Context, user, id string) (api.Exercise, error)
	Reset(ctx context.Context, user string, progress bool) error
	IsTrainer(user string) bool
	Trainer(ctx context.Context) (api.Trainer, error)
	Requests(since int64) api.RequestLog
}

// labRoutes registers the fault lab and the workshop; every route needs a
// session, and the state-changing ones the CSRF header (the auth group).
func (s *Server) labRoutes(auth *echo.Group) {
	if s.lab != nil {
		auth.GET(strings.TrimPrefix(api.PathLab, "/api"), s.labToggles)
		auth.POST(strings.TrimPrefix(api.PathLabToggle, "/api"), s.labToggle)
		auth.POST(strings.TrimPrefix(api.PathLabReset, "/api"), s.labReset)
	}
	if s.workshop != nil {
		auth.GET(strings.TrimPrefix(api.PathWorkshop, "/api"), s.workshopOverview)
		auth.POST(strings.TrimPrefix(api.PathWorkshopStart, "/api"), s.workshopStart)
		auth.POST(strings.TrimPrefix(api.PathWorkshopCheck, "/api"), s.workshopCheck)
		auth.POST(strings.TrimPrefix(api.PathWorkshopReset, "/api"), s.workshopReset)
		auth.GET(strings.TrimPrefix(api.PathTrainer, "/api"), s.trainer)
		auth.GET(strings.TrimPrefix(api.PathTrainerRequests, "/api"), s.trainerRequests)
	}
}

func (s *Server) labToggles(c echo.Context) error { return c.JSON(http.StatusOK, s.lab.Toggles()) }

func (s *Server) labToggle(c echo.Context) error {
	var in api.LabSet
	if err := c.Bind(&in); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "send {\"id\": TOGGLE, \"on\": true|false}")
	}
	out, err := s.lab.Set(in.ID, in.On)
	if err != nil {
		return err
	}
	sess, _ := session.FromContext(c)
	s.log.Info("fault lab", "user", sess.User, "toggle", in.ID, "on", in.On)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) labReset(c echo.Context) error {
	if err := s.lab.Reset(); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.lab.Toggles())
}

func (s *Server) workshopOverview(c echo.Context) error {
	sess, _ := session.FromContext(c)
	out, err := s.workshop.Overview(c.Request().Context(), sess.User)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func exerciseRef(c echo.Context) (string, error) {
	var in api.ExerciseRef
	if err := c.Bind(&in); err != nil || in.ID == "" {
		return "", fail(http.StatusBadRequest, "bad_request", "send {\"id\": EXERCISE}")
	}
	return in.ID, nil
}

func (s *Server) workshopStart(c echo.Context) error {
	id, err := exerciseRef(c)
	if err != nil {
		return err
	}
	sess, _ := session.FromContext(c)
	out, err := s.workshop.Start(c.Request().Context(), sess.User, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) workshopCheck(c echo.Context) error {
	id, err := exerciseRef(c)
	if err != nil {
		return err
	}
	sess, _ := session.FromContext(c)
	out, err := s.workshop.Check(c.Request().Context(), sess.User, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) workshopReset(c echo.Context) error {
	var in api.WorkshopReset
	if err := c.Bind(&in); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "send {\"progress\": true|false}")
	}
	sess, _ := session.FromContext(c)
	if err := s.workshop.Reset(c.Request().Context(), sess.User, in.Progress); err != nil {
		return err
	}
	out, err := s.workshop.Overview(c.Request().Context(), sess.User)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) requireTrainer(c echo.Context) error {
	sess, _ := session.FromContext(c)
	if !s.workshop.IsTrainer(sess.User) {
		return &problem{status: http.StatusForbidden, code: "forbidden", message: sess.User + " is not a trainer",
			fix: "sign in as a trainer (the demo user admin)"}
	}
	return nil
}

func (s *Server) trainer(c echo.Context) error {
	if err := s.requireTrainer(c); err != nil {
		return err
	}
	out, err := s.workshop.Trainer(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) trainerRequests(c echo.Context) error {
	if err := s.requireTrainer(c); err != nil {
		return err
	}
	since, err := strconv.ParseInt(c.QueryParam("since"), 10, 64)
	if c.QueryParam("since") == "" {
		since, err = 0, nil
	}
	if err != nil || since < 0 {
		return fail(http.StatusBadRequest, "bad_request", "since must be a sequence number (0 or more)")
	}
	return c.JSON(http.StatusOK, s.workshop.Requests(since))
}

// workshopProblem maps the lab's and the workshop's errors (they carry
// their status);
// classify calls it.
func workshopProblem(err error) *problem {
	var se interface {
		error
		HTTPStatus() int
		ErrorCode() string
	}
	if errors.As(err, &se) {
		return &problem{status: se.HTTPStatus(), code: se.ErrorCode(), message: se.Error(), cause: err}
	}
	return nil
}

// embedCheck says whether the workspace lets pages on ?origin= frame the
// dashboard, from the frame-ancestors of its embed page's CSP. The page
// asks when its frame never said it was ready: a browser that refuses a
// frame tells the page nothing. Only the configured workspace is fetched.
func (s *Server) embedCheck(c echo.Context) error {
	origin := c.QueryParam("origin")
	if u, err := url.Parse(origin); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || origin != u.Scheme+"://"+u.Host {
		return fail(http.StatusBadRequest, "bad_request", "origin must be an origin such as http://localhost:3000")
	}
	page := c.QueryParam("page")
	if len(page) > 200 {
		return fail(http.StatusBadRequest, "bad_request", "page must be a dashboard page id")
	}
	u := wire.EmbedURL(s.settings.InstanceURL, s.settings.WorkspaceID, s.settings.DashboardID, page, "")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return &problem{status: http.StatusServiceUnavailable, code: api.CodeUnreachable, message: "the workspace could not be reached",
			fix: "check INSTANCE_URL and the network", cause: err}
	}
	res.Body.Close()
	out := api.EmbedCheck{Origin: origin, FrameAncestors: []string{}, PageStatus: res.StatusCode}
	for _, d := range strings.Split(res.Header.Get("Content-Security-Policy"), ";") {
		f := strings.Fields(d)
		if len(f) == 0 || f[0] != "frame-ancestors" {
			continue
		}
		out.Known = true
		for _, a := range f[1:] {
			out.FrameAncestors = append(out.FrameAncestors, a)
			out.Allowed = out.Allowed || a == origin || a == "*"
		}
	}
	if !out.Known {
		out.Allowed = true // no CSP: nothing we can tell
	}
	return c.JSON(http.StatusOK, out)
}
