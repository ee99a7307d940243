package appsetup

import (
	"context"
	"fmt"

	"embedlab/backend/apps"
	"embedlab/backend/server"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// Identity is one identity of the emulated identity provider (a user or a
// workload) with its public demo credentials, and the service principal
// its token is exchanged for ("" for account-wide federation).
type Identity struct {
	ID, Label, Description string
	Username, Password     string // a user
	ClientID, Secret       string // a workload
	ServicePrincipal       string
}

// emulatedFederation offers each identity of the emulator's identity
// provider: its token fetched from the IdP, then exchanged (federated) or
// sent as is (idp-direct).
func emulatedFederation(ctx context.Context, em *Emulated) ([]server.FederatedIdentity, string, string) {
	if em.IdPURL == "" || len(em.Identities) == 0 {
		return nil, "the emulator's state has no identity provider", "add identity_provider and federation_policies to the emulator's state (see the bundled workspace.json)"
	}
	var out []server.FederatedIdentity
	for _, id := range em.Identities {
		subject, err := apps.IdPSubjectToken(em.IdPURL, apps.IdPLogin{Username: id.Username, Password: id.Password, ClientID: id.ClientID, Secret: id.Secret})
		if err != nil {
			return nil, err.Error(), ""
		}
		fed, err := apps.NewFederated(ctx, apps.FederatedConfig{Host: em.URL, ClientID: id.ServicePrincipal, Subject: subject})
		if err != nil {
			return nil, err.Error(), ""
		}
		out = append(out, server.FederatedIdentity{
			FederatedIdentity: api.FederatedIdentity{ID: id.ID, Label: id.Label, Description: id.Description},
			Email:             id.Username, // a user's e-mail; "" for a workload
			Federated:         fed, Direct: apps.NewIdPDirect(subject, em.URL+wire.PathToken),
		})
	}
	return out, "", ""
}

// envFederation offers, against a real workspace, the identity provider
// token in DATABRICKS_OIDC_TOKEN or the file DATABRICKS_OIDC_TOKEN_FILEPATH
// names, as the SDKs' env-oidc and file-oidc do: exchanged for the service
// principal DATABRICKS_CLIENT_ID when set (workload identity federation),
// else account-wide. The token is read again for every exchange.
func envFederation(ctx context.Context, host string, getenv func(string) string) ([]server.FederatedIdentity, string, string) {
	var subject apps.SubjectTokenSource
	switch {
	case getenv(wire.EnvOIDCToken) != "":
		subject = apps.EnvSubjectToken(getenv, wire.EnvOIDCToken)
	case getenv(wire.EnvOIDCTokenFile) != "":
		subject = apps.FileSubjectToken(getenv(wire.EnvOIDCTokenFile))
	default:
		return nil, "no identity provider token", fmt.Sprintf("set %s to an identity provider's JWT (or %s to a file holding it), as for the SDKs' env-oidc", wire.EnvOIDCToken, wire.EnvOIDCTokenFile)
	}
	clientID := getenv("DATABRICKS_CLIENT_ID")
	fed, err := apps.NewFederated(ctx, apps.FederatedConfig{Host: host, ClientID: clientID, Subject: subject})
	if err != nil {
		return nil, err.Error(), ""
	}
	label := "the identity provider token of " + subject.Describe()
	desc := "exchanged without client_id (account-wide federation)"
	if clientID != "" {
		desc = "exchanged with client_id " + clientID + " (workload identity federation)"
	}
	return []server.FederatedIdentity{{
		FederatedIdentity: api.FederatedIdentity{ID: "env", Label: label, Description: desc},
		Federated:         fed, Direct: apps.NewIdPDirect(subject, ""),
	}}, "", ""
}
