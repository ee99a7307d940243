package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"embedlab/backend/apps"
	"embedlab/backend/broker"
	"embedlab/backend/config"
)

// runExchange does the three steps of a dashboard token for one external
// viewer, as embedlab's backend does, and prints every call (secrets and
// the broad token redacted), the scoped token and its decoded claims: the
// workshop's curl and jq steps with nothing but embedlab. The credentials
// come from the environment as for `embedlab token`.
func runExchange(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("exchange", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", "", "workspace URL (default $DATABRICKS_HOST)")
	dash := fs.String("dashboard", "", "the published dashboard's id (default $DASHBOARD_ID)")
	viewer := fs.String("viewer", "", "external_viewer_id: an opaque id, e.g. partner-42")
	value := fs.String("value", "", "external_value, e.g. EMEA")
	if err := fs.Parse(args); err != nil {
		return &exitError{exitUsage, err}
	}
	h, err := apps.NormalizeHost(cmp.Or(*host, getenv("DATABRICKS_HOST")))
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("workspace URL: %w (set -host or DATABRICKS_HOST)", err)}
	}
	id, secret := getenv("DATABRICKS_CLIENT_ID"), getenv("DATABRICKS_CLIENT_SECRET")
	d := cmp.Or(*dash, getenv("DASHBOARD_ID"))
	switch {
	case id == "" || secret == "":
		return &exitError{exitUsage, errors.New("set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET: the service principal's id and secret")}
	case d == "" || *viewer == "" || *value == "":
		return &exitError{exitUsage, errors.New("usage: embedlab exchange -dashboard ID -viewer EXTERNAL_VIEWER_ID -value EXTERNAL_VALUE")}
	}
	brk, err := broker.New(broker.Config{InstanceURL: h, ClientID: id, ClientSecret: secret})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	res, err := brk.Token(ctx, broker.Request{DashboardID: d, ExternalViewerID: *viewer, ExternalValue: *value})
	if err != nil {
		return &exitError{exitNoToken, fmt.Errorf("the exchange failed: %w", err)}
	}
	out, _ := json.MarshalIndent(map[string]any{
		"steps": res.Trace, "claims": res.Claims, "expires_at": res.ExpiresAt, "access_token": res.Token,
	}, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return nil
}
