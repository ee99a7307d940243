package main

import (
	"context"
	"errors"
	"flag"

	"embedlab/backend/apps"
	"embedlab/backend/config"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// federationFlags pick the identity provider token of -source federated
// and -source idp-direct, and whom it is exchanged for.
type federationFlags struct {
	idp, idpUser, idpClient string
	tokenFile               string
	clientID, audience      string
}

func (f *federationFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.idp, "idp", "", "federated, idp-direct: fetch the token from this identity provider (its issuer URL, e.g. the emulator's http://127.0.0.1:8002)")
	fs.StringVar(&f.idpUser, "idp-user", "", "federated, idp-direct: with -idp, the user to sign in as (password in $EMBEDLAB_IDP_PASSWORD)")
	fs.StringVar(&f.idpClient, "idp-client", "", "federated, idp-direct: with -idp, the workload's client id (secret in $EMBEDLAB_IDP_CLIENT_SECRET)")
	fs.StringVar(&f.tokenFile, "oidc-token-file", "", "federated, idp-direct: a file holding the identity provider's token (default $"+wire.EnvOIDCTokenFile+"; $"+wire.EnvOIDCToken+" is read first)")
	fs.StringVar(&f.clientID, "client-id", "", "federated: exchange for this service principal (workload identity federation); without it, account-wide federation")
	fs.StringVar(&f.audience, "audience", "", "federated, idp-direct: the audience to ask the identity provider for (default: the workspace's token endpoint URL)")
}

// build makes the federated or idp-direct source. The token comes from
// -idp, else -oidc-token-file, else $DATABRICKS_OIDC_TOKEN, else the file
// $DATABRICKS_OIDC_TOKEN_FILEPATH, as the SDKs' env-oidc and file-oidc read it.
func (f *federationFlags) build(ctx context.Context, kind, host string, getenv config.Getenv) (apps.Source, error) {
	wrap := func(err error) error { return &exitError{exitNoToken, describe(err)} }
	var subject apps.SubjectTokenSource
	switch {
	case f.idp != "":
		login := apps.IdPLogin{Username: f.idpUser, Password: getenv("EMBEDLAB_IDP_PASSWORD"), ClientID: f.idpClient, Secret: getenv("EMBEDLAB_IDP_CLIENT_SECRET")}
		if (f.idpUser == "") == (f.idpClient == "") {
			return nil, &exitError{exitUsage, errors.New("-idp needs -idp-user NAME (password in $EMBEDLAB_IDP_PASSWORD) or -idp-client ID (secret in $EMBEDLAB_IDP_CLIENT_SECRET)")}
		}
		s, err := apps.IdPSubjectToken(f.idp, login)
		if err != nil {
			return nil, wrap(err)
		}
		subject = s
	case f.tokenFile != "":
		subject = apps.FileSubjectToken(f.tokenFile)
	case getenv(wire.EnvOIDCToken) != "":
		subject = apps.EnvSubjectToken(getenv, wire.EnvOIDCToken)
	case getenv(wire.EnvOIDCTokenFile) != "":
		subject = apps.FileSubjectToken(getenv(wire.EnvOIDCTokenFile))
	default:
		return nil, &exitError{exitUsage, errors.New("-source " + kind + " needs the identity provider's token: -idp URL with -idp-user or -idp-client, -oidc-token-file FILE, $" +
			wire.EnvOIDCToken + " or $" + wire.EnvOIDCTokenFile)}
	}
	if kind == api.SourceIdPDirect {
		aud := f.audience
		if aud == "" {
			if h, err := apps.NormalizeHost(host); err == nil {
				aud = h + wire.PathToken
			}
		}
		return apps.NewIdPDirect(subject, aud), nil
	}
	s, err := apps.NewFederated(ctx, apps.FederatedConfig{Host: host, ClientID: f.clientID, Audience: f.audience, Subject: subject})
	if err != nil {
		return nil, wrap(err)
	}
	return s, nil
}
