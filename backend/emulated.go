//go:build !noemulator

package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"embedlab/backend/appsetup"
	"embedlab/backend/appsetup/emulated"
	"embedlab/backend/config"
	"embedlab/shared/api"
)

// startWorkspace starts the bundled emulator and points cfg at it.
func startWorkspace(cfg *config.Config, stdout io.Writer, logger *slog.Logger) (*appsetup.Emulated, []api.DashboardPage, func(), error) {
	w, err := emulated.Start(cfg, stdout, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = w.Stop(sctx)
	}
	return w.Emulated, w.Pages, stop, nil
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
	em, err := emulated.StartEmulator(*statePath, *addr, *appsAddr, *idpAddr, *publicURL, *publicHost, *dashFile, *adminKey, logger)
	if err != nil {
		return err
	}
	emulated.PrintStarted(stdout, em, *adminKey != "")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return em.Shutdown(sctx)
}
