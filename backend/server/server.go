// Package server builds embedlab's Echo application: the JSON API under
// /api/ first, then the go-app handler that serves the Wasm frontend.
package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/app/ui"
)

// Settings are what the server needs to know about the workspace.
type Settings struct {
	InstanceURL string
	WorkspaceID string
	DashboardID string
	// Version is the go-app version; empty makes go-app derive a new one at
	// each start, so browsers pick up a rebuilt Wasm.
	Version string
}

// New returns the configured Echo application.
func New(s Settings) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Use(middleware.Recover())

	e.GET("/api/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})

	ui.Routes()
	e.Any("/*", echo.WrapHandler(&app.Handler{
		Name:         "embedlab",
		ShortName:    "embedlab",
		Title:        "embedlab",
		Description:  "Per-viewer scoped tokens for embedded Databricks AI/BI dashboards, and bearer tokens for Databricks Apps.",
		Icon:         app.Icon{Default: "/web/icon-192.png", Large: "/web/icon-512.png", SVG: "/web/icon.svg"},
		Styles:       []string{"/web/style.css"},
		Version:      s.Version,
		Env:          map[string]string{ui.EnvInstanceURL: s.InstanceURL},
		LoadingLabel: "Loading embedlab… {progress}%",
	}))
	return e
}
