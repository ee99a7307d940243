package apps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"embedlab/shared/api"
)

// Profile is one section of ~/.databrickscfg.
type Profile struct {
	Name         string
	Host         string
	AuthType     string
	ClientID     string
	ClientSecret string
	HasToken     bool // a personal access token: Apps do not take those
	File         string
}

// ConfigFile is where the Databricks CLI keeps its profiles:
// $DATABRICKS_CONFIG_FILE, else ~/.databrickscfg.
func ConfigFile(getenv func(string) string) string {
	if p := getenv("DATABRICKS_CONFIG_FILE"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".databrickscfg"
	}
	return filepath.Join(home, ".databrickscfg")
}

// ReadProfile reads one profile of an INI file as the CLI writes it.
// Values of [DEFAULT] apply to every profile unless it sets its own.
func ReadProfile(path, name string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &SourceError{Input: true, Kind: api.SourceProfile, Message: "cannot read the Databricks CLI's profiles", Err: err,
			Fix: "run `databricks auth login --host <workspace URL> --profile " + name + "` (it writes " + path + ")"}
	}
	sections := map[string]map[string]string{}
	var order []string
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, &SourceError{Kind: api.SourceProfile, Message: fmt.Sprintf("%s:%d: %q is not a [section] line", path, n, line), Fix: "fix the file"}
			}
			cur = strings.TrimSpace(line[1 : len(line)-1])
			if sections[cur] == nil {
				sections[cur] = map[string]string{}
				order = append(order, cur)
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == "" {
				return nil, &SourceError{Kind: api.SourceProfile, Message: fmt.Sprintf("%s:%d: expected key = value inside a [section]", path, n), Fix: "fix the file"}
			}
			sections[cur][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	sec, ok := sections[name]
	if !ok {
		return nil, &SourceError{Input: true, Kind: api.SourceProfile, Message: fmt.Sprintf("%s has no profile %q (it has %s)", path, name, strings.Join(order, ", ")),
			Fix: "run `databricks auth login --host <workspace URL> --profile " + name + "`, or pick one of the profiles it has"}
	}
	get := func(k string) string {
		if v := sec[k]; v != "" {
			return v
		}
		return sections["DEFAULT"][k]
	}
	p := &Profile{Name: name, Host: get("host"), AuthType: get("auth_type"), ClientID: get("client_id"),
		ClientSecret: get("client_secret"), HasToken: get("token") != "", File: path}
	if p.Host == "" {
		return nil, &SourceError{Input: true, Kind: api.SourceProfile, Message: fmt.Sprintf("profile %q in %s has no host", name, path), Fix: "add host = https://<workspace> to the profile"}
	}
	return p, nil
}

// profileSource gets tokens for a CLI profile: from `databricks auth token`
// when the CLI is installed (it refreshes the user's login itself), else
// from the profile's client credentials.
type profileSource struct {
	p     *Profile
	cli   string
	m2m   Source
	token *oauth2.Token
}

// NewProfile makes a source for a CLI profile; cli is the path of the
// databricks command, "" when it is not installed.
func NewProfile(ctx context.Context, p *Profile, cli string) (Source, error) {
	ps := &profileSource{p: p, cli: cli}
	switch {
	case cli != "":
	case p.ClientID != "" && p.ClientSecret != "":
		m, err := NewM2M(ctx, p.Host, p.ClientID, p.ClientSecret)
		if err != nil {
			return nil, err
		}
		ps.m2m = m
	case p.HasToken:
		return nil, &SourceError{Input: true, Kind: api.SourceProfile, Message: fmt.Sprintf("profile %q holds a personal access token: Databricks Apps accept only OAuth tokens", p.Name),
			Fix: "run `databricks auth login --host " + p.Host + " --profile " + p.Name + "` to sign in with OAuth"}
	default:
		return nil, &SourceError{Kind: api.SourceProfile, Message: fmt.Sprintf("profile %q is a user login, and the databricks command is not installed to read its token", p.Name),
			Fix: "install the Databricks CLI (it refreshes the login), or use u2m in embedlab, or give the profile client_id and client_secret"}
	}
	return ps, nil
}

// FindCLI returns the databricks command's path, or "".
func FindCLI() string {
	p, err := exec.LookPath("databricks")
	if err != nil {
		return ""
	}
	return p
}

func (s *profileSource) Kind() string { return api.SourceProfile }
func (s *profileSource) Describe() string {
	if s.cli != "" {
		return fmt.Sprintf("`databricks auth token --profile %s` (%s, %s)", s.p.Name, s.p.Host, s.p.File)
	}
	return fmt.Sprintf("profile %s's client credentials (%s, %s)", s.p.Name, s.p.Host, s.p.File)
}

func (s *profileSource) Token(ctx context.Context) (*oauth2.Token, error) {
	if s.m2m != nil {
		return s.m2m.Token(ctx)
	}
	if s.token != nil && time.Until(s.token.Expiry) > renewBefore {
		return s.token, nil
	}
	t, err := cliToken(ctx, s.cli, s.p.Name)
	if err != nil {
		return nil, err
	}
	s.token = t
	return t, nil
}

// CLIToken is what `databricks auth token` prints.
type CLIToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Expiry      time.Time `json:"expiry"`
}

func cliToken(ctx context.Context, cli, profile string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cli, "auth", "token", "--profile", profile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return nil, &SourceError{Kind: api.SourceProfile, Message: "`databricks auth token --profile " + profile + "` failed: " + msg, Err: err,
			Fix: "run `databricks auth login --profile " + profile + "` to sign in again"}
	}
	var t CLIToken
	if err := json.Unmarshal(stdout.Bytes(), &t); err != nil || t.AccessToken == "" {
		return nil, &SourceError{Kind: api.SourceProfile, Message: "`databricks auth token` printed no access_token", Err: errors.Join(err),
			Fix: "update the Databricks CLI"}
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
}
