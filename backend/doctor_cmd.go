package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"embedlab/backend/assemble"
	"embedlab/backend/config"
	"embedlab/backend/doctor"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
)

// exitChecksFailed is the exit code of `embedlab doctor` when a check
// fails, so the command can gate a deployment.
const exitChecksFailed = 1

// runDoctor is `embedlab doctor` (and `embedlab isolation`, which is
// doctor -isolation): the checklist for the configured workspace, real or
// emulated, as text or JSON. It exits 1 when a check fails, 2 on bad flags
// or settings.
func runDoctor(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer, isolation bool) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	iso := fs.Bool("isolation", isolation, "also run every dataset as each viewer and compare the rows")
	origin := fs.String("origin", "", "the app's origin, which the workspace must allow to embed (default $EMBEDLAB_PUBLIC_URL, else http://localhost:$PORT)")
	only := fs.String("viewers", "", "comma-separated viewer ids for the token checks and the isolation check (default: every viewer)")
	via := fs.String("via", "", "how the isolation check runs the datasets: sql (the SQL Statement Execution API, as the caller; the default on a real workspace) "+
		"or embed (the emulator's embed page query API, with each viewer's token; the default on the emulator)")
	stmtTimeout := fs.Duration("statement-timeout", 2*time.Minute, "how long one dataset's statement may run before it is cancelled")
	if err := fs.Parse(args); err != nil {
		return &exitError{exitUsage, err}
	}
	if fs.NArg() > 0 {
		return &exitError{exitUsage, fmt.Errorf("doctor takes no arguments, only flags (got %q)", fs.Arg(0))}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("configuration:\n%w", err)}
	}
	vs, vsErr := assemble.LoadViewers(cfg, func() (*session.Users, error) { return assemble.LoadUsers(cfg) })
	switch *via {
	case "", doctor.ViaStatements, doctor.ViaEmbedQuery:
	default:
		return &exitError{exitUsage, fmt.Errorf("-via %q: must be %q or %q", *via, doctor.ViaStatements, doctor.ViaEmbedQuery)}
	}
	if *stmtTimeout <= 0 {
		return &exitError{exitUsage, fmt.Errorf("-statement-timeout %s: must be positive, e.g. 2m", *stmtTimeout)}
	}
	opts := doctor.Options{Isolation: *iso, NameViewers: true, Origin: *origin, Via: *via}
	if opts.Origin == "" {
		opts.Origin = cfg.PublicURL
	}
	if opts.Origin == "" {
		opts.Origin = "http://localhost:" + strconv.Itoa(cfg.Port)
	}
	if *only != "" {
		if vs == nil {
			return &exitError{exitUsage, errors.New("-viewers: the viewers could not be loaded")}
		}
		all := vs.Viewers()
		for _, id := range strings.Split(*only, ",") {
			i := slices.IndexFunc(all, func(v viewers.Viewer) bool { return v.ID == strings.TrimSpace(id) })
			if i < 0 {
				return &exitError{exitUsage, fmt.Errorf("-viewers: no viewer %q in %s", strings.TrimSpace(id), assemble.ViewersSource(cfg))}
			}
			opts.Viewers = append(opts.Viewers, all[i])
		}
	}
	if cfg.Emulated {
		stop, err := doctorWorkspace(cfg, stderr)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		defer stop()
	}
	rep := doctor.New(doctor.Config{
		InstanceURL: cfg.InstanceURL, WorkspaceID: cfg.WorkspaceID, DashboardID: cfg.DashboardID,
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Emulated: cfg.Emulated,
		Viewers: vs, ViewersErr: vsErr, ViewersSource: assemble.ViewersSource(cfg), StatementTimeout: *stmtTimeout,
	}).Run(ctx, opts)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = doctor.WriteText(stdout, rep)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		n := 0
		for _, c := range rep.Checks {
			if c.Status == "fail" {
				n++
			}
		}
		return &exitError{exitChecksFailed, fmt.Errorf("doctor: %d of %d checks failed", n, len(rep.Checks))}
	}
	return nil
}
