package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"embedlab/backend/apps"
	"embedlab/backend/config"
	"embedlab/shared/api"
)

// Exit codes of `embedlab token` and `embedlab call`, for scripts.
const (
	exitOK        = 0
	exitAnswer    = 1 // the app answered with a non-2xx status
	exitUsage     = 2 // bad flags or settings
	exitNoToken   = 3 // the token source failed
	exitNoConnect = 4 // the app could not be reached
)

// exitError carries the process's exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the code for an error run returned.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitUsage
}

// tokenFlags are the flags that pick a token source.
type tokenFlags struct {
	source, profile, host, scopes string
	callbackPort                  int
	fed                           federationFlags // cli_federation.go
}

func (f *tokenFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.source, "source", "", "one of "+api.SourceIDs(true)+" (default: profile when -profile is set, else m2m)")
	fs.StringVar(&f.profile, "profile", "", "a profile of ~/.databrickscfg ($DATABRICKS_CONFIG_FILE)")
	fs.StringVar(&f.host, "host", "", "workspace URL for u2m, m2m and federated (default $DATABRICKS_HOST)")
	fs.StringVar(&f.scopes, "scopes", "all-apis", "u2m: the scopes to ask for, space separated (offline_access is added)")
	fs.IntVar(&f.callbackPort, "callback-port", 8020, "u2m: the local port the browser comes back to (8020 or 8040, as the databricks-cli client allows)")
	f.fed.register(fs)
}

// source builds the token source the flags name.
func (f *tokenFlags) build(ctx context.Context, getenv config.Getenv, stderr io.Writer) (apps.Source, error) {
	src := f.source
	if src == "" {
		src = api.SourceM2M
		if f.profile != "" {
			src = api.SourceProfile
		}
	}
	host := f.host
	if host == "" {
		host = getenv("DATABRICKS_HOST")
	}
	wrap := func(err error) error { return &exitError{exitNoToken, describe(err)} }
	switch src {
	case api.SourceNone:
		return nil, nil
	case api.SourceProfile:
		if f.profile == "" {
			return nil, &exitError{exitUsage, errors.New("-source profile needs -profile NAME")}
		}
		p, err := apps.ReadProfile(apps.ConfigFile(getenv), f.profile)
		if err != nil {
			return nil, wrap(err)
		}
		s, err := apps.NewProfile(ctx, p, apps.FindCLI())
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	case api.SourceM2M:
		s, err := apps.NewM2M(ctx, host, getenv("DATABRICKS_CLIENT_ID"), getenv("DATABRICKS_CLIENT_SECRET"))
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	case api.SourceAppToApp:
		s, err := apps.NewAppToApp(ctx, getenv)
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	case api.SourceU2M:
		s, err := cliU2M(ctx, host, strings.Fields(f.scopes), f.callbackPort, stderr)
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	case api.SourceFederated, api.SourceIdPDirect:
		return f.fed.build(ctx, src, host, getenv)
	}
	return nil, &exitError{exitUsage, fmt.Errorf("-source %q: use one of %s", src, api.SourceIDs(true))}
}

// cliU2M signs in as the Databricks CLI does: the public client
// databricks-cli, a browser sent to the workspace, and a one-shot local
// server on localhost:PORT that receives the code.
func cliU2M(ctx context.Context, host string, scopes []string, port int, stderr io.Writer) (apps.Source, error) {
	redirect := fmt.Sprintf("http://localhost:%d", port)
	u, err := apps.NewU2M(ctx, host, "databricks-cli", redirect)
	if err != nil {
		return nil, err
	}
	authURL, err := u.Start("cli", scopes, redirect)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("listen on localhost:%d for the sign-in's redirect: %w (try -callback-port 8040)", port, err)
	}
	done := make(chan error, 1)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if e := q.Get("error"); e != "" {
			fmt.Fprintf(w, "The workspace refused the sign-in: %s. You can close this tab.\n", e)
			done <- fmt.Errorf("the workspace refused the sign-in: %s: %s", e, q.Get("error_description"))
			return
		}
		if err := u.Finish(r.Context(), "cli", q.Get("state"), q.Get("code")); err != nil {
			fmt.Fprintf(w, "The sign-in failed: %v. You can close this tab.\n", err)
			done <- err
			return
		}
		fmt.Fprintln(w, "Signed in to embedlab's command. You can close this tab.")
		done <- nil
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(stderr, "Open this URL in a browser to sign in (waiting up to 5 minutes):\n\n  %s\n\n", authURL)
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
	case <-time.After(5 * time.Minute):
		return nil, errors.New("no sign-in within 5 minutes")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s, _ := u.Source("cli")
	return s, nil
}

// runToken prints a token as `databricks auth token` does.
func runToken(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf tokenFlags
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		return &exitError{exitUsage, err}
	}
	if tf.source == api.SourceNone {
		return &exitError{exitUsage, errors.New("-source none gives no token")}
	}
	src, err := tf.build(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	t, err := src.Token(ctx)
	if err != nil {
		return &exitError{exitNoToken, describe(err)}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(apps.CLIToken{AccessToken: t.AccessToken, TokenType: t.Type(), Expiry: t.Expiry})
}

// runCall sends one request to an app and prints the answer; on a
// refusal it prints the diagnosis to stderr and exits 1.
func runCall(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf tokenFlags
	tf.register(fs)
	method := fs.String("X", "GET", "HTTP method")
	appsProxy := fs.String("apps-proxy", "", "the workspace emulator's Apps proxy, localhost:PORT (default $EMBEDLAB_APPS_PROXY, else the port after a local -host's, as the emulator picks it): its *.localhost app URLs, on that port only, may get tokens")
	data := fs.String("d", "", "JSON body")
	verbose := fs.Bool("v", false, "print the status, the token's subject and scopes, and the diagnosis even on success")
	if err := fs.Parse(args); err != nil {
		return &exitError{exitUsage, err}
	}
	if fs.NArg() != 1 {
		return &exitError{exitUsage, errors.New("usage: embedlab call [flags] https://<app>-<workspace-id>.<region>.databricksapps.com/api/...")}
	}
	proxy, err := appsProxyDomain(*appsProxy, cmp.Or(tf.host, getenv("DATABRICKS_HOST")), getenv)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	// The page's rule: tokens go to apps only, i.e. *.databricksapps.com
	// and the emulator's Apps proxy on its own port, never any *.localhost.
	c := &apps.Caller{Domains: append([]string{}, apps.DefaultDomains...)}
	if proxy != "" {
		c.Domains = append(c.Domains, proxy)
	}
	c.Origins = roomAppOrigin(fs.Arg(0), cmp.Or(tf.host, getenv("DATABRICKS_HOST")))
	if _, err := c.CheckURL(fs.Arg(0)); err != nil {
		return &exitError{exitUsage, fmt.Errorf("%w (for another emulator Apps proxy, pass -apps-proxy localhost:PORT)", err)}
	}
	src, err := tf.build(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	r, err := c.Call(ctx, src, apps.Request{Method: strings.ToUpper(*method), URL: fs.Arg(0), Body: *data})
	if err != nil {
		var se *apps.SourceError
		if errors.As(err, &se) {
			return &exitError{exitNoToken, describe(err)}
		}
		return &exitError{exitUsage, err}
	}
	d := r.Diagnosis
	if r.Status == 0 {
		fmt.Fprintf(stderr, "%s\n  cause: %s\n  fix:   %s\n", d.Title, d.Cause, d.Fix)
		return &exitError{exitNoConnect, errors.New(d.Title)}
	}
	fmt.Fprint(stdout, r.Body)
	if !strings.HasSuffix(r.Body, "\n") {
		fmt.Fprintln(stdout)
	}
	if *verbose || !d.OK {
		fmt.Fprintf(stderr, "%s %s -> %d (%s)\n", r.Method, r.URL, r.Status, r.Duration.Round(time.Millisecond))
		if r.Claims != nil {
			fmt.Fprintf(stderr, "  token: sub %s, scope %q (%s)\n", r.Claims.Subject, r.Claims.Scope, r.SourceInfo)
		}
		fmt.Fprintf(stderr, "  %s\n  cause: %s\n", d.Title, d.Cause)
		if d.Fix != "" {
			fmt.Fprintf(stderr, "  fix:   %s\n", d.Fix)
		}
	}
	if !d.OK {
		return &exitError{exitAnswer, fmt.Errorf("%d: %s", r.Status, d.Title)}
	}
	return nil
}

// roomAppOrigin allows a classroom's emulated app, served in port form on
// the workspace's own plain-http host (http://192.168.1.20:8003 beside a
// workspace at http://192.168.1.20:8000): the token goes back to the host
// that issued it. Anything else is left to the app domains.
func roomAppOrigin(appURL, host string) []string {
	a, err1 := url.Parse(appURL)
	w, err2 := url.Parse(host)
	if err1 != nil || err2 != nil || a.Scheme != "http" || w.Scheme != "http" || a.Port() == "" || !strings.EqualFold(a.Hostname(), w.Hostname()) {
		return nil
	}
	return []string{"http://" + a.Host}
}

// appsProxyDomain is the app domain of the emulator's Apps proxy named by
// the flag or $EMBEDLAB_APPS_PROXY, else, for a workspace on the loopback
// address (the emulator), the port after the workspace's, where the
// emulator puts its Apps proxy (8000, 8001 with make run); "" for none. It
// is ".localhost:PORT", which CheckURL matches with the port, so a listener
// on another port of any *.localhost name never receives a token.
func appsProxyDomain(flagValue, host string, getenv config.Getenv) (string, error) {
	v := cmp.Or(flagValue, getenv("EMBEDLAB_APPS_PROXY"))
	if v == "" {
		u, err := url.Parse(host)
		if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			return "", nil
		}
		p, err := strconv.Atoi(u.Port())
		if err != nil || p >= 65535 {
			return "", nil
		}
		return ".localhost:" + strconv.Itoa(p+1), nil
	}
	hostPort := v
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		hostPort = u.Host
	}
	host, port, err := net.SplitHostPort(hostPort)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || (host != "localhost" && host != "127.0.0.1") {
		return "", fmt.Errorf("Apps proxy %q: write the emulator's Apps proxy as localhost:PORT (or its URL http://localhost:PORT)", v)
	}
	return ".localhost:" + port, nil
}

// describe adds a source error's fix to its message for the terminal.
func describe(err error) error {
	var se *apps.SourceError
	if errors.As(err, &se) && se.Fix != "" {
		return fmt.Errorf("%w\n  fix: %s", err, se.Fix)
	}
	return err
}
