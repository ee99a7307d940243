//go:build !noemulator

package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/apps"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

func TestCallWithTokenFederation(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	spID := em.ServicePrincipals()[0].ID
	whoami := em.AppURL("sales-api") + "/api/whoami"
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "EMBEDLAB_IDP_PASSWORD": testkit.WorkspaceAda.Password,
		"EMBEDLAB_IDP_CLIENT_SECRET": testkit.CIMain.Secret}

	// A user of the identity provider, account-wide.
	out, errs, code := cli(t, env, "call", "-v", "-source", "federated", "-idp", em.IdPURL(), "-idp-user", testkit.WorkspaceAda.Email, whoami)
	if code != exitOK || !strings.Contains(out, "ada@example.com") || !strings.Contains(errs, "token federation, account-wide") {
		t.Fatalf("federated user: %d\n%s\n%s", code, out, errs)
	}
	// A workload, for the embedder service principal.
	out, errs, code = cli(t, env, "call", "-source", "federated", "-idp", em.IdPURL(), "-idp-client", testkit.CIMain.ClientID, "-client-id", spID, whoami)
	if code != exitOK || !strings.Contains(out, spID) {
		t.Fatalf("federated workload: %d\n%s\n%s", code, out, errs)
	}
	// `embedlab token` prints the exchanged token.
	out, errs, code = cli(t, env, "token", "-source", "federated", "-idp", em.IdPURL(), "-idp-user", testkit.WorkspaceAda.Email)
	var tok apps.CLIToken
	if code != exitOK || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("token: %d %s %s", code, out, errs)
	}
	if _, c, err := claims.Decode(tok.AccessToken); err != nil || c.Subject != "7001" || c.Issuer != em.URL()+"/oidc" {
		t.Fatalf("token claims: %v %+v", err, c)
	}

	// The token in DATABRICKS_OIDC_TOKEN, as the SDKs' env-oidc reads it,
	// and in a file.
	res, err := http.PostForm(em.IdPURL()+"/token", url.Values{"grant_type": {"password"}, "username": {testkit.WorkspaceAda.Email},
		"password": {testkit.WorkspaceAda.Password}, "audience": {em.URL() + wire.PathToken}})
	if err != nil {
		t.Fatal(err)
	}
	var tr wire.TokenResponse
	_ = json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	envTok := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), wire.EnvOIDCToken: tr.AccessToken}
	if out, errs, code := cli(t, envTok, "call", "-source", "federated", whoami); code != exitOK || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("env-oidc: %d %s %s", code, out, errs)
	}
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(tr.AccessToken), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), wire.EnvOIDCTokenFile: path}
	if out, errs, code := cli(t, envFile, "call", "-source", "federated", whoami); code != exitOK {
		t.Fatalf("file-oidc: %d %s %s", code, out, errs)
	}

	// The same token sent as is: 401, and the diagnosis explains the exchange.
	if _, errs, code := cli(t, envTok, "call", "-source", "idp-direct", whoami); code != exitAnswer ||
		!strings.Contains(errs, "401") || !strings.Contains(errs, "identity provider "+em.IdPURL()) || !strings.Contains(errs, "Exchange it at /oidc/v1/token (token federation) first") {
		t.Fatalf("idp-direct: %d %s", code, errs)
	}
	// A refused exchange: no token, with the workspace's reason and a fix.
	linus := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "EMBEDLAB_IDP_PASSWORD": testkit.IdPLinus.Password}
	if _, errs, code := cli(t, linus, "call", "-source", "federated", "-idp", em.IdPURL(), "-idp-user", testkit.IdPLinus.Email, whoami); code != exitNoToken ||
		!strings.Contains(errs, "user not found") || !strings.Contains(errs, "fix:") {
		t.Fatalf("refused exchange: %d %s", code, errs)
	}
	// No token anywhere: a usage error that says where to put one.
	if _, errs, code := cli(t, map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL()}, "call", "-source", "federated", whoami); code != exitUsage || !strings.Contains(errs, wire.EnvOIDCToken) {
		t.Fatalf("no token: %d %s", code, errs)
	}
}
