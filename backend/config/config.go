// Package config reads embedlab's settings once at start from the
// environment, validates them, and prints them with secrets redacted.
//
// The variable names are those of Databricks' own embedding sample apps
// (INSTANCE_URL, WORKSPACE_ID, ...), with the Databricks tools' spelling
// (DATABRICKS_HOST, DATABRICKS_CLIENT_ID, ...) accepted as well. With no
// workspace configured, embedlab starts its bundled workspace emulator.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is embedlab's configuration.
type Config struct {
	// Port the app listens on (PORT, default 3000).
	Port int

	// Emulated is true when no workspace is configured: the emulator is
	// started and the workspace settings below come from its state.
	Emulated bool
	// EmulatorAddr is where the emulator listens (EMBEDLAB_EMULATOR_ADDR).
	EmulatorAddr string
	// EmulatorState is the emulator's state file; empty for the bundled one.
	EmulatorState string
	// EmulatorAdminKey guards the emulator's state-changing /emulator/*
	// routes (EMBEDLAB_EMULATOR_ADMIN_KEY); empty means a random one. A
	// secret: String never prints it.
	EmulatorAdminKey string
	// DashboardFile is the emulator's .lvdash.json (EMBEDLAB_DASHBOARD_FILE);
	// empty for the bundled sample.
	DashboardFile string
	// DataDir keeps the workshop's progress (EMBEDLAB_DATA_DIR); empty
	// means the user's cache folder.
	DataDir string
	// ExercisesDir holds a trainer's own exercise files
	// (EMBEDLAB_EXERCISES_DIR), added to the bundled ones.
	ExercisesDir string

	InstanceURL  string
	WorkspaceID  string
	DashboardID  string
	ClientID     string
	ClientSecret string

	// UsersFile lists the login users (EMBEDLAB_USERS_FILE); empty for the
	// bundled demo users.
	UsersFile string
	// ViewersFile lists the external viewers and who may act as them
	// (EMBEDLAB_VIEWERS_FILE); empty for the bundled demo viewers.
	ViewersFile string
	// ExternalViewerID and ExternalValue are the single viewer of the
	// sample apps (EXTERNAL_VIEWER_ID, EXTERNAL_VALUE), open to every user.
	ExternalViewerID string
	ExternalValue    string
	// SessionKey signs session cookies (EMBEDLAB_SESSION_KEY, at least 32
	// bytes); empty makes a new key at each start.
	SessionKey []byte
	// RefreshMargin is how long before expiry a scoped token is replaced
	// (EMBEDLAB_REFRESH_MARGIN, default 5m).
	RefreshMargin time.Duration
	// UpstreamRate bounds dashboard-token work per second
	// (EMBEDLAB_UPSTREAM_RATE, default 20, the workspace's own limit).
	UpstreamRate float64

	// ListenHost is where the app listens: all interfaces inside a
	// Databricks App (DATABRICKS_APP_PORT set), else every interface as
	// before ("").
	ListenHost string
	// AppName is set inside a Databricks App (DATABRICKS_APP_NAME): app to
	// app calls use the runtime's service principal, and CLI profiles are off.
	AppName string
	// OAuthClientID is the public OAuth client for U2M sign-ins with a real
	// workspace (EMBEDLAB_OAUTH_CLIENT_ID); the emulator has its own.
	OAuthClientID string
	// PublicURL is where browsers reach embedlab (EMBEDLAB_PUBLIC_URL),
	// for the U2M callback; default http://localhost:PORT, or
	// http://ROOM_HOST:PORT in a room.
	PublicURL string
	// RoomHost is the host name or address participants' machines reach
	// this one by (EMBEDLAB_ROOM_HOST), for a classroom: the app, the
	// emulator, its Apps proxy and identity provider listen where that
	// host is reachable and every URL they hand out names it. Empty for
	// local use (loopback only, as always).
	RoomHost string
	// WebDir is the folder served under /web/ (app.wasm and its encoded
	// copies). No variable sets it: empty, serve finds web/ in the working
	// directory or beside the executable; the bench's -web sets it.
	WebDir string
}

// EnvEmulatorAdminKey names the emulator's admin key.
const EnvEmulatorAdminKey = "EMBEDLAB_EMULATOR_ADMIN_KEY"

// Getenv looks a variable up; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load reads and validates the configuration. The error has one line per
// problem, each saying how to fix it.
func Load(getenv Getenv) (*Config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	c := &Config{Port: 3000, EmulatorAddr: "127.0.0.1:8000", RefreshMargin: 5 * time.Minute, UpstreamRate: 20}
	if p := getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			bad("PORT=%q: must be a port number from 1 to 65535", p)
		}
		c.Port = n
	}
	if p := getenv("DATABRICKS_APP_PORT"); p != "" {
		// Inside a Databricks App the runtime says where to listen.
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			bad("DATABRICKS_APP_PORT=%q: must be a port number", p)
		}
		c.Port, c.ListenHost = n, "0.0.0.0"
	}
	c.AppName = getenv("DATABRICKS_APP_NAME")
	c.OAuthClientID = getenv("EMBEDLAB_OAUTH_CLIENT_ID")
	c.PublicURL = strings.TrimRight(getenv("EMBEDLAB_PUBLIC_URL"), "/")
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
			bad("EMBEDLAB_PUBLIC_URL=%q: must be an origin such as https://embedlab.example.com", c.PublicURL)
		}
	}
	if h := getenv("EMBEDLAB_ROOM_HOST"); h != "" {
		if err := checkRoomHost(h); err != nil {
			bad("EMBEDLAB_ROOM_HOST=%q: %v", h, err)
		} else {
			c.roomDefaults(h)
		}
	}
	if a := getenv("EMBEDLAB_EMULATOR_ADDR"); a != "" {
		c.EmulatorAddr = a
	}
	c.EmulatorState = getenv("EMBEDLAB_EMULATOR_STATE")
	c.EmulatorAdminKey = getenv(EnvEmulatorAdminKey)
	c.DashboardFile = getenv("EMBEDLAB_DASHBOARD_FILE")
	c.DataDir, c.ExercisesDir = getenv("EMBEDLAB_DATA_DIR"), getenv("EMBEDLAB_EXERCISES_DIR")

	c.InstanceURL = pick(getenv, &errs, "INSTANCE_URL", "DATABRICKS_HOST")
	c.ClientID = pick(getenv, &errs, "SERVICE_PRINCIPAL_ID", "DATABRICKS_CLIENT_ID")
	c.ClientSecret = pick(getenv, &errs, "SERVICE_PRINCIPAL_SECRET", "DATABRICKS_CLIENT_SECRET")
	c.WorkspaceID = getenv("WORKSPACE_ID")
	c.DashboardID = getenv("DASHBOARD_ID")

	c.UsersFile = getenv("EMBEDLAB_USERS_FILE")
	c.ViewersFile = getenv("EMBEDLAB_VIEWERS_FILE")
	c.ExternalViewerID, c.ExternalValue = getenv("EXTERNAL_VIEWER_ID"), getenv("EXTERNAL_VALUE")
	switch {
	case (c.ExternalViewerID == "") != (c.ExternalValue == ""):
		bad("EXTERNAL_VIEWER_ID and EXTERNAL_VALUE go together: set both for a single viewer, or neither")
	case c.ExternalViewerID != "" && c.ViewersFile != "":
		bad("EXTERNAL_VIEWER_ID and EMBEDLAB_VIEWERS_FILE both name the viewers: use one")
	}
	if k := getenv("EMBEDLAB_SESSION_KEY"); k != "" {
		if len(k) < 32 {
			bad("EMBEDLAB_SESSION_KEY is %d bytes: it must be at least 32 (make one with: openssl rand -base64 48)", len(k))
		}
		c.SessionKey = []byte(k)
	}
	if m := getenv("EMBEDLAB_REFRESH_MARGIN"); m != "" {
		d, err := time.ParseDuration(m)
		if err != nil || d < 10*time.Second || d > 30*time.Minute {
			bad("EMBEDLAB_REFRESH_MARGIN=%q: must be a duration from 10s to 30m, e.g. 5m", m)
		}
		c.RefreshMargin = d
	}
	if r := getenv("EMBEDLAB_UPSTREAM_RATE"); r != "" {
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || v <= 0 || v > 1000 {
			bad("EMBEDLAB_UPSTREAM_RATE=%q: must be a number of calls per second above 0, at most 1000", r)
		}
		c.UpstreamRate = v
	}

	set := map[string]string{
		"INSTANCE_URL (or DATABRICKS_HOST)": c.InstanceURL,
		"WORKSPACE_ID":                      c.WorkspaceID,
		"DASHBOARD_ID":                      c.DashboardID,
		"SERVICE_PRINCIPAL_ID (or DATABRICKS_CLIENT_ID)":         c.ClientID,
		"SERVICE_PRINCIPAL_SECRET (or DATABRICKS_CLIENT_SECRET)": c.ClientSecret,
	}
	any := false
	for _, v := range set {
		any = any || v != ""
	}
	c.Emulated = !any
	if any {
		for _, name := range []string{"INSTANCE_URL (or DATABRICKS_HOST)", "WORKSPACE_ID", "DASHBOARD_ID",
			"SERVICE_PRINCIPAL_ID (or DATABRICKS_CLIENT_ID)", "SERVICE_PRINCIPAL_SECRET (or DATABRICKS_CLIENT_SECRET)"} {
			if set[name] == "" {
				bad("%s is not set: a real workspace needs all five workspace settings (unset them all to use the emulator)", name)
			}
		}
		if c.InstanceURL != "" {
			if norm, err := normalizeURL(c.InstanceURL); err != nil {
				bad("INSTANCE_URL=%q: %v", c.InstanceURL, err)
			} else {
				c.InstanceURL = norm
			}
		}
		for _, kv := range [][2]string{{"EMBEDLAB_EMULATOR_STATE", c.EmulatorState}, {"EMBEDLAB_DASHBOARD_FILE", c.DashboardFile}} {
			if name, v := kv[0], kv[1]; v != "" {
				bad("%s is set but a real workspace is configured: it only applies to the emulator (unset it, or unset the workspace settings)", name)
			}
		}
		if c.WorkspaceID != "" && !allDigits(c.WorkspaceID) {
			bad("WORKSPACE_ID=%q: must be the numeric workspace id (the o= parameter of the workspace URL)", c.WorkspaceID)
		}
	}
	if c.AppName != "" && c.UsersFile == "" && getenv("EMBEDLAB_ALLOW_DEMO_USERS") != "true" {
		bad("running as the Databricks App %q with the bundled demo users, whose passwords are public: set EMBEDLAB_USERS_FILE to your own users file (or EMBEDLAB_ALLOW_DEMO_USERS=true for a workshop)", c.AppName)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// pick reads a setting spelled two ways; both set and different is an error.
func pick(getenv Getenv, errs *[]error, name, alias string) string {
	a, b := getenv(name), getenv(alias)
	if a != "" && b != "" && a != b {
		*errs = append(*errs, fmt.Errorf("%s and %s are both set and differ: set only one", name, alias))
	}
	if a != "" {
		return a
	}
	return b
}

func normalizeURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s // the Databricks tools accept a bare host name
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("must be the workspace URL, e.g. https://adb-123.4.azuredatabricks.net")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return "", errors.New("must be the workspace URL only, without a path or query")
	}
	return u.Scheme + "://" + u.Host, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// String prints the configuration with the secret redacted.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "port=%d", c.Port)
	if c.Emulated {
		state := c.EmulatorState
		if state == "" {
			state = "bundled"
		}
		fmt.Fprintf(&b, " workspace=emulator(%s, state %s)", c.EmulatorAddr, state)
	} else {
		fmt.Fprintf(&b, " instance=%s workspace_id=%s", c.InstanceURL, c.WorkspaceID)
	}
	if c.RoomHost != "" {
		fmt.Fprintf(&b, " room=%s public_url=%s", c.RoomHost, c.PublicURL)
	}
	// Not even the ends of the secret are printed: saying it is set is enough.
	secret := "<not set>"
	if c.ClientSecret != "" {
		secret = "<set>"
	}
	fmt.Fprintf(&b, " dashboard_id=%s client_id=%s client_secret=%s", c.DashboardID, c.ClientID, secret)
	return b.String()
}
