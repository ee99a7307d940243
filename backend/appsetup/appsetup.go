// Package appsetup wires the "Call an app" page's token sources from the
// configuration: the emulator's apps, OAuth client and demo principals, or
// what a real workspace's settings provide.
package appsetup

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"embedlab/backend/apps"
	"embedlab/backend/config"
	"embedlab/backend/server"
	"embedlab/shared/api"
)

// Emulated is what Setup needs of the bundled workspace emulator. It is a
// plain struct so that a build without the emulator (the one deployed as a
// Databricks App, under the 10 MB file limit) needs none of its code.
type Emulated struct {
	URL     string // the workspace's URL
	AppsURL string // the Apps proxy's base URL
	Apps    func() []api.App
	// AllowRedirectURI registers a redirect URI with an OAuth client.
	AllowRedirectURI func(clientID, uri string) error
	// Principals are the demo service principals' ids and secrets.
	Principals []Principal
	// IdPURL is the emulated identity provider's issuer URL, and
	// Identities its users and workloads (token federation).
	IdPURL     string
	Identities []Identity
	// Lab builds the fault lab and the workshop once the app's token
	// broker exists (forget drops its cached tokens); nil leaves them out.
	Lab func(forget func()) (server.Lab, server.Workshop, error)
}

// Principal is a service principal's id and secret.
type Principal struct{ ID, Secret string }

// Setup configures the "Call an app" page's token sources: against the
// emulator, its apps, its embedlab OAuth client and its demo service
// principals; against a real workspace, what the configuration provides.
func Setup(ctx context.Context, cfg *config.Config, em *Emulated, getenv config.Getenv) (*server.Apps, error) {
	a := &server.Apps{Caller: &apps.Caller{}, CLI: apps.FindCLI()}
	if cfg.AppName == "" {
		// Profiles are the server's own: only where embedlab runs for one person.
		a.ProfileFile = apps.ConfigFile(getenv)
	}
	public := cfg.PublicURL
	redirects := []string{}
	if public != "" {
		redirects = append(redirects, public+api.PathAppsCallback)
	} else {
		port := strconv.Itoa(cfg.Port)
		redirects = append(redirects, "http://localhost:"+port+api.PathAppsCallback, "http://127.0.0.1:"+port+api.PathAppsCallback)
	}
	clientID := cfg.OAuthClientID

	if em != nil {
		u, err := url.Parse(em.AppsURL)
		if err != nil || u.Port() == "" {
			return nil, fmt.Errorf("the emulator's Apps proxy has no URL (%q)", em.AppsURL)
		}
		a.Caller.Domains = []string{".localhost:" + u.Port()}
		for _, ap := range em.Apps() {
			if au, err := url.Parse(ap.URL); err == nil && !strings.HasSuffix(au.Hostname(), ".localhost") {
				a.Caller.Origins = append(a.Caller.Origins, au.Scheme+"://"+au.Host) // a classroom's port form
			}
		}
		a.List = em.Apps
		clientID = "embedlab"
		for _, r := range redirects {
			if err := em.AllowRedirectURI(clientID, r); err != nil {
				return nil, fmt.Errorf("register the U2M callback with the emulator: %w", err)
			}
		}
		a.Federation, a.FederationProblem, a.FederationFix = emulatedFederation(ctx, em)
		for _, sp := range em.Principals {
			if sp.ID != cfg.ClientID {
				src, err := apps.NewM2M(ctx, em.URL, sp.ID, sp.Secret)
				if err != nil {
					return nil, err
				}
				a.NoAccess = src
				break
			}
		}
	}

	if u, err := apps.NewU2M(ctx, cfg.InstanceURL, clientID, redirects...); err != nil {
		se, _ := err.(*apps.SourceError)
		a.U2MProblem, a.U2MFix = err.Error(), ""
		if se != nil {
			a.U2MProblem, a.U2MFix = se.Message, se.Fix
		}
	} else {
		a.U2M = u
	}
	if cfg.ClientID != "" && cfg.ClientSecret != "" {
		src, err := apps.NewM2M(ctx, cfg.InstanceURL, cfg.ClientID, cfg.ClientSecret)
		if err != nil {
			return nil, err
		}
		a.M2M = src
	}
	if em == nil {
		a.Federation, a.FederationProblem, a.FederationFix = envFederation(ctx, cfg.InstanceURL, getenv)
	}
	if cfg.AppName != "" {
		src, err := apps.NewAppToApp(ctx, getenv)
		if err != nil {
			a.AppToAppProblem = err.Error()
		} else {
			a.AppToApp = src
		}
	} else {
		a.AppToAppProblem = "embedlab is not running as a Databricks App (DATABRICKS_APP_NAME is not set)"
	}
	return a, nil
}
