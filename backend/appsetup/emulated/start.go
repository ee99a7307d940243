package emulated

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"embedlab/backend/appsetup"
	"embedlab/backend/config"
	"embedlab/backend/emulator"
	"embedlab/backend/lab"
	"embedlab/backend/server"
	"embedlab/backend/workshop"
	"embedlab/shared/api"
)

// Workspace is the bundled emulator as `embedlab serve` starts it when no
// workspace is configured.
type Workspace struct {
	Emulator *emulator.Emulator
	// Emulated describes it to appsetup and assemble, fault lab included.
	Emulated *appsetup.Emulated
	// Pages are the configured dashboard's pages.
	Pages []api.DashboardPage

	mu     sync.Mutex
	stores []*workshop.Store // the workshop's progress, one per lab built
}

// Stop shuts the emulator down (requests in flight get until ctx ends) and
// closes the workshop's progress database of every lab built on it.
func (w *Workspace) Stop(ctx context.Context) error {
	err := w.Emulator.Shutdown(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stores {
		err = errors.Join(err, st.Close())
	}
	w.stores = nil
	return err
}

// Start starts the bundled emulator as cfg says (state file, address, room
// host, dashboard file, admin key), lets cfg's public URL embed, points cfg
// at it (instance URL, workspace, dashboard, service principal) and tells
// stdout where it listens. Stop ends it.
func Start(cfg *config.Config, stdout io.Writer, logger *slog.Logger) (*Workspace, error) {
	em, err := StartEmulator(cfg.EmulatorState, cfg.EmulatorAddr, "", "", "", cfg.RoomHost, cfg.DashboardFile, cfg.EmulatorAdminKey, logger)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Workspace, error) {
		_ = em.Shutdown(context.Background())
		return nil, err
	}
	if cfg.PublicURL != "" {
		// Browsers reach the app there: the workspace must let it embed.
		if err := em.AllowEmbeddingOrigin(cfg.PublicURL); err != nil {
			return fail(err)
		}
	}
	cfg.InstanceURL, cfg.WorkspaceID = em.URL(), em.WorkspaceID()
	if cfg.DashboardID, cfg.ClientID, cfg.ClientSecret, err = em.Embedding(); err != nil {
		return fail(err)
	}
	PrintStarted(stdout, em, cfg.EmulatorAdminKey != "")
	w := &Workspace{Emulator: em, Emulated: From(em)}
	for _, p := range em.Pages(cfg.DashboardID) {
		w.Pages = append(w.Pages, api.DashboardPage{Name: p.Name, DisplayName: p.DisplayName})
	}
	w.Emulated.Lab = func(forget func()) (server.Lab, server.Workshop, error) {
		appURL := cfg.PublicURL
		if appURL == "" {
			appURL = fmt.Sprintf("http://localhost:%d", cfg.Port)
		}
		l, ws, st, err := lab.Wire(em, lab.Options{ClientID: cfg.ClientID, DashboardID: cfg.DashboardID, StateFile: cfg.EmulatorState,
			ProgressFile: workshop.DefaultPath(cfg.DataDir), ExercisesDir: cfg.ExercisesDir, AppURL: appURL}, forget)
		if err != nil {
			return nil, nil, err
		}
		// Each app assembled on this workspace (the bench builds several)
		// builds its own lab: keep every store, so Stop closes them all.
		w.mu.Lock()
		w.stores = append(w.stores, st)
		w.mu.Unlock()
		return l, ws, nil
	}
	return w, nil
}

// StartEmulator starts an emulator: the state file's workspace (the
// bundled demo one when statePath is empty) on addr, with its Apps proxy
// and identity provider on their own addresses ("" picks them).
func StartEmulator(statePath, addr, appsAddr, idpAddr, publicURL, publicHost, dashboardFile, adminKey string, logger *slog.Logger) (*emulator.Emulator, error) {
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

// PrintStarted tells stdout where em's workspace, Apps proxy and identity
// provider listen, and how to use its admin routes (printAdminKey).
func PrintStarted(stdout io.Writer, em *emulator.Emulator, keyGiven bool) {
	fmt.Fprintf(stdout, "embedlab: workspace emulator on %s (workspace %s)\n", em.URL(), em.WorkspaceID())
	fmt.Fprintf(stdout, "embedlab: Apps proxy on %s (e.g. %s/api/whoami)\n", em.AppsURL(), em.AppURL("sales-api"))
	fmt.Fprintf(stdout, "embedlab: identity provider on %s (token federation)\n", em.IdPURL())
	printAdminKey(stdout, em, keyGiven)
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
