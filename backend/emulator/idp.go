package emulator

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/shared/wire"
)

// The emulated identity provider: an external IdP (standing in for Microsoft
// Entra ID, Okta or GitHub Actions' OIDC issuer) on its own origin, with its
// own signing key, so that token federation (the wire reference, package
// wire, "Token federation") can be shown for real: its tokens are verified by
// the workspace only through its discovery document and JWKS, fetched over
// HTTP like any other issuer's.
//
//	GET  /.well-known/openid-configuration   discovery: issuer, jwks_uri, token_endpoint
//	GET  /keys                               JWKS (RS256)
//	POST /token                              grant_type=password (a user: username, password)
//	                                         or client_credentials (a workload: HTTP Basic or
//	                                         client_id + client_secret), and audience
//
// Its tokens are JWTs signed RS256 with iss (the IdP's URL), sub, aud (the
// audience asked for), iat, nbf, exp (one hour), jti; a user's also carry
// email and name, a workload's azp (its client id). It keeps its own time,
// the real one: the workspace's clock skew (PUT /emulator/clock) shows what
// drift between an IdP and the workspace does to federation.

// IdP paths, relative to the identity provider's URL.
const (
	PathIdPKeys  = "/keys"
	PathIdPToken = "/token"

	grantPassword = "password"
	idpLifetime   = time.Hour
)

// idp is the identity provider's own part of the emulator.
type idp struct {
	keys    *keyring
	handler http.Handler
	srv     *http.Server

	mu  sync.RWMutex
	url string
}

func newIdP(e *Emulator, baseURL string) (*idp, error) {
	keys, err := newKeyring()
	if err != nil {
		return nil, err
	}
	p := &idp{keys: keys, url: strings.TrimRight(baseURL, "/")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.handleIdPIndex)
	mux.HandleFunc("GET "+wire.PathOpenIDConfiguration, e.handleIdPDiscovery)
	mux.HandleFunc("GET "+PathIdPKeys, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, keys.jwks()) })
	mux.HandleFunc("POST "+PathIdPToken, e.handleIdPToken)
	mux.HandleFunc("/", e.handleNotFound)
	p.handler = e.recoverPanics(e.logRequests(mux))
	return p, nil
}

// IdPHandler serves the identity provider, for a caller that serves it
// itself (then call SetIdPURL with its URL).
func (e *Emulator) IdPHandler() http.Handler { return e.idp.handler }

// IdPURL is the identity provider's URL, which is also its issuer, e.g.
// http://127.0.0.1:8002.
func (e *Emulator) IdPURL() string {
	e.idp.mu.RLock()
	defer e.idp.mu.RUnlock()
	return e.idp.url
}

// SetIdPURL sets the identity provider's URL.
func (e *Emulator) SetIdPURL(u string) {
	e.idp.mu.Lock()
	e.idp.url = strings.TrimRight(u, "/")
	e.idp.mu.Unlock()
}

func (e *Emulator) handleIdPIndex(w http.ResponseWriter, r *http.Request) {
	base := e.IdPURL()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, `embedlab emulated identity provider (issuer %s)

An external identity provider, as Microsoft Entra ID or GitHub Actions would be.
Its tokens do not call Databricks Apps directly: exchange them at the
workspace's %s%s first (token federation).
  discovery   %s%s
  keys        %s%s
  token       POST %s%s   grant_type=password&username=...&password=...&audience=...
                          or grant_type=client_credentials (a workload) &audience=...
`, base, e.URL(), wire.PathToken, base, wire.PathOpenIDConfiguration, base, PathIdPKeys, base, PathIdPToken)
}

func (e *Emulator) handleIdPDiscovery(w http.ResponseWriter, r *http.Request) {
	base := e.IdPURL()
	writeJSON(w, http.StatusOK, wire.OpenIDConfiguration{
		Issuer: base, JWKSURI: base + PathIdPKeys, TokenEndpoint: base + PathIdPToken,
		GrantTypesSupported:              []string{grantPassword, wire.GrantClientCredentials},
		ResponseTypesSupported:           []string{"id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
		ClaimsSupported:                  []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "email", "name", "azp"},
	})
}

func (e *Emulator) handleIdPToken(w http.ResponseWriter, r *http.Request) {
	if oe, status := readForm(w, r); oe != nil {
		oauthError(w, r, status, oe.Code, oe.Description)
		return
	}
	form := r.PostForm
	aud := strings.TrimSpace(form.Get("audience"))
	if aud == "" {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest,
			fmt.Sprintf("audience is required: who the token is for, e.g. the workspace's token endpoint %s%s (what its federation policies accept by default)", e.URL(), wire.PathToken))
		return
	}
	if len(aud) > 512 {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "audience is longer than 512 characters")
		return
	}
	c := jwt.MapClaims{"aud": aud}
	switch grant := form.Get("grant_type"); grant {
	case grantPassword:
		u, ok := e.idpSignIn(form.Get("username"), form.Get("password"))
		if !ok {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant, "the user name or password is wrong")
			return
		}
		c["sub"], c["email"], c["name"] = strings.ToLower(u.Email), strings.ToLower(u.Email), u.Name
		noteOf(r).principal = c["sub"].(string)
	case wire.GrantClientCredentials:
		wl, ok := e.idpClient(r, form)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="idp"`)
			oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient, "Client authentication failed: send a workload's client_id and client_secret")
			return
		}
		c["sub"], c["azp"] = wl.Subject, wl.ClientID
		noteOf(r).principal = wl.ClientID
	case "":
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "grant_type is required: password (a user) or client_credentials (a workload)")
		return
	default:
		oauthError(w, r, http.StatusBadRequest, wire.OAuthUnsupportedGrantType,
			fmt.Sprintf("grant_type %q is not supported by this identity provider; use password or client_credentials", grant))
		return
	}
	tok, exp, err := e.idp.sign(e.IdPURL(), c)
	if err != nil {
		e.log.Error("emulator: identity provider: sign token", "err", err)
		oauthError(w, r, http.StatusInternalServerError, wire.OAuthServerError, "the identity provider could not sign the token")
		return
	}
	res := wire.TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(exp / time.Second)}
	if form.Get("grant_type") == grantPassword {
		res.IDToken = tok
	}
	writeJSON(w, http.StatusOK, res)
}

// idpSignIn checks a user's password in constant time.
func (e *Emulator) idpSignIn(name, password string) (IdPUser, bool) {
	e.mu.RLock()
	u, ok := e.state.idpUser(strings.TrimSpace(name))
	e.mu.RUnlock()
	want := u.Password
	if !ok {
		want = "\x00no user\x00"
	}
	match := constEq(want, password)
	return u, ok && match
}

// idpClient authenticates a workload with HTTP Basic or form fields.
func (e *Emulator) idpClient(r *http.Request, form url.Values) (IdPWorkload, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, secret = formUnescape(id), formUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	e.mu.RLock()
	wl, ok := e.state.idpWorkload(id)
	e.mu.RUnlock()
	if !ok || id == "" || subtle.ConstantTimeCompare([]byte(wl.Secret), []byte(secret)) != 1 {
		return IdPWorkload{}, false
	}
	return wl, true
}

// sign completes c with the standard claims and signs it with the
// identity provider's key (header typ JWT, its kid).
func (p *idp) sign(issuer string, c jwt.MapClaims) (string, time.Duration, error) {
	now := time.Now()
	c["iss"], c["iat"], c["nbf"], c["exp"], c["jti"] = issuer, now.Unix(), now.Unix(), now.Add(idpLifetime).Unix(), randomID()
	p.keys.mu.RLock()
	k := p.keys.current
	p.keys.mu.RUnlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["typ"] = "JWT"
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.priv)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return s, idpLifetime, nil
}

// FederationIdentity is one identity of the emulated identity provider
// that a demo can get a token for and exchange: a user (account-wide
// federation) or a workload (workload identity federation for a service
// principal). The credentials are public demo values from the state.
type FederationIdentity struct {
	ID          string `json:"id"` // the user's e-mail or the workload's client id
	Label       string `json:"label"`
	Description string `json:"description"`
	// Username and Password get a user's token (grant_type=password).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// ClientID and Secret get a workload's token (client_credentials).
	ClientID string `json:"client_id,omitempty"`
	Secret   string `json:"secret,omitempty"`
	// ServicePrincipal is the client_id to send with the exchange; empty
	// for account-wide federation.
	ServicePrincipal string `json:"service_principal,omitempty"`
}

// FederationIdentities lists the identity provider's users and workloads
// with how each is exchanged: users account-wide, a workload for the
// service principal whose policy on the emulated IdP names its subject (or,
// to show the refusal, the first such service principal when none does).
func (e *Emulator) FederationIdentities() []FederationIdentity {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.state.IdentityProvider == nil {
		return nil
	}
	var out []FederationIdentity
	for _, u := range e.state.IdentityProvider.Users {
		desc := "a user: exchanged without client_id (account-wide federation) for a token of the workspace user " + u.Email
		if _, ok := e.state.userByName(u.Email); !ok {
			desc = "a user of the identity provider but not of this workspace: the exchange is refused"
		}
		out = append(out, FederationIdentity{ID: strings.ToLower(u.Email), Label: u.Name + " <" + u.Email + ">", Description: desc,
			Username: u.Email, Password: u.Password})
	}
	for _, wl := range e.state.IdentityProvider.Workloads {
		sp, trusted := "", false
		for _, p := range e.state.FederationPolicies {
			if p.Issuer != IssuerEmulatedIdP || p.accountWide() {
				continue
			}
			if sp == "" {
				sp = p.ServicePrincipal
			}
			if p.Subject == wl.Subject {
				sp, trusted = p.ServicePrincipal, true
				break
			}
		}
		desc := "a workload (sub " + wl.Subject + ")"
		if wl.Description != "" {
			desc = wl.Description + " (sub " + wl.Subject + ")"
		}
		switch {
		case sp == "":
			desc += ": no service principal federates it"
		case trusted:
			desc += ": exchanged with client_id " + sp + " (workload identity federation)"
		default:
			desc += ": exchanged with client_id " + sp + ", whose policy trusts another subject, so it is refused"
		}
		out = append(out, FederationIdentity{ID: wl.ClientID, Label: "workload " + wl.ClientID, Description: desc,
			ClientID: wl.ClientID, Secret: wl.Secret, ServicePrincipal: sp})
	}
	return out
}
