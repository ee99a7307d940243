//go:build noemulator

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"embedlab/backend/appsetup"
	"embedlab/backend/config"
	"embedlab/shared/api"
)

// This build leaves the emulator out (its SQLite engine alone would put the
// binary over Databricks Apps' 10 MB file limit): it serves real workspaces.
var errNoEmulator = errors.New("this embedlab was built without the workspace emulator (-tags noemulator): set INSTANCE_URL, WORKSPACE_ID, DASHBOARD_ID, SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET")

func startWorkspace(*config.Config, io.Writer, *slog.Logger) (*appsetup.Emulated, []api.DashboardPage, func(), error) {
	return nil, nil, nil, errNoEmulator
}

func runEmulator(context.Context, []string, config.Getenv, io.Writer, *slog.Logger) error {
	return errNoEmulator
}
