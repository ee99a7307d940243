// Package server builds embedlab's Echo application: one route table with
// the JSON API under /api/ first, then the go-app handler that serves the
// Wasm frontend. Handlers decode, validate, act and respond; errors become
// HTTP answers in one place (errors.go).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/app/pages"
	"embedlab/backend/broker"
	"embedlab/backend/doctor"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// Settings are what the server needs to know about the workspace.
type Settings struct {
	// Secure is true when browsers reach embedlab over HTTPS (an https
	// public URL, or inside a Databricks App): pages then send HSTS. The
	// session cookie's Secure flag is the session.Manager's, set alike.
	Secure      bool
	InstanceURL string
	WorkspaceID string
	DashboardID string
	// Pages of the dashboard, when known (always in emulator mode).
	Pages []api.DashboardPage
	// Emulated is true when the workspace is the bundled emulator.
	Emulated bool
	// DemoUsers lists the bundled demo logins on the login page (emulator
	// mode with the bundled users file only).
	DemoUsers bool
	// RefreshMargin is how long before expiry the frontend renews a token.
	RefreshMargin time.Duration
	// Version is the go-app version. Empty derives it from the files of
	// WebDir and the page settings, so every build that changes what the
	// browser caches gets a new one, and an unchanged build keeps its own
	// (see webFiles.version).
	Version string
	// WebDir is the directory served under /web/: app.wasm, its encoded
	// forms app.wasm.br and app.wasm.gz, icons and CSS. Empty means ./web,
	// or web/ next to the executable (or its parent) when ./web has no
	// app.wasm.
	WebDir string
}

// Deps are the server's collaborators.
type Deps struct {
	Settings Settings
	Logger   *slog.Logger
	Sessions *session.Manager
	Viewers  *viewers.Set
	Broker   *broker.Broker
	// Ready reports whether the workspace answers; nil means always ready.
	Ready func(ctx context.Context) error
	// Apps configures the "Call an app" routes; nil leaves them out.
	Apps *Apps
	// Lab and Workshop are the fault lab and the workshop (emulator mode
	// only, routes_lab.go); nil leaves them out.
	Lab      Lab
	Workshop Workshop
	// Doctor runs GET /api/doctor (routes_doctor.go); nil answers 404.
	Doctor *doctor.Doctor
}

// Server is the configured application.
type Server struct {
	log      *slog.Logger
	settings Settings
	mappers  []func(error) *problem
	waits    *tokenWaits // routes_wait.go
	echo     *echo.Echo
	sessions *session.Manager
	viewers  *viewers.Set
	broker   *broker.Broker
	ready    func(ctx context.Context) error
	apps     *Apps
	lab      Lab
	workshop Workshop
}

// New builds the application.
func New(d Deps) *Server {
	s := &Server{log: d.Logger, settings: d.Settings, sessions: d.Sessions, viewers: d.Viewers, broker: d.Broker, ready: d.Ready, apps: d.Apps,
		lab: d.Lab, workshop: d.Workshop, mappers: []func(error) *problem{domainProblem, appsProblem, workshopProblem},
		waits: newTokenWaits()}
	if s.log == nil {
		s.log = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	// The client address is the peer's: X-Forwarded-For would let a client
	// pick its own address and dodge the login throttle.
	e.IPExtractor = echo.ExtractIPDirect()
	s.echo = e

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(s.logRequests())
	e.Use(s.recoverPanics())
	e.Use(secureHeaders(d.Settings.InstanceURL, d.Settings.Secure))

	a := e.Group("/api", noStore, refuseSemicolons, middleware.BodyLimit(apiBodyLimit), middleware.ContextTimeout(apiTimeout))
	a.GET("/health", s.health)
	a.GET("/ready", s.readiness)
	e.GET(api.PathMetrics, echo.WrapHandler(s.metricsHandler()))
	a.GET("/embed-settings", s.embedSettings)
	a.POST("/session", s.sessions.HandleLogin)
	auth := a.Group("", s.sessions.RequireSession(), rememberUser, s.sessions.RequireCSRF())
	auth.GET("/session", s.sessions.HandleWhoAmI)
	auth.DELETE("/session", s.sessions.HandleLogout)
	auth.GET("/viewers", s.listViewers)
	auth.GET("/embed-token", s.embedToken)
	auth.GET(strings.TrimPrefix(api.PathEmbedTokenWait, "/api"), s.embedTokenWait)
	if s.apps != nil {
		s.appsRoutes(a, auth)
		if s.apps.U2M != nil {
			// Signing out everywhere also drops the workspace token embedlab
			// holds for the user, so nothing of theirs outlives it.
			s.sessions.OnSignOutEverywhere(s.apps.U2M.SignOut)
		}
	}
	auth.GET(strings.TrimPrefix(api.PathEmbedCheck, "/api"), s.embedCheck)
	s.labRoutes(auth)
	s.doctorRoutes(auth, d.Doctor)
	a.Any("/*", func(c echo.Context) error {
		p := fail(http.StatusNotFound, "not_found", "no API route %s %s", c.Request().Method, clip(c.Request().URL.Path, 200))
		p.fix = fixForStatus(http.StatusNotFound)
		return p
	})

	// Static files, the Wasm precompressed: before go-app, which would
	// serve them uncompressed.
	web := newWebFiles(findWebDir(d.Settings.WebDir))
	e.Match([]string{http.MethodGet, http.MethodHead}, "/web/*", web.handle)

	// The go-app handler comes last: every path the API does not claim is a
	// page. The server registers each page with a placeholder, not its
	// component: see package pages.
	pages.Placeholders()
	h := &app.Handler{
		Name:         "embedlab",
		ShortName:    "embedlab",
		Title:        "embedlab",
		Description:  "Per-viewer scoped tokens for embedded Databricks AI/BI dashboards, and bearer tokens for Databricks Apps.",
		Icon:         app.Icon{Default: "/web/icon-192.png", Large: "/web/icon-512.png", SVG: "/web/icon.svg"},
		Styles:       []string{"/web/style.css"},
		Env:          map[string]string{pages.EnvInstanceURL: d.Settings.InstanceURL},
		LoadingLabel: "Loading embedlab… {progress}%",
		Resources:    web,
		// The loader's progress counts decoded bytes: compare them with
		// the uncompressed size, not the Content-Length of a .br answer.
		WasmContentLengthHeader: WasmLengthHeader,
	}
	h.Version = d.Settings.Version
	if h.Version == "" {
		h.Version = web.version(fmt.Sprint(h.Name, h.ShortName, h.Title, h.Description, h.Icon, h.Styles, h.Env, h.LoadingLabel), s.log)
	}
	s.settings.Version, s.settings.WebDir = h.Version, web.dir
	s.log.Info("web files", "dir", web.dir, "version", h.Version)
	e.Any("/*", s.notFoundPages(h))
	return s
}

// ServeHTTP serves the application.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness answers 200 when the workspace's discovery answers.
func (s *Server) readiness(c echo.Context) error {
	if s.ready != nil {
		if err := s.ready(c.Request().Context()); err != nil {
			return &problem{status: http.StatusServiceUnavailable, code: api.CodeUnreachable,
				message: "the workspace does not answer: " + err.Error(), fix: "check INSTANCE_URL and the network", cause: err}
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
