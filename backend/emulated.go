//go:build !noemulator

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"embedlab/backend/appsetup"
	"embedlab/backend/appsetup/emulated"
	"embedlab/backend/config"
	"embedlab/backend/emulator"
	"embedlab/backend/lab"
	"embedlab/backend/server"
	"embedlab/backend/workshop"
	"embedlab/shared/api"
)

// startWorkspace starts the bundled emulator and points cfg at it.
func startWorkspace(cfg *config.Config, stdout io.Writer, logger *slog.Logger) (*appsetup.Emulated, []api.DashboardPage, func(), error) {
	em, err := startEmulator(cfg.EmulatorState, cfg.EmulatorAddr, "", "", "", cfg.RoomHost, cfg.DashboardFile, cfg.EmulatorAdminKey, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.PublicURL != "" {
		// Browsers reach the app there: the workspace must let it embed.
		if err := em.AllowEmbeddingOrigin(cfg.PublicURL); err != nil {
			_ = em.Shutdown(context.Background())
			return nil, nil, nil, err
		}
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = em.Shutdown(sctx)
	}
	cfg.InstanceURL, cfg.WorkspaceID = em.URL(), em.WorkspaceID()
	if cfg.DashboardID, cfg.ClientID, cfg.ClientSecret, err = em.Embedding(); err != nil {
		stop()
		return nil, nil, nil, err
	}
	fmt.Fprintf(stdout, "embedlab: workspace emulator on %s (workspace %s)\n", em.URL(), em.WorkspaceID())
	fmt.Fprintf(stdout, "embedlab: Apps proxy on %s (e.g. %s/api/whoami)\n", em.AppsURL(), em.AppURL("sales-api"))
	fmt.Fprintf(stdout, "embedlab: identity provider on %s (token federation)\n", em.IdPURL())
	printAdminKey(stdout, em, cfg.EmulatorAdminKey != "")
	var pages []api.DashboardPage
	for _, p := range em.Pages(cfg.DashboardID) {
		pages = append(pages, api.DashboardPage{Name: p.Name, DisplayName: p.DisplayName})
	}
	emu := emulated.From(em)
	emu.Lab = func(forget func()) (server.Lab, server.Workshop, error) {
		appURL := cfg.PublicURL
		if appURL == "" {
			appURL = fmt.Sprintf("http://localhost:%d", cfg.Port)
		}
		l, ws, _, err := lab.Wire(em, lab.Options{ClientID: cfg.ClientID, DashboardID: cfg.DashboardID, StateFile: cfg.EmulatorState,
			ProgressFile: workshop.DefaultPath(cfg.DataDir), ExercisesDir: cfg.ExercisesDir, AppURL: appURL}, forget)
		if err != nil {
			return nil, nil, err
		}
		return l, ws, nil
	}
	return emu, pages, stop, nil
}

func runEmulator(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "where to listen")
	appsAddr := fs.String("apps-addr", "127.0.0.1:8001", "where the Apps proxy (Databricks Apps' own origin) listens")
	idpAddr := fs.String("idp-addr", "127.0.0.1:8002", "where the emulated identity provider (token federation) listens")
	statePath := fs.String("state", "", "emulator state file (default: the bundled demo workspace)")
	publicURL := fs.String("url", "", "public URL, when it differs from http://<addr>")
	publicHost := fs.String("public-host", "", "a classroom: the host name or address other machines use; URLs name it and each app gets its own port")
	dashFile := fs.String("dashboard", "", "a .lvdash.json for every dashboard whose state names no file")
	adminKey := fs.String("admin-key", "", "the key the state-changing /emulator/* routes require (default: $"+config.EnvEmulatorAdminKey+", else a random one printed here)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *adminKey == "" {
		*adminKey = getenv(config.EnvEmulatorAdminKey)
	}
	em, err := startEmulator(*statePath, *addr, *appsAddr, *idpAddr, *publicURL, *publicHost, *dashFile, *adminKey, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "embedlab: workspace emulator on %s (workspace %s)\n", em.URL(), em.WorkspaceID())
	fmt.Fprintf(stdout, "embedlab: Apps proxy on %s (e.g. %s/api/whoami)\n", em.AppsURL(), em.AppURL("sales-api"))
	fmt.Fprintf(stdout, "embedlab: identity provider on %s (token federation)\n", em.IdPURL())
	printAdminKey(stdout, em, *adminKey != "")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return em.Shutdown(sctx)
}

// printAdminKey tells the person who started the emulator, once, on their
// terminal (never a log line) how to use its admin routes: a key they gave
// is not repeated.
func printAdminKey(stdout io.Writer, em *emulator.Emulator, given bool) {
	if given {
		fmt.Fprintf(stdout, "embedlab: emulator admin routes (/emulator/faults, clock, ...) take the key from $%s or -admin-key\n", config.EnvEmulatorAdminKey)
		return
	}
	fmt.Fprintf(stdout, "embedlab: emulator admin key (keep it to yourself; send it as Authorization: Bearer <key> to change /emulator/faults, clock, ...): %s\n", em.AdminKey())
}

func startEmulator(statePath, addr, appsAddr, idpAddr, publicURL, publicHost, dashboardFile, adminKey string, logger *slog.Logger) (*emulator.Emulator, error) {
	var state *emulator.State
	if statePath != "" {
		s, err := emulator.LoadState(statePath)
		if err != nil {
			return nil, err
		}
		state = s
	}
	return emulator.Start(emulator.Options{State: state, BaseURL: publicURL, Logger: logger, DashboardFile: dashboardFile, AppsAddr: appsAddr, IdPAddr: idpAddr,
		PublicHost: publicHost, AdminKey: adminKey}, addr)
}
