// Command embedlab runs the embedlab backend, or the workspace emulator alone.
//
//	embedlab [serve]            the app on :3000 (and the emulator when no workspace is configured)
//	embedlab emulator [flags]   only the workspace emulator
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"embedlab/backend/appsetup"
	"embedlab/backend/assemble"
	"embedlab/backend/config"
	"embedlab/backend/httpserve"
	"embedlab/shared/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "embedlab:", err)
		os.Exit(exitCode(err))
	}
}

// shutdownGrace is how long requests in flight get after SIGTERM; Databricks
// Apps stop a process that takes more than 15 s.
const shutdownGrace = 10 * time.Second

func run(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, logger)
	case "emulator":
		return runEmulator(ctx, args, getenv, stdout, logger)
	case "token":
		return runToken(ctx, args, getenv, stdout, stderr)
	case "call":
		return runCall(ctx, args, getenv, stdout, stderr)
	case "exchange": // the three steps for one viewer (exchange_cmd.go)
		return runExchange(ctx, args, getenv, stdout, stderr)
	case "room": // a classroom's users file (room_cmd.go)
		return runRoom(args, stdout, stderr)
	case "doctor", "isolation": // isolation is doctor -isolation
		return runDoctor(ctx, args, getenv, stdout, stderr, cmd == "isolation")
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

// usage is the help text; the token sources are the shared table's.
var usage = strings.Replace(usageTemplate, "{{sources}}", strings.ReplaceAll(api.SourceIDs(true), ", ", " | "), 1)

const usageTemplate = `usage:
  embedlab [serve]              serve the app (PORT, default 3000); with no workspace
                                settings it starts the workspace emulator as well
  embedlab emulator [flags]     serve only the workspace emulator
      -addr 127.0.0.1:8000      where to listen
      -apps-addr 127.0.0.1:8001 where the Apps proxy (Databricks Apps' own origin) listens
      -idp-addr 127.0.0.1:8002  where the emulated identity provider (token federation) listens
      -state FILE               emulator state (default: the bundled demo workspace)
      -url URL                  public URL, when it differs from http://<addr>
      -dashboard FILE           a .lvdash.json for every dashboard whose state names no file
  embedlab token [flags]        print {access_token, token_type, expiry} as "databricks auth token" does
  embedlab call [flags] URL     call an app's /api/ route with a token; on a refusal, print the diagnosis
      -source S                 {{sources}} (none: call only)
      -profile P                a profile of ~/.databrickscfg
      -host URL                 workspace URL (default $DATABRICKS_HOST; m2m also reads
                                $DATABRICKS_CLIENT_ID and $DATABRICKS_CLIENT_SECRET)
      -scopes "all-apis sql"    u2m: the scopes to ask for
      -idp URL -idp-user NAME   federated, idp-direct: the identity provider's token for a user
                                ($EMBEDLAB_IDP_PASSWORD) or, with -idp-client ID, a workload
                                ($EMBEDLAB_IDP_CLIENT_SECRET); else -oidc-token-file FILE,
                                $DATABRICKS_OIDC_TOKEN or $DATABRICKS_OIDC_TOKEN_FILEPATH
      -client-id SP             federated: exchange for this service principal (workload
                                identity federation); without it, account-wide
      -X METHOD -d JSON -v      call: method, body, verbose
      -apps-proxy localhost:PORT call: the emulator's Apps proxy (default $EMBEDLAB_APPS_PROXY, else the
                                port after a local -host's); tokens go only to *.databricksapps.com
                                and, on that port only, *.localhost
      exit codes: 0 ok, 1 the app refused, 2 usage, 3 no token, 4 app unreachable
  embedlab exchange -dashboard ID -viewer V -value X
                                the three steps of a dashboard token for one viewer, printed
                                (DATABRICKS_HOST, DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET)
  embedlab room [flags]         write a classroom's users file: a login and join code per participant
      -participants 30 | -names a,b   who (default p01..p30); -trainer admin; -out room-users.json
  embedlab doctor [flags]       check the configured workspace (real or emulated) and print a
                                checklist: pass, fail, warn or skip, each with the reason and fix
      -json                     the report as JSON
      -isolation                also run every dataset as each viewer and compare the rows
                                (embedlab isolation is the same)
      -origin URL               the app origin to check (default http://localhost:$PORT)
      -viewers a,b              the viewers to act as (default: all)
      exit codes: 0 no check failed, 1 a check failed, 2 usage or settings
`

func serve(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer, logger *slog.Logger) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments; configure it with environment variables (see README.md)")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	var emu *appsetup.Emulated
	var pages []api.DashboardPage // known in emulator mode only
	if cfg.Emulated {
		var stop func()
		emu, pages, stop, err = startWorkspace(cfg, stdout, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	logger.Info("configuration", "config", cfg.String())

	e, err := assemble.App(ctx, cfg, getenv, emu, pages, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w (set PORT to use another)", cfg.Port, err)
	}
	srv := httpserve.New(e) // time limits for headers, bodies and answers
	if cfg.RoomHost != "" {
		fmt.Fprintf(stdout, "embedlab: app on %s (a room: participants open this URL; EMBEDLAB_ROOM_HOST=%s)\n", cfg.PublicURL, cfg.RoomHost)
	} else {
		fmt.Fprintf(stdout, "embedlab: app on http://localhost:%d\n", ln.Addr().(*net.TCPAddr).Port)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(httpserve.Listener(ln, logger)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
