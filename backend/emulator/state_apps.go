package emulator

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"embedlab/shared/wire"
)

// OAuthClient is a public OAuth client of the authorization code flow
// (PKCE, no secret), such as the Databricks CLI.
type OAuthClient struct {
	ClientID    string `json:"client_id"`
	DisplayName string `json:"display_name"`
	// RedirectURIs are compared exactly with the redirect_uri of a request:
	// no prefix, port or trailing-slash leniency. Tests on random ports add
	// theirs with (*Emulator).AllowRedirectURI or Update.
	RedirectURIs []string `json:"redirect_uris"`
}

// App is a Databricks App served by the Apps proxy.
type App struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Status is AppRunning or AppStopped; a stopped app answers 404.
	Status string `json:"status"`
	// UserAPIScopes, when set, turn on user authorization: a bearer token
	// must carry every one of these scopes, and the proxy forwards it to the
	// app in X-Forwarded-Access-Token.
	UserAPIScopes []string `json:"user_api_scopes,omitempty"`
	// CanUse lists who has CAN USE: users by user_name, service principals
	// by application_id.
	CanUse []string `json:"can_use"`
}

// App statuses.
const (
	AppRunning = "RUNNING"
	AppStopped = "STOPPED"
)

func (a App) userAuthorization() bool { return len(a.UserAPIScopes) > 0 }

// userScopes are the scopes a user may request at /oidc/v1/authorize, with
// what the consent page says about each.
var userScopes = map[string]string{
	wire.ScopeAllAPIs:        "call every workspace API as you",
	wire.ScopeOfflineAccess:  "stay signed in: a refresh token gets new access tokens without asking you again",
	wire.ScopeSQL:            "run SQL statements and read query results as you",
	wire.ScopeFiles:          "read and write workspace files and volumes as you",
	wire.ScopeGenie:          "use Genie spaces as you",
	wire.ScopeCurrentUser:    "read your user name, e-mail and id",
	wire.ScopeAccessControls: "read the permissions of workspace objects",
}

// appScopes are the scopes an app's user_api_scopes may name.
var appScopes = map[string]bool{
	wire.ScopeSQL: true, wire.ScopeFiles: true, wire.ScopeGenie: true,
	wire.ScopeCurrentUser: true, wire.ScopeAccessControls: true,
}

// appName is what Databricks allows: lowercase letters, digits and dashes,
// starting and ending with a letter or digit, at most 30 characters.
var appName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$`)

// validateU2M checks users' passwords, the OAuth clients and the apps.
func (s *State) validateU2M(bad func(format string, a ...any)) {
	principals := map[string]bool{}
	sps := map[string]bool{}
	for _, sp := range s.ServicePrincipals {
		principals[sp.ApplicationID] = true
		sps[sp.ApplicationID] = true
	}
	for i, u := range s.Users {
		if u.Password != "" && len(u.Password) < 8 {
			bad("users[%d].password: must be at least 8 characters (or empty: the user cannot sign in)", i)
		}
		if sps[u.ID] {
			bad("users[%d].id %q: a service principal has that application_id", i, u.ID)
		}
		principals[strings.ToLower(u.UserName)] = true
	}
	clients := map[string]bool{}
	for i, c := range s.OAuthClients {
		switch {
		case !safeID.MatchString(c.ClientID):
			bad("oauth_clients[%d].client_id %q: must be letters, digits, '.', '_' or '-'", i, c.ClientID)
		case clients[c.ClientID] || sps[c.ClientID]:
			bad("oauth_clients[%d].client_id %q: used twice (service principals included)", i, c.ClientID)
		case strings.HasPrefix(c.ClientID, appClientPrefix):
			bad("oauth_clients[%d].client_id %q: the prefix %q is kept for the apps' own clients", i, c.ClientID, appClientPrefix)
		}
		clients[c.ClientID] = true
		if len(c.RedirectURIs) == 0 {
			bad("oauth_clients[%d].redirect_uris: at least one is required", i)
		}
		for j, ru := range c.RedirectURIs {
			if u, err := url.Parse(ru); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
				bad("oauth_clients[%d].redirect_uris[%d] %q: must be an absolute http(s) URL without fragment or user info", i, j, ru)
			}
		}
	}
	apps := map[string]bool{}
	for i, a := range s.Apps {
		switch {
		case !appName.MatchString(a.Name):
			bad("apps[%d].name %q: must be 1-30 lowercase letters, digits or '-', starting and ending with a letter or digit", i, a.Name)
		case apps[a.Name]:
			bad("apps[%d].name %q: used twice", i, a.Name)
		}
		apps[a.Name] = true
		if a.Status != AppRunning && a.Status != AppStopped {
			bad("apps[%d].status %q: must be %q or %q", i, a.Status, AppRunning, AppStopped)
		}
		for j, sc := range a.UserAPIScopes {
			if !appScopes[sc] {
				bad("apps[%d].user_api_scopes[%d] %q: not a scope an app may require (%s)", i, j, sc, strings.Join(slices.Sorted(maps.Keys(appScopes)), ", "))
			}
		}
		for j, p := range a.CanUse {
			if !principals[strings.ToLower(p)] {
				bad("apps[%d].can_use[%d] %q: no user has that user_name and no service principal that application_id", i, j, p)
			}
		}
	}
}

func (s *State) user(id string) (User, bool) {
	for _, u := range s.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

func (s *State) userByName(name string) (User, bool) {
	for _, u := range s.Users {
		if strings.EqualFold(u.UserName, name) {
			return u, true
		}
	}
	return User{}, false
}

func (s *State) oauthClient(id string) (OAuthClient, bool) {
	for _, c := range s.OAuthClients {
		if c.ClientID == id {
			return c, true
		}
	}
	return OAuthClient{}, false
}

func (s *State) app(name string) (App, bool) {
	for _, a := range s.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

func (a App) canUse(names ...string) bool {
	for _, p := range a.CanUse {
		for _, n := range names {
			if n != "" && strings.EqualFold(p, n) {
				return true
			}
		}
	}
	return false
}
