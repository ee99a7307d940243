package emulator

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Token federation (the wire reference, package wire, "Token federation"):
// POST /oidc/v1/token with
//
//	grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//	&subject_token=<the IdP's JWT>&subject_token_type=urn:ietf:params:oauth:token-type:jwt
//	&scope=all-apis[&client_id=<service principal application id>]
//
// exchanges an identity provider's token for a workspace token. The
// subject token must come from an issuer a federation policy trusts; its
// signature is checked with the keys the issuer publishes (its discovery
// document's jwks_uri, fetched over HTTP and cached for a few minutes), and
// its expiry, audience and subject against the policy. Without client_id
// the token's subject names a workspace user (by e-mail or id); with it,
// the subject must be the one the service principal's policy names.
//
// Each refusal says what failed and how to fix it: 400 invalid_request for
// a malformed request or subject token, 401 invalid_client for a
// client_id that is no service principal, 400 invalid_grant for a token
// the policies do not accept (untrusted issuer, wrong audience, wrong
// subject, expired, bad signature, no such user), 503 when the issuer's
// keys cannot be fetched.

// federationClientID is the client_id of tokens got by account-wide
// federation, where no OAuth client is involved.
const federationClientID = "token-federation"

// exchangeScopes are the scopes a federated token may carry.
var exchangeScopes = map[string]bool{
	wire.ScopeAllAPIs: true, wire.ScopeSQL: true, wire.ScopeFiles: true, wire.ScopeGenie: true,
	wire.ScopeCurrentUser: true, wire.ScopeAccessControls: true,
}

// exchangeAlgs are the signing algorithms accepted on subject tokens.
var exchangeAlgs = []string{"RS256", "RS384", "RS512"}

func (e *Emulator) tokenExchange(w http.ResponseWriter, r *http.Request, form url.Values) {
	clientID, ge := exchangeClient(r, form)
	if ge == nil {
		ge = checkExchangeForm(form)
	}
	if ge != nil {
		oauthError(w, r, ge.status, ge.code, ge.desc)
		return
	}
	scopes := strings.Fields(form.Get(wire.FieldScope))
	var sp ServicePrincipal
	if clientID != "" {
		var ok bool
		e.mu.RLock()
		sp, ok = e.state.servicePrincipal(clientID)
		e.mu.RUnlock()
		if !ok {
			oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient,
				fmt.Sprintf("client_id %q is not a service principal of this workspace: send a service principal's application id for workload identity federation, or no client_id for account-wide federation", clientID))
			return
		}
		noteOf(r).principal = sp.ApplicationID
	}
	subject, policy, ge := e.verifySubjectToken(r.Context(), form.Get(wire.FieldSubjectToken), clientID)
	if ge != nil {
		oauthError(w, r, ge.status, ge.code, ge.desc)
		return
	}
	c := claims.Claims{Scope: strings.Join(scopes, " ")}
	if clientID != "" {
		c.Subject, c.ClientID = sp.ApplicationID, sp.ApplicationID
	} else {
		e.mu.RLock()
		u, ok := e.state.user(subject)
		if !ok {
			u, ok = e.state.userByName(subject)
		}
		e.mu.RUnlock()
		if !ok {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant,
				fmt.Sprintf("user not found: no user of this workspace has the e-mail or id %q (the subject token's %s claim, read by policy %s): add the user to the workspace, or federate a service principal with client_id",
					subject, policy.subjectClaim(), policy.Name))
			return
		}
		c.Subject, c.ClientID = u.ID, federationClientID
	}
	noteOf(r).principal = c.Subject
	now := e.clock.now()
	e.issue(w, r, c, func(jti string) {
		e.audit.add(func(seq int64) AuditEntry {
			return AuditEntry{Seq: seq, Time: now.UTC(), Action: "federated_token_issued", Principal: c.Subject, ClientID: c.ClientID, Scope: c.Scope, TokenID: jti}
		})
	})
}

// exchangeClient reads the optional client_id. The subject token is the
// credential: a client secret has no place here.
func exchangeClient(r *http.Request, form url.Values) (string, *grantError) {
	id := form.Get("client_id")
	if bid, secret, basic := r.BasicAuth(); basic {
		bid, secret = formUnescape(bid), formUnescape(secret)
		if id != "" && bid != id {
			return "", invalidRequest("client_id in the form differs from the one in the Authorization header")
		}
		if secret != "" {
			return "", invalidRequest("token exchange takes no client secret: the subject token is the credential; send client_id alone")
		}
		id = bid
	}
	if form.Has("client_secret") {
		return "", invalidRequest("token exchange takes no client secret: the subject token is the credential; send client_id alone")
	}
	return id, nil
}

func checkExchangeForm(form url.Values) *grantError {
	switch typ := form.Get(wire.FieldSubjectTokenType); {
	case form.Get(wire.FieldSubjectToken) == "":
		return invalidRequest("subject_token is required: the identity provider's JWT to exchange")
	case typ == "":
		return invalidRequest("subject_token_type is required: %s", wire.TokenTypeJWT)
	case typ != wire.TokenTypeJWT:
		return invalidRequest("subject_token_type %q is not supported: send %s (the identity provider's token is a JWT)", typ, wire.TokenTypeJWT)
	case form.Has("actor_token") || form.Has("actor_token_type"):
		return invalidRequest("actor_token is not supported: exchange the subject token alone")
	}
	scopes := strings.Fields(form.Get(wire.FieldScope))
	if len(scopes) == 0 {
		return &grantError{http.StatusBadRequest, wire.OAuthInvalidScope, "scope is required, e.g. scope=all-apis"}
	}
	for _, s := range scopes {
		switch {
		case s == wire.ScopeOfflineAccess:
			return &grantError{http.StatusBadRequest, wire.OAuthInvalidScope,
				"offline_access: a token exchange gives no refresh token; exchange a fresh identity provider token instead"}
		case !exchangeScopes[s]:
			return &grantError{http.StatusBadRequest, wire.OAuthInvalidScope,
				fmt.Sprintf("unknown scope %q; a federated token may carry %s", s, strings.Join(slices.Sorted(maps.Keys(exchangeScopes)), ", "))}
		}
	}
	return nil
}

// verifySubjectToken checks the subject token against the policies that
// apply (the service principal's, or the account-wide ones) and returns the
// subject and the policy that accepted it.
func (e *Emulator) verifySubjectToken(ctx context.Context, token, clientID string) (string, FederationPolicy, *grantError) {
	unverified, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return "", FederationPolicy{}, invalidRequest("subject_token is not a JWT (three base64url parts: header, claims, signature): send the identity provider's ID token as it was issued")
	}
	iss, _ := unverified.Claims.(jwt.MapClaims)["iss"].(string)
	if iss == "" {
		return "", FederationPolicy{}, invalidRequest("subject_token has no iss claim: only a token from an identity provider a federation policy trusts can be exchanged")
	}
	if iss == e.issuer() {
		return "", FederationPolicy{}, invalidRequest("subject_token is already a token of this workspace: use it as it is, only identity provider tokens are exchanged")
	}
	all, trusted := e.policiesFor(clientID)
	if clientID != "" && len(all) == 0 {
		return "", FederationPolicy{}, invalidGrant("service principal %s has no federation policy: create one with the identity provider's issuer and the workload's subject", clientID)
	}
	var policies []FederationPolicy
	for _, p := range all {
		if sameIssuer(e.policyIssuer(p), iss) {
			policies = append(policies, p)
		}
	}
	if len(policies) == 0 {
		whose := "any account-wide federation policy"
		if clientID != "" {
			whose = "any federation policy of service principal " + clientID
		}
		return "", FederationPolicy{}, invalidGrant("untrusted issuer: %q is not the issuer of %s (trusted: %s): get the token from a trusted identity provider, or add a federation policy for this issuer",
			iss, whose, strings.Join(trusted, ", "))
	}

	var mc jwt.MapClaims
	_, err = jwt.ParseWithClaims(token, &mc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return e.fed.key(ctx, iss, kid)
	},
		jwt.WithValidMethods(exchangeAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(e.clock.now),
	)
	if ge := subjectTokenError(err, mc, iss, e.clock.now()); ge != nil {
		return "", FederationPolicy{}, ge
	}

	// The signature holds; the first policy whose audience and subject
	// match wins, else the first policy's refusal is the answer.
	var first *grantError
	for _, p := range policies {
		sub, ge := e.checkPolicy(p, mc)
		if ge == nil {
			return sub, p, nil
		}
		if first == nil {
			first = ge
		}
	}
	return "", FederationPolicy{}, first
}

// checkPolicy checks the audience and the subject of a verified token.
func (e *Emulator) checkPolicy(p FederationPolicy, mc jwt.MapClaims) (string, *grantError) {
	auds, _ := mc.GetAudience()
	want := p.Audiences
	if len(want) == 0 {
		want = []string{e.URL() + wire.PathToken}
	}
	if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(want, a) }) {
		got := "none"
		if len(auds) > 0 {
			got = strings.Join(auds, ", ")
		}
		return "", invalidGrant("wrong audience: the subject token is for %s, but policy %s accepts only %s: ask the identity provider for a token with audience %s",
			got, p.Name, strings.Join(want, ", "), want[0])
	}
	claim := p.subjectClaim()
	sub, _ := mc[claim].(string)
	if sub == "" {
		return "", invalidGrant("the subject token has no %s claim, which policy %s reads the subject from", claim, p.Name)
	}
	if !p.accountWide() && sub != p.Subject {
		return "", invalidGrant("wrong subject: the subject token's %s is %q, but policy %s of service principal %s accepts only %q: use the workload the policy names, or change the policy",
			claim, sub, p.Name, p.ServicePrincipal, p.Subject)
	}
	return sub, nil
}

// subjectTokenError words a failed signature or time check.
func subjectTokenError(err error, mc jwt.MapClaims, iss string, now time.Time) *grantError {
	var fe *fetchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return &grantError{http.StatusServiceUnavailable, wire.OAuthTemporarilyUnavail,
			fmt.Sprintf("the keys of issuer %s could not be fetched (%v): check that the identity provider is reachable from the workspace, then retry", iss, fe.err)}
	case errors.Is(err, jwt.ErrTokenExpired):
		exp, _ := mc.GetExpirationTime()
		at := "an earlier time"
		if exp != nil {
			at = exp.UTC().Format(time.RFC3339)
		}
		return invalidGrant("the subject token expired at %s (the workspace's clock says %s): get a fresh token from the identity provider and exchange it before it expires",
			at, now.UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return invalidGrant("the subject token is not valid yet (issued in the future by the workspace's clock, %s): check the clocks of the identity provider and the workspace",
			now.UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalidGrant("the subject token has no exp claim: only tokens that expire can be exchanged")
	case errors.Is(err, errUnknownIssuerKey):
		return invalidGrant("bad signature: the subject token names a signing key (kid) that issuer %s does not publish at its jwks_uri: it was not signed by that identity provider", iss)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return invalidGrant("bad signature: the subject token must be signed with %s by a key its issuer publishes", strings.Join(exchangeAlgs, ", "))
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalidGrant("bad signature: the subject token's signature does not verify with the keys issuer %s publishes: it was altered, or signed by someone else", iss)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalidRequest("subject_token is malformed: %v", err)
	default:
		return invalidGrant("the subject token was refused: %v", err)
	}
}

// policiesFor returns the policies that apply to an exchange (the service
// principal's, or the account-wide ones) and the issuers they trust.
func (e *Emulator) policiesFor(clientID string) ([]FederationPolicy, []string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []FederationPolicy
	var issuers []string
	for _, p := range e.state.FederationPolicies {
		if p.ServicePrincipal != clientID {
			continue
		}
		out = append(out, p)
		if iss := e.policyIssuer(p); !slices.Contains(issuers, iss) {
			issuers = append(issuers, iss)
		}
	}
	if len(issuers) == 0 {
		issuers = []string{"none"}
	}
	return out, issuers
}

func (e *Emulator) policyIssuer(p FederationPolicy) string {
	if p.Issuer == IssuerEmulatedIdP {
		return e.IdPURL()
	}
	return p.Issuer
}

func sameIssuer(a, b string) bool {
	return a != "" && strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// issuerKeys caches identity providers' signing keys, fetched from their
// discovery documents, for a few minutes; a token naming an unknown key
// makes it fetch again (at most every refetchAfter), so a key rotation at
// the identity provider is picked up.
type issuerKeys struct {
	client *http.Client
	group  singleflight.Group

	mu sync.Mutex
	m  map[string]issuerEntry
}

type issuerEntry struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

const (
	issuerKeysTTL = 5 * time.Minute
	refetchAfter  = 10 * time.Second
	maxIssuerDoc  = 256 << 10
)

// errUnknownIssuerKey means the issuer does not publish the token's kid.
var errUnknownIssuerKey = errors.New("the issuer does not publish this key")

// fetchError is a failure to read an issuer's discovery document or keys.
type fetchError struct{ err error }

func (f *fetchError) Error() string { return f.err.Error() }

func (c *issuerKeys) key(ctx context.Context, issuer, kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	ent, ok := c.m[issuer]
	c.mu.Unlock()
	age := time.Since(ent.fetched)
	if !ok || age > issuerKeysTTL || (ent.keys[kid] == nil && age > refetchAfter) {
		v, err, _ := c.group.Do(issuer, func() (any, error) {
			keys, err := c.fetch(ctx, issuer)
			if err != nil {
				return nil, &fetchError{err}
			}
			e := issuerEntry{keys: keys, fetched: time.Now()}
			c.mu.Lock()
			if c.m == nil || len(c.m) > 100 {
				c.m = map[string]issuerEntry{}
			}
			c.m[issuer] = e
			c.mu.Unlock()
			return e, nil
		})
		if err != nil {
			return nil, err
		}
		ent = v.(issuerEntry)
	}
	if k := ent.keys[kid]; k != nil {
		return k, nil
	}
	if kid == "" && len(ent.keys) == 1 {
		for _, k := range ent.keys {
			return k, nil
		}
	}
	return nil, errUnknownIssuerKey
}

// fetch reads the issuer's discovery document, then its JWKS.
func (c *issuerKeys) fetch(ctx context.Context, issuer string) (map[string]*rsa.PublicKey, error) {
	var doc wire.OpenIDConfiguration
	discovery := strings.TrimRight(issuer, "/") + wire.PathOpenIDConfiguration
	if err := c.getJSON(ctx, discovery, &doc); err != nil {
		return nil, err
	}
	if !sameIssuer(doc.Issuer, issuer) {
		return nil, fmt.Errorf("%s names issuer %q, not %q", discovery, doc.Issuer, issuer)
	}
	if u, err := url.Parse(doc.JWKSURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s has no usable jwks_uri (%q)", discovery, doc.JWKSURI)
	}
	var set wire.JWKS
	if err := c.getJSON(ctx, doc.JWKSURI, &set); err != nil {
		return nil, err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		ex, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(ex) == 0 || len(ex) > 4 {
			continue // too short or not a key: never trusted
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s publishes no RSA signing key of 2048 bits or more", doc.JWKSURI)
	}
	return keys, nil
}

func (c *issuerKeys) getJSON(ctx context.Context, u string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	client := c.client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxIssuerDoc)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: not the expected JSON: %w", u, err)
	}
	return nil
}

// refuseIdPToken answers 401 IDP_TOKEN_NOT_EXCHANGED when the bearer token
// sent to an app is a JWT from an identity provider rather than from a
// workspace: it must be exchanged first. A token of another workspace (its
// issuer ends in /oidc) is left to the usual refusal.
func (e *Emulator) refuseIdPToken(w http.ResponseWriter, r *http.Request, app App, tok string) bool {
	_, c, err := claims.Decode(tok)
	if err != nil || c.Issuer == "" || c.Issuer == e.issuer() || strings.HasSuffix(strings.TrimRight(c.Issuer, "/"), "/oidc") {
		return false
	}
	meta := map[string]string{wire.AppsMetaApp: app.Name, wire.AppsMetaIssuer: c.Issuer}
	e.appsError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, wire.AppsReasonIdPTokenNotExchanged, meta,
		fmt.Sprintf("This is a token of the identity provider %s, not of this workspace: a Databricks App does not accept it directly. "+
			"Exchange it at %s%s first (token federation: grant_type=%s with this token as subject_token, subject_token_type=%s, scope=all-apis) and send the workspace token that comes back",
			c.Issuer, e.URL(), wire.PathToken, wire.GrantTokenExchange, wire.TokenTypeJWT))
	return true
}
