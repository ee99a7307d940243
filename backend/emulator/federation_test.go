package emulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// tokenEndpoint is the audience the official SDKs ask the IdP for.
func tokenEndpoint(em *emulator.Emulator) string { return em.URL() + wire.PathToken }

// postIdP sends a form to the identity provider's token endpoint.
func postIdP(t *testing.T, em *emulator.Emulator, id, secret string, form url.Values) response {
	t.Helper()
	return postTo(t, em.IdPURL()+emulator.PathIdPToken, id, secret, form)
}

// userIdPToken signs a user in at the identity provider.
func userIdPToken(t *testing.T, em *emulator.Emulator, user, password, audience string) string {
	t.Helper()
	r := postIdP(t, em, "", "", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "audience": {audience}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" || tr.IDToken != tr.AccessToken {
		t.Fatalf("IdP user token: %d %s", r.status, r.body)
	}
	return tr.AccessToken
}

// workloadIdPToken gets a workload's token with client credentials.
func workloadIdPToken(t *testing.T, em *emulator.Emulator, id, secret, audience string) string {
	t.Helper()
	r := postIdP(t, em, id, secret, url.Values{"grant_type": {"client_credentials"}, "audience": {audience}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("IdP workload token: %d %s", r.status, r.body)
	}
	return tr.AccessToken
}

// exchangeForm is the token-exchange request of the wire reference (package
// wire, "Token federation").
func exchangeForm(subjectToken, clientID string) url.Values {
	f := url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {subjectToken},
		"subject_token_type": {wire.TokenTypeJWT}, "scope": {"all-apis"}}
	if clientID != "" {
		f.Set("client_id", clientID)
	}
	return f
}

// exchangeOK exchanges and returns the workspace token, verified with the
// workspace's JWKS.
func exchangeOK(t *testing.T, em *emulator.Emulator, form url.Values) (string, claims.Claims) {
	t.Helper()
	r := postForm(t, em, "", "", form)
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != form.Get("scope") {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	return tr.AccessToken, verifyWithJWKS(t, em, tr.AccessToken)
}

func TestIdentityProviderOnItsOwnOrigin(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	if em.IdPURL() == "" || em.IdPURL() == em.URL() || strings.HasPrefix(em.IdPURL(), em.URL()) {
		t.Fatalf("IdP URL %q is not an origin of its own (workspace %q)", em.IdPURL(), em.URL())
	}
	var doc wire.OpenIDConfiguration
	get(t, em.IdPURL()+wire.PathOpenIDConfiguration, "").json(t, &doc)
	if doc.Issuer != em.IdPURL() || doc.JWKSURI != em.IdPURL()+emulator.PathIdPKeys || doc.TokenEndpoint != em.IdPURL()+emulator.PathIdPToken {
		t.Fatalf("discovery: %+v", doc)
	}
	var idpKeys, wsKeys wire.JWKS
	get(t, doc.JWKSURI, "").json(t, &idpKeys)
	get(t, em.URL()+wire.PathKeys, "").json(t, &wsKeys)
	if len(idpKeys.Keys) != 1 || idpKeys.Keys[0].Kid == wsKeys.Keys[0].Kid || idpKeys.Keys[0].N == wsKeys.Keys[0].N {
		t.Fatalf("the IdP must have its own key: %+v vs %+v", idpKeys.Keys, wsKeys.Keys)
	}

	// The workspace's discovery advertises the exchange.
	var meta wire.AuthServerMetadata
	get(t, em.URL()+wire.PathOIDCDiscovery, "").json(t, &meta)
	if !strings.Contains(strings.Join(meta.GrantTypesSupported, " "), wire.GrantTokenExchange) {
		t.Errorf("grant_types_supported lacks token exchange: %v", meta.GrantTypesSupported)
	}

	// A user's ID token: RS256 with the IdP's key and the standard claims.
	tok := userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tokenEndpoint(em))
	mc := verifyIdPToken(t, em, tok)
	if mc["iss"] != em.IdPURL() || mc["sub"] != testkit.WorkspaceAda.Email || mc["email"] != testkit.WorkspaceAda.Email || mc["aud"] != tokenEndpoint(em) || mc["name"] != "Ada Lovelace" {
		t.Errorf("user token claims: %v", mc)
	}
	exp, _ := mc.GetExpirationTime()
	iat, _ := mc.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) != time.Hour {
		t.Errorf("exp/iat: %v %v", exp, iat)
	}
	// A workload's token: sub is its subject.
	wl := verifyIdPToken(t, em, workloadIdPToken(t, em, testkit.CIMain.ClientID, testkit.CIMain.Secret, "https://accounts.example.com"))
	if wl["sub"] != testkit.CIMain.Subject || wl["azp"] != testkit.CIMain.ClientID || wl["aud"] != "https://accounts.example.com" || wl["email"] != nil {
		t.Errorf("workload token claims: %v", wl)
	}
	// Form credentials work too.
	r := postIdP(t, em, "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {testkit.CIMain.ClientID}, "client_secret": {testkit.CIMain.Secret}, "audience": {"x"}})
	if r.status != http.StatusOK {
		t.Errorf("client_credentials with form fields: %d %s", r.status, r.body)
	}

	for _, tc := range []struct {
		name, id, secret string
		form             url.Values
		status           int
		code, desc       string
	}{
		{"wrong password", "", "", url.Values{"grant_type": {"password"}, "username": {testkit.WorkspaceAda.Email}, "password": {"nope-nope"}, "audience": {"x"}}, 400, "invalid_grant", "password is wrong"},
		{"unknown user", "", "", url.Values{"grant_type": {"password"}, "username": {"who@example.com"}, "password": {testkit.WorkspaceAda.Password}, "audience": {"x"}}, 400, "invalid_grant", "password is wrong"},
		{"no audience", "", "", url.Values{"grant_type": {"password"}, "username": {testkit.WorkspaceAda.Email}, "password": {testkit.WorkspaceAda.Password}}, 400, "invalid_request", tokenEndpoint(em)},
		{"wrong secret", testkit.CIMain.ClientID, "wrong-wrong-wrong-wrong", url.Values{"grant_type": {"client_credentials"}, "audience": {"x"}}, 401, "invalid_client", "Client authentication failed"},
		{"other grant", "", "", url.Values{"grant_type": {"authorization_code"}, "audience": {"x"}}, 400, "unsupported_grant_type", "password or client_credentials"},
	} {
		r := postIdP(t, em, tc.id, tc.secret, tc.form)
		oe := oauthErr(t, r)
		if r.status != tc.status || oe.Code != tc.code || !strings.Contains(oe.Description, tc.desc) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
}

// verifyIdPToken checks an IdP token with the keys its discovery names.
func verifyIdPToken(t *testing.T, em *emulator.Emulator, token string) jwt.MapClaims {
	t.Helper()
	var set wire.JWKS
	get(t, em.IdPURL()+emulator.PathIdPKeys, "").json(t, &set)
	var mc jwt.MapClaims
	tok, err := jwt.ParseWithClaims(token, &mc, func(tk *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tk.Header["kid"] {
				n, _ := base64.RawURLEncoding.DecodeString(k.N)
				e, _ := base64.RawURLEncoding.DecodeString(k.E)
				return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(em.IdPURL()), jwt.WithExpirationRequired())
	if err != nil || tok.Header["typ"] != "JWT" {
		t.Fatalf("IdP token does not verify with the IdP's JWKS: %v (header %v)", err, tok.Header)
	}
	return mc
}

func TestFederationUserAccountWide(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	idpTok := userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tokenEndpoint(em))
	tok, c := exchangeOK(t, em, exchangeForm(idpTok, ""))
	if c.Subject != testkit.WorkspaceAda.ID || c.ClientID != "token-federation" || c.Scope != "all-apis" || c.Issuer != em.URL()+"/oidc" {
		t.Fatalf("federated user token: %+v", c)
	}
	// The exchanged token calls the app as Ada.
	r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tok)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), testkit.WorkspaceAda.Email) {
		t.Fatalf("whoami with the exchanged token: %d %s", r.status, r.body)
	}
	// The IdP token can be exchanged again (each exchange is independent),
	// and for other scopes; the audit log records each.
	if _, c2 := exchangeOK(t, em, url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {idpTok},
		"subject_token_type": {wire.TokenTypeJWT}, "scope": {"all-apis sql"}}); c2.Scope != "all-apis sql" || c2.ID == c.ID {
		t.Errorf("second exchange: %+v", c2)
	}
	n := 0
	for _, a := range em.Audit(0) {
		if a.Action == "federated_token_issued" && a.Principal == testkit.WorkspaceAda.ID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("audit has %d federated_token_issued entries for ada, want 2", n)
	}
	// Grace has no CAN USE on sales-api: federation gives her token, the app
	// still refuses it.
	graceTok, _ := exchangeOK(t, em, exchangeForm(userIdPToken(t, em, testkit.WorkspaceGrace.Email, testkit.WorkspaceGrace.Password, tokenEndpoint(em)), ""))
	if r := callApp(t, em.AppURL("sales-api")+"/api/whoami", graceTok); r.status != http.StatusForbidden || reasonOf(t, r) != wire.AppsReasonNoCanUse {
		t.Errorf("grace: %d %s", r.status, r.body)
	}
}

func TestFederationWorkload(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	idpTok := workloadIdPToken(t, em, testkit.CIMain.ClientID, testkit.CIMain.Secret, tokenEndpoint(em))
	tok, c := exchangeOK(t, em, exchangeForm(idpTok, testkit.EmbedderID))
	if c.Subject != testkit.EmbedderID || c.ClientID != testkit.EmbedderID || c.Scope != "all-apis" {
		t.Fatalf("federated service principal token: %+v", c)
	}
	r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tok)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), testkit.EmbedderID) {
		t.Fatalf("whoami: %d %s", r.status, r.body)
	}
	// The client id may also come as HTTP Basic with an empty secret, as
	// golang.org/x/oauth2 sends it when it guesses the auth style.
	form := exchangeForm(idpTok, "")
	res := postForm(t, em, testkit.EmbedderID, "", form)
	if res.status != http.StatusOK {
		t.Errorf("client_id in HTTP Basic: %d %s", res.status, res.body)
	}
}

func TestFederationRefusals(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	aud := tokenEndpoint(em)
	ada := userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, aud)

	// A second identity provider the workspace does not trust, with its
	// own key, and a token signed by it that claims to be the emulated
	// IdP's (same kid).
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	h, _, _ := jwt.NewParser().ParseUnverified(ada, jwt.MapClaims{})
	kid := h.Header["kid"].(string)
	sign := func(c jwt.MapClaims, kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(other)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now().Unix()
	claimsFor := func(iss string) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "sub": testkit.WorkspaceAda.Email, "email": testkit.WorkspaceAda.Email, "aud": aud, "iat": now, "exp": now + 600}
	}
	parts := strings.Split(ada, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), testkit.WorkspaceAda.Email, testkit.WorkspaceGrace.Email, 2))) + "." + parts[2]

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{"unknown issuer", exchangeForm(sign(claimsFor("https://login.example.com/tenant/v2.0"), "k1"), ""), 400, "invalid_grant", "untrusted issuer"},
		{"issuer trusted for users only", exchangeForm(sign(claimsFor("https://login.example.com/tenant/v2.0"), "k1"), testkit.EmbedderID), 400, "invalid_grant", "untrusted issuer"},
		{"wrong audience", exchangeForm(userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, "https://other.example.com"), ""), 400, "invalid_grant", "wrong audience"},
		{"wrong subject", exchangeForm(workloadIdPToken(t, em, testkit.CIBranch.ClientID, testkit.CIBranch.Secret, aud), testkit.EmbedderID), 400, "invalid_grant", "wrong subject"},
		{"bad signature: other key, same kid", exchangeForm(sign(claimsFor(em.IdPURL()), kid), ""), 400, "invalid_grant", "bad signature"},
		{"bad signature: unknown kid", exchangeForm(sign(claimsFor(em.IdPURL()), "not-published"), ""), 400, "invalid_grant", "does not publish"},
		{"bad signature: altered claims", exchangeForm(tampered, ""), 400, "invalid_grant", "bad signature"},
		{"user not found", exchangeForm(userIdPToken(t, em, testkit.IdPLinus.Email, testkit.IdPLinus.Password, aud), ""), 400, "invalid_grant", "user not found"},
		{"user token for a service principal", exchangeForm(ada, testkit.EmbedderID), 400, "invalid_grant", "wrong subject"},
		{"service principal without a policy", exchangeForm(ada, testkit.NoAccessID), 400, "invalid_grant", "has no federation policy"},
		{"client_id not a service principal", exchangeForm(ada, "nobody"), 401, "invalid_client", "not a service principal"},
		{"no subject_token", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token_type": {wire.TokenTypeJWT}, "scope": {"all-apis"}}, 400, "invalid_request", "subject_token is required"},
		{"no subject_token_type", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {ada}, "scope": {"all-apis"}}, 400, "invalid_request", wire.TokenTypeJWT},
		{"access token type", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {ada}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "scope": {"all-apis"}}, 400, "invalid_request", "not supported"},
		{"not a JWT", exchangeForm("not-a-jwt", ""), 400, "invalid_request", "not a JWT"},
		{"no scope", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {ada}, "subject_token_type": {wire.TokenTypeJWT}}, 400, "invalid_scope", "scope is required"},
		{"offline_access", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {ada}, "subject_token_type": {wire.TokenTypeJWT}, "scope": {"all-apis offline_access"}}, 400, "invalid_scope", "no refresh token"},
		{"a client secret", url.Values{"grant_type": {wire.GrantTokenExchange}, "subject_token": {ada}, "subject_token_type": {wire.TokenTypeJWT}, "scope": {"all-apis"}, "client_id": {testkit.EmbedderID}, "client_secret": {testkit.EmbedderSecret}}, 400, "invalid_request", "no client secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, em, "", "", tc.form)
			oe := oauthErr(t, r)
			if r.status != tc.status || oe.Code != tc.code || !strings.Contains(oe.Description, tc.desc) {
				t.Fatalf("got %d %s, want %d %s containing %q", r.status, r.body, tc.status, tc.code, tc.desc)
			}
			if strings.Contains(string(r.body), "eyJ") {
				t.Errorf("the refusal echoes a token: %s", r.body)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		// The IdP keeps real time; the workspace's clock runs two hours
		// ahead, so the one-hour IdP token is expired by its reckoning.
		if err := em.SetClockSkew(2 * time.Hour); err != nil {
			t.Fatal(err)
		}
		defer em.ResetFaults()
		r := postForm(t, em, "", "", exchangeForm(ada, ""))
		if oe := oauthErr(t, r); r.status != 400 || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "expired at") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("no exp", func(t *testing.T) {
		c := claimsFor("https://idp.test")
		delete(c, "exp")
		srv := fakeIssuer(t, other, "k1")
		trustIssuer(t, em, srv.URL)
		c["iss"] = srv.URL
		r := postForm(t, em, "", "", exchangeForm(sign(c, "k1"), ""))
		if oe := oauthErr(t, r); r.status != 400 || !strings.Contains(oe.Description, "no exp claim") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// fakeIssuer is another identity provider on a random port: a discovery
// document and a JWKS with key, served over real HTTP.
func fakeIssuer(t *testing.T, key *rsa.PrivateKey, kid string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET "+wire.PathOpenIDConfiguration, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + srv.URL + `","jwks_uri":"` + srv.URL + `/jwks"}`))
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
		_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"` + kid + `","use":"sig","alg":"RS256","n":"` + n + `","e":"AQAB"}]}`))
	})
	return srv
}

// trustIssuer adds an account-wide policy for issuer, which reads the
// subject from the email claim.
func trustIssuer(t *testing.T, em *emulator.Emulator, issuer string) {
	t.Helper()
	if err := em.Update(func(s *emulator.State) {
		s.FederationPolicies = append(s.FederationPolicies, emulator.FederationPolicy{
			Name:   "test-" + strings.NewReplacer(":", "-", "/", "-", ".", "-").Replace(strings.TrimPrefix(issuer, "http://")),
			Issuer: issuer, SubjectClaim: "email", Audiences: []string{"api://databricks"}})
	}); err != nil {
		t.Fatal(err)
	}
}

// Any issuer a policy names works the same way: the workspace fetches its
// discovery document and keys over HTTP, caches them, fetches again for a
// new key, and says so when it cannot reach them.
func TestFederationWithAnotherIssuer(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := fakeIssuer(t, key, "k1")
	trustIssuer(t, em, srv.URL)
	now := time.Now().Unix()
	mint := func(kid string, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tk.Header["kid"] = kid
		s, _ := tk.SignedString(key)
		return s
	}
	// sub is opaque, as Entra ID's is; the policy reads email.
	c := jwt.MapClaims{"iss": srv.URL, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "email": testkit.WorkspaceGrace.Email, "aud": "api://databricks", "iat": now, "exp": now + 300}
	_, got := exchangeOK(t, em, exchangeForm(mint("k1", c), ""))
	if got.Subject != testkit.WorkspaceGrace.ID {
		t.Fatalf("subject from the email claim: %+v", got)
	}
	// Its default-audience twin is refused: this policy names its own.
	c["aud"] = tokenEndpoint(em)
	r := postForm(t, em, "", "", exchangeForm(mint("k1", c), ""))
	if oe := oauthErr(t, r); r.status != 400 || !strings.Contains(oe.Description, "api://databricks") {
		t.Errorf("audience of the policy: %d %s", r.status, r.body)
	}
	// The issuer goes away: a new key cannot be fetched.
	c["aud"] = "api://databricks"
	srv.Close()
	time.Sleep(10 * time.Millisecond)
	r = postForm(t, em, "", "", exchangeForm(mint("k1", c), ""))
	if r.status != http.StatusOK {
		t.Errorf("cached keys should still verify: %d %s", r.status, r.body)
	}
	r = postForm(t, em, "", "", exchangeForm(mint("k2", c), ""))
	// k2 is unknown: a fetch is due only after the refetch interval, so
	// this is a bad-signature refusal, not a fetch.
	if oe := oauthErr(t, r); r.status != 400 || !strings.Contains(oe.Description, "does not publish") {
		t.Errorf("unknown kid: %d %s", r.status, r.body)
	}

	// A policy for an issuer that does not answer at all.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	trustIssuer(t, em, dead.URL)
	c["iss"] = dead.URL
	r = postForm(t, em, "", "", exchangeForm(mint("k1", c), ""))
	if oe := oauthErr(t, r); r.status != http.StatusServiceUnavailable || oe.Code != wire.OAuthTemporarilyUnavail || !strings.Contains(oe.Description, "could not be fetched") {
		t.Errorf("unreachable issuer: %d %s", r.status, r.body)
	}
}

// The Apps proxy refuses an identity provider's token sent as is, and says
// to exchange it first.
func TestAppsProxyRefusesIdPToken(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	for _, tok := range []string{
		userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tokenEndpoint(em)),
		workloadIdPToken(t, em, testkit.CIMain.ClientID, testkit.CIMain.Secret, tokenEndpoint(em)),
	} {
		r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tok)
		ae := appError(t, r)
		info, _ := ae.Info()
		if r.status != http.StatusUnauthorized || ae.ErrorCode != wire.ErrUnauthenticated || info.Reason != wire.AppsReasonIdPTokenNotExchanged ||
			info.Metadata[wire.AppsMetaIssuer] != em.IdPURL() {
			t.Fatalf("IdP token at the Apps proxy: %d %s", r.status, r.body)
		}
		for _, want := range []string{"identity provider " + em.IdPURL(), "does not accept it directly", "Exchange it at " + em.URL() + wire.PathToken, wire.GrantTokenExchange} {
			if !strings.Contains(ae.Message, want) {
				t.Errorf("message lacks %q: %s", want, ae.Message)
			}
		}
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
		}
	}
	// A token of another workspace is still "malformed or foreign", not an
	// IdP token.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tk := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://adb-1.1.azuredatabricks.net/oidc", "sub": testkit.WorkspaceAda.ID, "exp": time.Now().Add(time.Hour).Unix()})
	s, _ := tk.SignedString(key)
	if r := callApp(t, em.AppURL("sales-api")+"/api/whoami", s); reasonOf(t, r) != wire.AppsReasonTokenMalformed {
		t.Errorf("another workspace's token: %d %s", r.status, r.body)
	}
}

// The official SDKs' env-oidc auth type, as databricks-sdk-go does it: the
// IdP token from DATABRICKS_OIDC_TOKEN, the token endpoint from the
// workspace's discovery, and golang.org/x/oauth2's clientcredentials with
// the client id in the form (AuthStyleInParams) and the exchange fields as
// endpoint parameters, overriding grant_type. Nothing about it is adapted
// to the emulator.
func TestSDKEnvOIDCRequestShape(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	for _, tc := range []struct{ name, clientID, idpToken, wantSub string }{
		{"account-wide", "", userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tokenEndpoint(em)), testkit.WorkspaceAda.ID},
		{"workload identity federation", testkit.EmbedderID, workloadIdPToken(t, em, testkit.CIMain.ClientID, testkit.CIMain.Secret, tokenEndpoint(em)), testkit.EmbedderID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(wire.EnvOIDCToken, tc.idpToken)
			var meta wire.AuthServerMetadata
			get(t, em.URL()+wire.PathOIDCDiscovery, "").json(t, &meta)
			cfg := clientcredentials.Config{
				ClientID: tc.clientID, AuthStyle: oauth2.AuthStyleInParams, TokenURL: meta.TokenEndpoint, Scopes: []string{"all-apis"},
				EndpointParams: url.Values{
					"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
					"subject_token":      {os.Getenv("DATABRICKS_OIDC_TOKEN")},
					"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
				},
			}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c := verifyWithJWKS(t, em, tok.AccessToken); c.Subject != tc.wantSub || tok.Expiry.Before(time.Now().Add(59*time.Minute)) {
				t.Fatalf("claims %+v, expiry %v", c, tok.Expiry)
			}
			if r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tok.AccessToken); r.status != http.StatusOK {
				t.Fatalf("whoami: %d %s", r.status, r.body)
			}
		})
	}

	// The request body exactly as the wire reference (package wire,
	// "Token federation") writes it.
	idpTok := userIdPToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tokenEndpoint(em))
	for _, body := range []string{
		"grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=" + idpTok + "&subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=all-apis",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=all-apis&subject_token=" + idpTok + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt",
	} {
		req, _ := http.NewRequest(http.MethodPost, em.URL()+wire.PathToken, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := do(t, req); r.status != http.StatusOK {
			t.Errorf("literal body: %d %s", r.status, r.body)
		}
	}
}

func TestFederationStateValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*emulator.State)
		want   string
	}{
		{"issuer not a URL", func(s *emulator.State) { s.FederationPolicies[0].Issuer = "login.example.com" }, "issuer URL"},
		{"sp policy without subject", func(s *emulator.State) { s.FederationPolicies[1].Subject = "" }, "subject: required"},
		{"unknown sp", func(s *emulator.State) { s.FederationPolicies[1].ServicePrincipal = "nope" }, "no service principal"},
		{"account policy with subject", func(s *emulator.State) { s.FederationPolicies[0].Subject = "x" }, "only a service principal's policy"},
		{"emulated issuer without IdP", func(s *emulator.State) { s.IdentityProvider = nil }, "no identity_provider"},
		{"duplicate policy", func(s *emulator.State) { s.FederationPolicies[1].Name = s.FederationPolicies[0].Name }, "used twice"},
		{"short workload secret", func(s *emulator.State) { s.IdentityProvider.Workloads[0].Secret = "short" }, "at least 16"},
		{"bad subject claim", func(s *emulator.State) { s.FederationPolicies[0].SubjectClaim = "a b" }, "claim name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := emulator.DefaultState()
			tc.change(s)
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestFederationIdentities(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	ids := em.FederationIdentities()
	byID := map[string]emulator.FederationIdentity{}
	for _, id := range ids {
		byID[id.ID] = id
	}
	if a := byID[testkit.WorkspaceAda.Email]; a.Username != testkit.WorkspaceAda.Email || a.Password != testkit.WorkspaceAda.Password || a.ServicePrincipal != "" {
		t.Errorf("ada: %+v", a)
	}
	if l := byID[testkit.IdPLinus.Email]; !strings.Contains(l.Description, "not of this workspace") {
		t.Errorf("linus: %+v", l)
	}
	if m := byID[testkit.CIMain.ClientID]; m.ClientID != testkit.CIMain.ClientID || m.Secret != testkit.CIMain.Secret || m.ServicePrincipal != testkit.EmbedderID || !strings.Contains(m.Description, "workload identity federation") {
		t.Errorf("ci main: %+v", m)
	}
	if b := byID[testkit.CIBranch.ClientID]; b.ServicePrincipal != testkit.EmbedderID || !strings.Contains(b.Description, "refused") {
		t.Errorf("ci branch: %+v", b)
	}
}

func reasonOf(t *testing.T, r response) string {
	t.Helper()
	ae := appError(t, r)
	return ae.Reason()
}
