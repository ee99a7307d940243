//go:build !noemulator

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"embedlab/backend/config"
	"embedlab/backend/emulator"
)

// doctorWorkspace points cfg at the workspace `embedlab doctor` checks in
// emulator mode: the emulator already running at EMBEDLAB_EMULATOR_ADDR
// (make run's, faults and all), else one started for this run.
func doctorWorkspace(cfg *config.Config, stderr io.Writer) (stop func(), err error) {
	running := "http://" + cfg.EmulatorAddr
	if emulatorAnswers(running) {
		state := emulator.DefaultState()
		if cfg.EmulatorState != "" {
			if state, err = emulator.LoadState(cfg.EmulatorState); err != nil {
				return nil, err
			}
		}
		if err := embeddingFromState(cfg, state); err != nil {
			return nil, err
		}
		cfg.InstanceURL = running
		fmt.Fprintf(stderr, "embedlab doctor: checking the emulator running at %s (credentials from its state file)\n", running)
		return func() {}, nil
	}
	var state *emulator.State
	if cfg.EmulatorState != "" {
		if state, err = emulator.LoadState(cfg.EmulatorState); err != nil {
			return nil, err
		}
	}
	em, err := emulator.Start(emulator.Options{State: state, DashboardFile: cfg.DashboardFile, AppsAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = em.Shutdown(ctx)
	}
	cfg.InstanceURL, cfg.WorkspaceID = em.URL(), em.WorkspaceID()
	if cfg.DashboardID, cfg.ClientID, cfg.ClientSecret, err = em.Embedding(); err != nil {
		stop()
		return nil, err
	}
	fmt.Fprintf(stderr, "embedlab doctor: no emulator answers at %s, so one was started for this run at %s\n", running, em.URL())
	return stop, nil
}

// emulatorAnswers is true when an embedlab emulator serves url.
func emulatorAnswers(url string) bool {
	c := &http.Client{Timeout: time.Second}
	res, err := c.Get(url + "/emulator/faults")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// embeddingFromState picks what the app would use from a state file: the
// first published dashboard that a service principal may run.
func embeddingFromState(cfg *config.Config, s *emulator.State) error {
	cfg.WorkspaceID = s.WorkspaceID
	for _, d := range s.Dashboards {
		for _, sp := range s.ServicePrincipals {
			if d.Published && len(d.CanRun) > 0 && sp.ApplicationID == d.CanRun[0] {
				cfg.DashboardID, cfg.ClientID, cfg.ClientSecret = d.ID, sp.ApplicationID, sp.Secret
				return nil
			}
		}
	}
	return fmt.Errorf("the emulator's state has no published dashboard that a service principal may run")
}
