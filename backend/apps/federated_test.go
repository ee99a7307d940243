package apps_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"embedlab/backend/apps"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Identities of the emulator's identity provider (workspace.json).
var (
	ada    = apps.IdPLogin{Username: testkit.WorkspaceAda.Email, Password: testkit.WorkspaceAda.Password}
	linus  = apps.IdPLogin{Username: testkit.IdPLinus.Email, Password: testkit.IdPLinus.Password}
	ciMain = apps.IdPLogin{ClientID: testkit.CIMain.ClientID, Secret: testkit.CIMain.Secret}
)

func idpSubject(t *testing.T, em *emulator.Emulator, login apps.IdPLogin) apps.SubjectTokenSource {
	t.Helper()
	s, err := apps.IdPSubjectToken(em.IdPURL(), login)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func federated(t *testing.T, cfg apps.FederatedConfig) apps.Source {
	t.Helper()
	s, err := apps.NewFederated(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exchanges counts the workspace's federated tokens so far.
func exchanges(em *emulator.Emulator) int {
	n := 0
	for _, a := range em.Audit(0) {
		if a.Action == "federated_token_issued" {
			n++
		}
	}
	return n
}

func TestFederatedSourceUserAndWorkload(t *testing.T) {
	em := start(t)
	c := caller(em)
	whoami := em.AppURL("sales-api") + "/api/whoami"

	user := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: idpSubject(t, em, ada)})
	r := call(t, c, user, whoami)
	if r.Status != http.StatusOK || !r.Diagnosis.OK || r.Source != api.SourceFederated || r.Claims == nil || r.Claims.Subject != "7001" ||
		!strings.Contains(r.Body, "ada@example.com") {
		t.Fatalf("user federation: %d %+v %s", r.Status, r.Diagnosis, r.Body)
	}
	for _, want := range []string{"user ada@example.com", em.IdPURL(), em.URL() + wire.PathToken, "account-wide"} {
		if !strings.Contains(r.SourceInfo, want) {
			t.Errorf("Describe lacks %q: %s", want, r.SourceInfo)
		}
	}

	wl := federated(t, apps.FederatedConfig{Host: em.URL(), ClientID: testkit.EmbedderID, Subject: idpSubject(t, em, ciMain)})
	r = call(t, c, wl, whoami)
	if r.Status != http.StatusOK || r.Claims == nil || r.Claims.Subject != testkit.EmbedderID || !strings.Contains(r.SourceInfo, "workload identity federation for service principal "+testkit.EmbedderID) {
		t.Fatalf("workload federation: %d %+v %s %s", r.Status, r.Diagnosis, r.Body, r.SourceInfo)
	}
}

// The exchanged token is reused while it has more than five minutes left,
// and exchanged again (with a fresh identity provider token) after.
func TestFederatedSourceRenewsBeforeExpiry(t *testing.T) {
	em := start(t)
	src := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: idpSubject(t, em, ada)})
	ctx := context.Background()
	a, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := src.Token(ctx)
	if a.AccessToken != b.AccessToken || exchanges(em) != 1 {
		t.Fatalf("a one-hour token should be reused: %d exchanges", exchanges(em))
	}
	if err := em.SetTokenLifetime(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	fresh := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: idpSubject(t, em, ada)})
	c, _ := fresh.Token(ctx)
	d, err := fresh.Token(ctx)
	if err != nil || c.AccessToken == d.AccessToken || exchanges(em) != 3 {
		t.Fatalf("a token with less than 5 minutes left must be renewed: %v, %d exchanges", err, exchanges(em))
	}
}

// The subject token from an environment variable (env-oidc) or a file
// (file-oidc), read again for each exchange.
func TestFederatedSourceFromEnvAndFile(t *testing.T) {
	em := start(t)
	c := caller(em)
	whoami := em.AppURL("sales-api") + "/api/whoami"
	tok, err := idpSubject(t, em, ada).SubjectToken(context.Background(), em.URL()+wire.PathToken)
	if err != nil {
		t.Fatal(err)
	}

	env := map[string]string{wire.EnvOIDCToken: tok}
	src := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: apps.EnvSubjectToken(func(k string) string { return env[k] }, wire.EnvOIDCToken)})
	if r := call(t, c, src, whoami); r.Status != http.StatusOK || !strings.Contains(r.SourceInfo, "$DATABRICKS_OIDC_TOKEN") {
		t.Fatalf("env: %d %s %s", r.Status, r.Body, r.SourceInfo)
	}
	unset := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: apps.EnvSubjectToken(func(string) string { return "" }, wire.EnvOIDCToken)})
	var se *apps.SourceError
	if _, err := unset.Token(context.Background()); !errors.As(err, &se) || !strings.Contains(se.Message, "DATABRICKS_OIDC_TOKEN is not set") {
		t.Fatalf("unset env: %v", err)
	}

	path := filepath.Join(t.TempDir(), "oidc-token")
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := call(t, c, federated(t, apps.FederatedConfig{Host: em.URL(), Subject: apps.FileSubjectToken(path)}), whoami); r.Status != http.StatusOK {
		t.Fatalf("file: %d %s", r.Status, r.Body)
	}
	missing := federated(t, apps.FederatedConfig{Host: em.URL(), Subject: apps.FileSubjectToken(path + ".nope")})
	if _, err := missing.Token(context.Background()); !errors.As(err, &se) || !strings.Contains(se.Fix, wire.EnvOIDCTokenFile) {
		t.Fatalf("missing file: %v", err)
	}
}

// Each refusal of the exchange comes back as a SourceError with the
// workspace's own description and a fix.
func TestFederatedSourceRefusals(t *testing.T) {
	em := start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		cfg      apps.FederatedConfig
		msg, fix string
	}{
		{"wrong audience", apps.FederatedConfig{Host: em.URL(), Audience: "https://other.example.com", Subject: idpSubject(t, em, ada)}, "wrong audience", "whose audience the policy accepts"},
		// The token is fine, the person unknown: the fix says so, not "issuer and audience" (issue 14).
		{"user not found", apps.FederatedConfig{Host: em.URL(), Subject: idpSubject(t, em, linus)}, "user not found", "not a user of this workspace: add the user"},
		{"not a service principal", apps.FederatedConfig{Host: em.URL(), ClientID: "nobody", Subject: idpSubject(t, em, ciMain)}, "invalid_client", "application id"},
		{"wrong IdP password", apps.FederatedConfig{Host: em.URL(), Subject: idpSubject(t, em, apps.IdPLogin{Username: testkit.WorkspaceAda.Email, Password: "wrong-pass"})}, "identity provider refused", "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := federated(t, tc.cfg).Token(ctx)
			var se *apps.SourceError
			if !errors.As(err, &se) || se.Kind != api.SourceFederated || !strings.Contains(se.Message, tc.msg) || !strings.Contains(se.Fix, tc.fix) {
				t.Fatalf("got %v (fix %q)", err, fixOf(se))
			}
		})
	}
	if _, err := apps.IdPSubjectToken("http://idp.example.com", ada); err == nil {
		t.Error("plain http to a remote identity provider should be refused")
	}
	if _, err := apps.IdPSubjectToken(em.IdPURL(), apps.IdPLogin{}); err == nil {
		t.Error("an identity provider login without a user or workload should be refused")
	}
}

func fixOf(se *apps.SourceError) string {
	if se == nil {
		return ""
	}
	return se.Fix
}

// The identity provider's token sent as is: 401, and the diagnosis names
// the exchange.
func TestIdPTokenDirectIsRefusedWithTheExchangeExplained(t *testing.T) {
	em := start(t)
	c := caller(em)
	direct := apps.NewIdPDirect(idpSubject(t, em, ada), em.URL()+wire.PathToken)
	r := call(t, c, direct, em.AppURL("sales-api")+"/api/whoami")
	d := r.Diagnosis
	if r.Status != http.StatusUnauthorized || d.OK || d.Reason != wire.AppsReasonIdPTokenNotExchanged || r.Source != api.SourceIdPDirect {
		t.Fatalf("direct: %d %+v %s", r.Status, d, r.Body)
	}
	if !strings.Contains(d.Cause, "identity provider "+em.IdPURL()) || !strings.Contains(d.Fix, "Exchange it at /oidc/v1/token (token federation) first") ||
		!strings.Contains(d.Fix, wire.TokenTypeJWT) {
		t.Errorf("diagnosis: %+v", d)
	}
	if r.Claims == nil || r.Claims.Issuer != em.IdPURL() {
		t.Errorf("claims of the IdP token: %+v", r.Claims)
	}

	// A real workspace may send no reason: the token's issuer tells.
	u, _ := url.Parse("https://sales-api-123.aws.databricksapps.com/api/whoami")
	entra := &claims.Claims{Issuer: "https://login.microsoftonline.com/tenant/v2.0", Subject: "x", ExpiresAt: time.Now().Add(time.Hour).Unix()}
	d = apps.Diagnose(http.StatusUnauthorized, http.Header{}, []byte(`{"error_code":"UNAUTHENTICATED","message":"Invalid token"}`), entra, u)
	if !strings.Contains(d.Cause, "login.microsoftonline.com") || !strings.Contains(d.Fix, "token federation") {
		t.Errorf("Entra ID token without a reason: %+v", d)
	}
	ws := &claims.Claims{Issuer: "https://adb-1.1.azuredatabricks.net/oidc", ExpiresAt: time.Now().Add(time.Hour).Unix()}
	if d := apps.Diagnose(http.StatusUnauthorized, http.Header{}, []byte(`{}`), ws, u); strings.Contains(d.Fix, "token federation") {
		t.Errorf("a workspace token is not an IdP token: %+v", d)
	}
}
