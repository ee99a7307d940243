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
	Reset(ctx context.Context, user string, workspace, progress bool) error
	Trainer(ctx context.Context) (api.Trainer, error)
	Requests(since int64) api.RequestLog
	// ResetParticipant forgets one participant's progress (a trainer's
	// action): on one exercise, or all of it when exercise is empty.
	ResetParticipant(ctx context.Context, user, exercise string) error
}

// labRoutes registers the fault lab and the workshop; every route needs a
// session, and the state-changing ones the CSRF header (the auth group).
// What changes the workspace everyone shares (the fault lab's toggles and
// reset, the workshop's workspace reset) and the trainer view need the
// trainer role; reading the toggles and doing the exercises do not.
func (s *Server) labRoutes(auth *echo.Group) {
	trainer := requireRole(api.RoleTrainer)
	if s.lab != nil {
		auth.GET(strings.TrimPrefix(api.PathLab, "/api"), s.labToggles)
		auth.POST(strings.TrimPrefix(api.PathLabToggle, "/api"), s.labToggle, trainer("the fault lab's toggles"))
		auth.POST(strings.TrimPrefix(api.PathLabReset, "/api"), s.labReset, trainer("resetting the fault lab"))
	}
	if s.workshop != nil {
		auth.GET(strings.TrimPrefix(api.PathWorkshop, "/api"), s.workshopOverview)
		auth.POST(strings.TrimPrefix(api.PathWorkshopStart, "/api"), s.workshopStart)
		auth.POST(strings.TrimPrefix(api.PathWorkshopCheck, "/api"), s.workshopCheck)
		auth.POST(strings.TrimPrefix(api.PathWorkshopReset, "/api"), s.workshopReset)
		auth.GET(strings.TrimPrefix(api.PathTrainer, "/api"), s.trainer, trainer("the trainer view"))
		auth.GET(strings.TrimPrefix(api.PathTrainerRequests, "/api"), s.trainerRequests, trainer("the trainer view"))
		auth.POST(strings.TrimPrefix(api.PathTrainerReset, "/api"), s.trainerReset, trainer("resetting a participant"))
	}
}

func (s *Server) labToggles(c echo.Context) error { return c.JSON(http.StatusOK, s.lab.Toggles()) }

func (s *Server) labToggle(c echo.Context) error {
	var in api.LabSet
	if err := bindJSON(c, &in); err != nil {
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
	sess, _ := session.FromContext(c)
	s.log.Info("fault lab reset", "user", sess.User)
	return c.JSON(http.StatusOK, s.lab.Toggles())
}

func (s *Server) workshopOverview(c echo.Context) error {
	sess, _ := session.FromContext(c)
	out, err := s.workshop.Overview(c.Request().Context(), sess.User)
	if err != nil {
		return err
	}
	out.Trainer = sess.HasRole(api.RoleTrainer)
	return c.JSON(http.StatusOK, out)
}

func exerciseRef(c echo.Context) (string, error) {
	var in api.ExerciseRef
	if err := bindJSON(c, &in); err != nil || in.ID == "" {
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
	if err := bindJSON(c, &in); err != nil || !in.Workspace && !in.Progress {
		return fail(http.StatusBadRequest, "bad_request", "send {\"workspace\": true|false, \"progress\": true|false}, at least one true")
	}
	sess, _ := session.FromContext(c)
	if in.Workspace {
		if err := roleProblem(sess, api.RoleTrainer, "resetting the workspace everyone shares"); err != nil {
			return err
		}
	}
	if err := s.workshop.Reset(c.Request().Context(), sess.User, in.Workspace, in.Progress); err != nil {
		return err
	}
	if in.Workspace {
		s.log.Info("workshop reset", "user", sess.User, "workspace", in.Workspace, "progress", in.Progress)
	}
	return s.workshopOverview(c)
}

func (s *Server) trainer(c echo.Context) error {
	out, err := s.workshop.Trainer(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// trainerReset forgets one participant's progress, for a trainer.
func (s *Server) trainerReset(c echo.Context) error {
	var in api.TrainerReset
	if err := bindJSON(c, &in); err != nil || in.User == "" {
		return fail(http.StatusBadRequest, "bad_request", "send {\"user\": PARTICIPANT, \"exercise\": ID or empty for all}")
	}
	if err := s.workshop.ResetParticipant(c.Request().Context(), in.User, in.Exercise); err != nil {
		return err
	}
	sess, _ := session.FromContext(c)
	s.log.Info("trainer reset a participant", "trainer", sess.User, "participant", in.User, "exercise", in.Exercise)
	out, err := s.workshop.Trainer(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) trainerRequests(c echo.Context) error {
	since, err := strconv.ParseInt(c.QueryParam("since"), 10, 64)
	if c.QueryParam("since") == "" {
		since, err = 0, nil
	}
	if err != nil || since < 0 {
		return fail(http.StatusBadRequest, "bad_request", "since must be a sequence number (0 or more)")
	}
	return c.JSON(http.StatusOK, s.workshop.Requests(since))
}

// workshopProblem maps an error of the lab or the workshop, which carries
// its own HTTP status and code, to the problem the API answers with, and
// any other error to nil. It is one of the server's error mappers
// (Server.mappers, tried in order by classify).
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
