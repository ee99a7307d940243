// Package emulated describes a running workspace emulator for appsetup.
package emulated

import (
	"embedlab/backend/appsetup"
	"embedlab/backend/emulator"
	"embedlab/shared/api"
)

// From describes em: its URLs, apps, OAuth clients and demo principals.
func From(em *emulator.Emulator) *appsetup.Emulated {
	e := &appsetup.Emulated{URL: em.URL(), AppsURL: em.AppsURL(), AllowRedirectURI: em.AllowRedirectURI,
		Apps: func() []api.App {
			var out []api.App
			for _, ap := range em.Apps() {
				out = append(out, api.App{Name: ap.Name, URL: ap.URL, Description: ap.Description, Status: ap.Status, UserAPIScopes: ap.UserAPIScopes})
			}
			return out
		}}
	for _, sp := range em.ServicePrincipals() {
		e.Principals = append(e.Principals, appsetup.Principal{ID: sp.ID, Secret: sp.Secret})
	}
	e.IdPURL = em.IdPURL()
	for _, id := range em.FederationIdentities() {
		e.Identities = append(e.Identities, appsetup.Identity{ID: id.ID, Label: id.Label, Description: id.Description,
			Username: id.Username, Password: id.Password, ClientID: id.ClientID, Secret: id.Secret, ServicePrincipal: id.ServicePrincipal})
	}
	return e
}
