// Package assemble builds the application from its configuration: the one
// wiring of users, viewers, sessions, token broker, fault lab, Apps page and
// doctor that `embedlab serve` runs, and that the tests and benchmarks
// which stand in for it (backend/testkit, backend/bench) run too, so a
// change to it reaches them all.
package assemble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"embedlab/backend/appsetup"
	"embedlab/backend/broker"
	"embedlab/backend/config"
	"embedlab/backend/doctor"
	"embedlab/backend/server"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// App is what `embedlab serve` serves for cfg: the "Call an app" page's
// token sources (appsetup.Setup), then the server (Server). emu and pages
// describe the emulator when cfg.Emulated, else they are nil.
func App(ctx context.Context, cfg *config.Config, getenv config.Getenv, emu *appsetup.Emulated, pages []api.DashboardPage, logger *slog.Logger) (*server.Server, error) {
	appsCfg, err := appsetup.Setup(ctx, cfg, emu, getenv)
	if err != nil {
		return nil, err
	}
	return Server(cfg, pages, appsCfg, emu, logger)
}

// Server assembles the server from the configuration.
func Server(cfg *config.Config, pages []api.DashboardPage, appsCfg *server.Apps, emu *appsetup.Emulated, logger *slog.Logger) (*server.Server, error) {
	users, err := LoadUsers(cfg)
	if err != nil {
		return nil, err
	}
	vs, err := LoadViewers(cfg, func() (*session.Users, error) { return users, nil })
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(sessionOptions(cfg, users))
	if err != nil {
		return nil, err
	}
	brk, err := broker.New(broker.Config{InstanceURL: cfg.InstanceURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Margin: cfg.RefreshMargin, Rate: cfg.UpstreamRate})
	if err != nil {
		return nil, err
	}
	var lab server.Lab
	var workshop server.Workshop
	if emu != nil && emu.Lab != nil {
		if lab, workshop, err = emu.Lab(brk.Forget); err != nil {
			return nil, err
		}
	}
	if sessions.KeyGenerated() {
		logger.Info("no EMBEDLAB_SESSION_KEY: a new session key was made, so sessions end when embedlab restarts")
	}
	return server.New(server.Deps{
		Logger: logger, Sessions: sessions, Viewers: vs, Broker: brk, Ready: workspaceReady(cfg.InstanceURL), Apps: appsCfg,
		Lab: lab, Workshop: workshop,
		Settings: server.Settings{
			Secure:      SecureOrigin(cfg),
			InstanceURL: cfg.InstanceURL, WorkspaceID: cfg.WorkspaceID, DashboardID: cfg.DashboardID,
			Emulated: cfg.Emulated, DemoUsers: cfg.Emulated && cfg.UsersFile == "", RefreshMargin: cfg.RefreshMargin, Pages: pages,
			WebDir: cfg.WebDir,
		},
		// The /doctor page: the server's own settings and viewers.
		Doctor: doctor.New(doctor.Config{
			InstanceURL: cfg.InstanceURL, WorkspaceID: cfg.WorkspaceID, DashboardID: cfg.DashboardID,
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Emulated: cfg.Emulated,
			Viewers: vs, ViewersSource: ViewersSource(cfg),
		}),
	}), nil
}

// LoadUsers reads the login users: the configured file's, else the bundled
// demo users.
func LoadUsers(cfg *config.Config) (*session.Users, error) {
	if cfg.UsersFile == "" {
		return session.DefaultUsers(), nil
	}
	return session.LoadUsers(cfg.UsersFile)
}

// LoadViewers reads the external viewers as configured: a viewers file,
// the sample apps' single viewer (open to every login user, so users is
// called only then), or the bundled demo viewers.
func LoadViewers(cfg *config.Config, users func() (*session.Users, error)) (*viewers.Set, error) {
	switch {
	case cfg.ViewersFile != "":
		return viewers.Load(cfg.ViewersFile)
	case cfg.ExternalViewerID != "":
		u, err := users()
		if err != nil {
			return nil, err
		}
		return viewers.FromEnv(cfg.ExternalViewerID, cfg.ExternalValue, u.Names())
	}
	return viewers.Default(), nil
}

// ViewersSource names where the viewers come from, for messages.
func ViewersSource(cfg *config.Config) string {
	switch {
	case cfg.ViewersFile != "":
		return cfg.ViewersFile
	case cfg.ExternalViewerID != "":
		return "EXTERNAL_VIEWER_ID and EXTERNAL_VALUE"
	}
	return "viewers.json (bundled)"
}

// SecureOrigin is true when browsers reach embedlab over HTTPS: an https
// EMBEDLAB_PUBLIC_URL, or inside a Databricks App (always served over
// HTTPS by the Apps proxy). The session cookie is then Secure and pages
// send HSTS.
func SecureOrigin(cfg *config.Config) bool {
	return strings.HasPrefix(cfg.PublicURL, "https://") || cfg.AppName != ""
}

// sessionOptions configures the sessions: Secure cookies over HTTPS, and,
// when the key is configured (so sessions survive a restart), sign-outs
// kept in a file of the data folder so they survive it too.
func sessionOptions(cfg *config.Config, users *session.Users) session.Options {
	o := session.Options{Key: cfg.SessionKey, Users: users, Secure: SecureOrigin(cfg)}
	if len(cfg.SessionKey) > 0 {
		o.RevocationFile = filepath.Join(DataDir(cfg), "sessions.json")
	}
	return o
}

// DataDir is EMBEDLAB_DATA_DIR, else embedlab's folder in the user's cache.
func DataDir(cfg *config.Config) string {
	if cfg.DataDir != "" {
		return cfg.DataDir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "embedlab")
	}
	return filepath.Join(os.TempDir(), "embedlab")
}

// workspaceReady checks that the workspace's OIDC discovery answers.
func workspaceReady(instanceURL string) func(ctx context.Context) error {
	client := &http.Client{Timeout: 3 * time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, instanceURL+"/oidc/.well-known/oauth-authorization-server", nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return errors.New("discovery did not answer")
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("discovery answered %d", res.StatusCode)
		}
		return nil
	}
}
