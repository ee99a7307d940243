package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// servicePrincipalScopes are what client_credentials grants without
// authorization_details.
var servicePrincipalScopes = map[string]bool{
	wire.ScopeAllAPIs: true, "sql": true, "file.files": true, "dashboards.genie": true,
}

func isEmbedScope(s string) bool {
	for _, e := range wire.EmbedScopes {
		if e == s {
			return true
		}
	}
	return false
}

func (e *Emulator) issuer() string { return e.URL() + "/oidc" }

func (e *Emulator) handleDatabricksConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, wire.DatabricksConfig{
		OIDCEndpoint: e.issuer(), WorkspaceID: e.WorkspaceID(), Cloud: "AWS", HostType: "workspace",
	})
}

func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	base := e.URL()
	scopes := []string{wire.ScopeAllAPIs, "sql", "file.files", "dashboards.genie"}
	scopes = append(scopes, wire.EmbedScopes...)
	scopes = append(scopes, wire.ScopeOfflineAccess, wire.ScopeCurrentUser, wire.ScopeAccessControls)
	writeJSON(w, http.StatusOK, wire.AuthServerMetadata{
		Issuer:                            e.issuer(),
		AuthorizationEndpoint:             base + wire.PathAuthorize,
		TokenEndpoint:                     base + wire.PathToken,
		JWKSURI:                           base + wire.PathKeys,
		GrantTypesSupported:               []string{wire.GrantClientCredentials, wire.GrantAuthorizationCode, wire.GrantRefreshToken, wire.GrantTokenExchange},
		ResponseTypesSupported:            []string{"code"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ScopesSupported:                   scopes,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
	})
}

func (e *Emulator) handleKeys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.keys.jwks())
}

func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	// The body is read first: until it is, the server cannot notice that a
	// client gave up, and a delay fault would hold the request (and a
	// shutdown) for its whole length.
	if oe, status := readForm(w, r); oe != nil {
		oauthError(w, r, status, oe.Code, oe.Description)
		return
	}
	if e.injectFault(w, r, EndpointToken) {
		return
	}
	form := r.PostForm
	switch grant := form.Get("grant_type"); grant {
	case "":
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "grant_type is required")
	case wire.GrantClientCredentials:
		e.clientCredentials(w, r, form)
	case wire.GrantAuthorizationCode:
		e.authorizationCodeGrant(w, r, form)
	case wire.GrantRefreshToken:
		e.refreshTokenGrant(w, r, form)
	case wire.GrantTokenExchange:
		e.tokenExchange(w, r, form) // token federation: federation.go
	default:
		oauthError(w, r, http.StatusBadRequest, wire.OAuthUnsupportedGrantType,
			fmt.Sprintf("grant_type %q is not supported by this workspace emulator; use client_credentials, authorization_code, refresh_token or %s", grant, wire.GrantTokenExchange))
	}
}

// authenticateClient checks the client's credentials, sent either with HTTP
// Basic (RFC 6749 2.3.1: form-encoded id and secret) or as form fields.
func (e *Emulator) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values) (ServicePrincipal, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, secret = formUnescape(id), formUnescape(secret)
		if form.Has("client_secret") {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "the client authenticated twice (HTTP Basic and client_secret); use one method")
			return ServicePrincipal{}, false
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "client_id in the form differs from the one in the Authorization header")
			return ServicePrincipal{}, false
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	noteOf(r).claimed = id // whose attempt it was, even when refused
	if id == "" || secret == "" {
		e.refuseClient(w, r, basic, "Client authentication failed: send client_id and client_secret with HTTP Basic or as form fields")
		return ServicePrincipal{}, false
	}
	e.mu.RLock()
	sp, ok := e.state.servicePrincipal(id)
	e.mu.RUnlock()
	if !ok || subtle.ConstantTimeCompare([]byte(sp.Secret), []byte(secret)) != 1 {
		e.refuseClient(w, r, basic, "Client authentication failed")
		return ServicePrincipal{}, false
	}
	if t, err := time.Parse(time.RFC3339, sp.SecretExpireTime); err == nil && !t.After(e.clock.now()) {
		e.refuseClient(w, r, basic, "Client authentication failed: the client secret expired at "+sp.SecretExpireTime)
		return ServicePrincipal{}, false
	}
	noteOf(r).principal = sp.ApplicationID
	return sp, true
}

func (e *Emulator) refuseClient(w http.ResponseWriter, r *http.Request, basic bool, desc string) {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
	}
	oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient, desc)
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func (e *Emulator) clientCredentials(w http.ResponseWriter, r *http.Request, form url.Values) {
	sp, ok := e.authenticateClient(w, r, form)
	if !ok {
		return
	}
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidScope, "scope is required, e.g. scope=all-apis")
		return
	}
	if form.Has(wire.FieldAuthorizationDetails) || form.Has(wire.FieldCustomClaim) {
		e.scopedExchange(w, r, sp, form)
		return
	}
	for _, s := range scopes {
		if isEmbedScope(s) {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidScope,
				fmt.Sprintf("scope %s is granted only together with the authorization_details and custom_claim that tokeninfo returns", s))
			return
		}
		if !servicePrincipalScopes[s] {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidScope, fmt.Sprintf("unknown scope %q; a service principal may ask for all-apis", s))
			return
		}
	}
	e.issue(w, r, claims.Claims{Subject: sp.ApplicationID, ClientID: sp.ApplicationID, Scope: strings.Join(scopes, " ")}, nil)
}

// scopedExchange is step 3. The form must carry the three fields of the
// official SDKs' tokeninfo answer (authorization_details, custom_claim,
// scope) as tokeninfo issued them to this client for this viewer; any other
// field is ignored, since the sample apps pass on whatever they got.
func (e *Emulator) scopedExchange(w http.ResponseWriter, r *http.Request, sp ServicePrincipal, form url.Values) {
	for _, k := range []string{wire.FieldAuthorizationDetails, wire.FieldCustomClaim} {
		if form.Get(k) == "" {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest,
				k+" is required: pass authorization_details, custom_claim and scope from the tokeninfo answer")
			return
		}
	}
	rawDetails := form.Get(wire.FieldAuthorizationDetails)
	var details []wire.AuthorizationDetail
	if err := json.Unmarshal([]byte(rawDetails), &details); err != nil || len(details) == 0 {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "authorization_details must be the JSON array from tokeninfo, encoded as one string")
		return
	}
	claim := form.Get(wire.FieldCustomClaim)
	now := e.clock.now()
	g, ok := e.grants.get(sp.ApplicationID, claim, now)
	if !ok {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant,
			"custom_claim was not issued by tokeninfo to this client, or has expired: call tokeninfo for this viewer first and pass its answer unchanged")
		return
	}
	if !g.detailsMatch(rawDetails) {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant, "authorization_details does not match what tokeninfo issued for this viewer")
		return
	}
	if form.Get(wire.FieldScope) != g.scope {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant, "scope does not match what tokeninfo issued for this viewer")
		return
	}
	// Permissions are checked again: CAN RUN may have been removed, or the
	// dashboard unpublished, since tokeninfo answered.
	if status, _, msg := e.dashboardAccess(sp.ApplicationID, g.dashboardID); status != http.StatusOK {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant, msg)
		return
	}
	c := claims.Claims{
		Subject: sp.ApplicationID, ClientID: sp.ApplicationID, Scope: form.Get(wire.FieldScope),
		CustomClaim: claim, AuthorizationDetails: details,
	}
	e.issue(w, r, c, func(jti string) {
		e.audit.add(func(seq int64) AuditEntry {
			return AuditEntry{Seq: seq, Time: now.UTC(), Action: "scoped_token_issued", ExternalViewerID: g.viewerID,
				DashboardID: g.dashboardID, ClientID: sp.ApplicationID, TokenID: jti}
		})
	})
}

// issue signs c with the standard claims filled in and answers the token
// response; issued runs with the token's id once it is signed.
func (e *Emulator) issue(w http.ResponseWriter, r *http.Request, c claims.Claims, issued func(jti string)) {
	tok, c, err := e.mint(c)
	if err != nil {
		e.log.Error("emulator: sign token", "err", err)
		oauthError(w, r, http.StatusInternalServerError, wire.OAuthServerError, "the emulator could not sign the token")
		return
	}
	if issued != nil {
		issued(c.ID)
	}
	writeJSON(w, http.StatusOK, wire.TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: c.ExpiresAt - c.IssuedAt, Scope: c.Scope})
}

// mint fills in the standard claims of c and signs it.
func (e *Emulator) mint(c claims.Claims) (string, claims.Claims, error) {
	now := e.clock.now()
	c.Issuer = e.issuer()
	c.Audience = claims.Audience{c.ClientID}
	c.IssuedAt = now.Unix()
	c.ExpiresAt = now.Unix() + e.lifetime.Load()
	c.ID = randomID()
	tok, err := e.keys.sign(c)
	return tok, c, err
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// Token verification errors, worded for the people who will read them.
var (
	errNoBearer = errors.New("Credential was not sent or was of an unsupported type for this API: send Authorization: Bearer <token>")
	errExpired  = errors.New("Token is expired: get a new one (workspace tokens live one hour by default)")
)

// verify checks a workspace token: RS256 signature by a published key,
// issuer, expiry against the emulator's clock.
func (e *Emulator) verify(token string) (*claims.Claims, error) {
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return e.keys.publicKey(kid)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(e.issuer()),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(e.clock.now),
	)
	switch {
	case err == nil:
		return &jc.Claims, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errExpired
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, errors.New("Token is malformed: it is not a compact JWT")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, fmt.Errorf("Token was issued by another workspace; this one is %s", e.issuer())
	case errors.Is(err, errUnknownKey):
		return nil, errors.New("Token is signed with a key this workspace does not publish")
	default:
		return nil, errors.New("Token signature is invalid")
	}
}

// bearer verifies the request's bearer token and answers 401 when it fails.
func (e *Emulator) bearer(w http.ResponseWriter, r *http.Request) (*claims.Claims, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		apiError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, errNoBearer.Error())
		return nil, false
	}
	c, err := e.verify(strings.TrimSpace(tok))
	if err != nil {
		apiError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated, err.Error())
		return nil, false
	}
	noteOf(r).principal = c.Subject
	return c, true
}

// grant is what tokeninfo answered to one client for one viewer, kept so the
// exchange can insist on getting exactly that back.
type grant struct {
	details     []wire.AuthorizationDetail
	scope       string
	viewerID    string
	dashboardID string
	expires     time.Time
}

// detailsMatch says whether got (step 3's authorization_details) is the array
// tokeninfo issued. It may be re-encoded with other spacing or key order (an
// SDK client marshals its own struct), and an entry may leave out
// resource_legacy_acl_path, which is optional; any other difference, a
// changed resource_legacy_acl_path included, is a different grant.
func (g grant) detailsMatch(got string) bool {
	var gotV []map[string]any
	if json.Unmarshal([]byte(got), &gotV) != nil || len(gotV) != len(g.details) {
		return false
	}
	b, _ := json.Marshal(g.details) // our own type always encodes
	var want []map[string]any
	_ = json.Unmarshal(b, &want)
	for i := range want {
		if _, ok := gotV[i][aclPathKey]; !ok {
			delete(want[i], aclPathKey)
		}
	}
	return reflect.DeepEqual(gotV, want)
}

const aclPathKey = "resource_legacy_acl_path"

// grantStore is bounded: expired grants are pruned as new ones arrive.
type grantStore struct {
	mu      sync.Mutex
	m       map[string]grant
	inserts int
}

const maxGrants = 200_000

func grantKey(client, claim string) string { return client + "\x00" + claim }

func (s *grantStore) put(client, claim string, g grant, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]grant{}
	}
	s.inserts++
	if s.inserts%1024 == 0 || len(s.m) >= maxGrants {
		for k, old := range s.m {
			if now.After(old.expires) || len(s.m) >= maxGrants {
				delete(s.m, k)
			}
		}
	}
	s.m[grantKey(client, claim)] = g
}

func (s *grantStore) get(client, claim string, now time.Time) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.m[grantKey(client, claim)]
	if !ok || now.After(g.expires) {
		return grant{}, false
	}
	return g, true
}
