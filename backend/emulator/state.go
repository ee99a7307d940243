package emulator

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

//go:embed workspace.json
var defaultState []byte

// State is the emulated workspace, as read from its state file.
type State struct {
	Note                 string             `json:"_note,omitempty"`
	WorkspaceID          string             `json:"workspace_id"`
	TokenLifetimeSeconds int                `json:"token_lifetime_seconds"`
	RateLimitPerSecond   float64            `json:"rate_limit_per_second"`
	EmbeddingOrigins     []string           `json:"embedding_origins"`
	ServicePrincipals    []ServicePrincipal `json:"service_principals"`
	Dashboards           []Dashboard        `json:"dashboards"`
	Users                []User             `json:"users"`
	// OAuthClients are the public clients of the authorization code flow.
	OAuthClients []OAuthClient `json:"oauth_clients,omitempty"`
	// Apps are the Databricks Apps the Apps proxy serves.
	Apps []App `json:"apps,omitempty"`
	// IdentityProvider is the emulated external identity provider, and
	// FederationPolicies the tokens of identity providers the workspace
	// exchanges for its own (token federation).
	IdentityProvider   *IdentityProvider  `json:"identity_provider,omitempty"`
	FederationPolicies []FederationPolicy `json:"federation_policies,omitempty"`
	// Warehouses and Tables are what the SQL Statement Execution API runs
	// on, and who may use and read them (state_sql.go).
	Warehouses []Warehouse `json:"warehouses,omitempty"`
	Tables     []Table     `json:"tables,omitempty"`

	dir string // the state file's folder, for dashboard files
}

// ServicePrincipal is an OAuth confidential client of the workspace.
type ServicePrincipal struct {
	ApplicationID string `json:"application_id"`
	DisplayName   string `json:"display_name"`
	Secret        string `json:"secret"`
	// SecretExpireTime is when the secret expires (RFC 3339), as the
	// secrets API reports it; empty for a secret that does not expire.
	SecretExpireTime string `json:"secret_expire_time,omitempty"`
}

// Dashboard is a Lakeview dashboard and who may run it.
type Dashboard struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Published   bool     `json:"published"`
	CanRun      []string `json:"can_run"`
	// File is the dashboard's .lvdash.json, relative to the state file;
	// empty for the bundled sample.
	File string `json:"file,omitempty"`
	// CanRead may read the definition but not run it (CAN RUN includes it).
	CanRead []string `json:"can_read,omitempty"`
	// EmbedCredentials is whose permissions queries run with: "publisher"
	// (the default, as Lakeview publishes) or "viewer" (the token's
	// principal, which then needs SelectGrants). See lakeview.go.
	EmbedCredentials string `json:"embed_credentials,omitempty"`
	// SelectGrants are the principals with SELECT on the dashboard's data
	// and CAN USE on its warehouse.
	SelectGrants []string `json:"select_grants,omitempty"`

	warehouseID string // the warehouse it runs on, filled in when served
}

// User is a workspace user (used by the authorization-code flow).
type User struct {
	ID          string `json:"id"`
	UserName    string `json:"user_name"`
	DisplayName string `json:"display_name"`
	// Password signs the user in on the emulator's login page; empty means
	// the user cannot sign in. Bundled values are public demo values.
	Password string `json:"password,omitempty"`
}

// DefaultState returns the bundled demo workspace.
func DefaultState() *State {
	s, err := ParseState("workspace.json (bundled)", defaultState)
	if err != nil {
		panic("bundled workspace.json is invalid: " + err.Error()) // a build defect, caught by tests
	}
	return s
}

// LoadState reads and validates a state file.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read emulator state: %w", err)
	}
	s, err := ParseState(path, b)
	if err != nil {
		return nil, err
	}
	s.dir = filepath.Dir(path)
	return s, nil
}

// ParseState decodes and validates a state file's content; name is used in
// error messages.
func ParseState(name string, b []byte) (*State, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var s State
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if s.TokenLifetimeSeconds == 0 {
		s.TokenLifetimeSeconds = 3600
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s is not a valid emulator state:\n%w", name, err)
	}
	return &s, nil
}

var (
	digits  = regexp.MustCompile(`^[0-9]{1,19}$`)
	safeID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	hexDash = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Validate returns one error line per problem.
func (s *State) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !digits.MatchString(s.WorkspaceID) {
		bad("workspace_id %q: must be the numeric workspace id, e.g. \"1234567890123456\"", s.WorkspaceID)
	}
	if s.TokenLifetimeSeconds < 10 || s.TokenLifetimeSeconds > 86400 {
		bad("token_lifetime_seconds %d: must be between 10 and 86400", s.TokenLifetimeSeconds)
	}
	if s.RateLimitPerSecond < 0 {
		bad("rate_limit_per_second %v: must be 0 (no limit) or more", s.RateLimitPerSecond)
	}
	for i, o := range s.EmbeddingOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || o != u.Scheme+"://"+u.Host {
			bad("embedding_origins[%d] %q: must be an origin such as http://localhost:3000 (scheme and host, no path or trailing slash)", i, o)
		}
	}
	sps := map[string]bool{}
	for i, sp := range s.ServicePrincipals {
		switch {
		case !safeID.MatchString(sp.ApplicationID):
			bad("service_principals[%d].application_id %q: must be letters, digits, '.', '_' or '-'", i, sp.ApplicationID)
		case sps[sp.ApplicationID]:
			bad("service_principals[%d].application_id %q: used twice", i, sp.ApplicationID)
		}
		sps[sp.ApplicationID] = true
		if len(sp.Secret) < 16 {
			bad("service_principals[%d].secret: must be at least 16 characters", i)
		}
	}
	dashes := map[string]bool{}
	for i, d := range s.Dashboards {
		switch {
		case !hexDash.MatchString(d.ID):
			bad("dashboards[%d].id %q: must be 32 lowercase hex characters like a Lakeview dashboard id", i, d.ID)
		case dashes[d.ID]:
			bad("dashboards[%d].id %q: used twice", i, d.ID)
		}
		dashes[d.ID] = true
		for j, p := range d.CanRun {
			if !sps[p] {
				bad("dashboards[%d].can_run[%d] %q: no service principal has that application_id", i, j, p)
			}
		}
	}
	users := map[string]bool{}
	for i, u := range s.Users {
		if !digits.MatchString(u.ID) || users[u.ID] {
			bad("users[%d].id %q: must be a unique numeric id", i, u.ID)
		}
		users[u.ID] = true
		if !strings.Contains(u.UserName, "@") {
			bad("users[%d].user_name %q: must be an e-mail address", i, u.UserName)
		}
	}
	s.validateU2M(bad)
	s.validateLakeview(bad)
	s.validateFederation(bad)
	s.validateSQL(bad)
	return errors.Join(errs...)
}

func (s *State) servicePrincipal(id string) (ServicePrincipal, bool) {
	for _, sp := range s.ServicePrincipals {
		if sp.ApplicationID == id {
			return sp, true
		}
	}
	return ServicePrincipal{}, false
}

func (s *State) dashboard(id string) (Dashboard, bool) {
	for _, d := range s.Dashboards {
		if d.ID == id {
			return d, true
		}
	}
	return Dashboard{}, false
}

func (d Dashboard) canRun(principal string) bool {
	for _, p := range d.CanRun {
		if p == principal {
			return true
		}
	}
	return false
}

// clone deep-copies the state, so an update can be validated before it is
// swapped in.
func (s *State) clone() *State {
	b, err := json.Marshal(s)
	if err != nil {
		panic("emulator state does not encode: " + err.Error()) // plain data; cannot happen
	}
	var c State
	if err := json.Unmarshal(b, &c); err != nil {
		panic("emulator state does not decode: " + err.Error())
	}
	c.dir = s.dir
	return &c
}
