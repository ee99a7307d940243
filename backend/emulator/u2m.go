package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// The token endpoint's user grants: authorization_code (with PKCE) and
// refresh_token (with rotation). Both are for public clients, which send
// their client_id and no secret.

// grantError is an OAuth error of the token endpoint, ready to send.
type grantError struct {
	status int
	code   string
	desc   string
}

func invalidGrant(format string, a ...any) *grantError {
	return &grantError{http.StatusBadRequest, wire.OAuthInvalidGrant, fmt.Sprintf(format, a...)}
}

// invalidRefreshToken refuses a refresh token as Databricks does, whatever
// the reason (unknown, expired, revoked, replayed, another client's): 401
// invalid_grant "Refresh token is invalid", the answer databricks-sdk-go's
// own test of PersistentAuth uses, and the exact text its u2m code turns into
// "the refresh token is invalid ... run databricks auth login". The reason
// stays off the wire (the replay is in the audit log).
func invalidRefreshToken() *grantError {
	return &grantError{http.StatusUnauthorized, wire.OAuthInvalidGrant, wire.RefreshTokenInvalid}
}

func invalidRequest(format string, a ...any) *grantError {
	return &grantError{http.StatusBadRequest, wire.OAuthInvalidRequest, fmt.Sprintf(format, a...)}
}

// publicClient identifies a public client: client_id in the form, or HTTP
// Basic with an empty secret (what golang.org/x/oauth2 tries first).
func (e *Emulator) publicClient(w http.ResponseWriter, r *http.Request, form url.Values) (OAuthClient, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, secret = formUnescape(id), formUnescape(secret)
		if fid := form.Get("client_id"); fid != "" && fid != id {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "client_id in the form differs from the one in the Authorization header")
			return OAuthClient{}, false
		}
		if form.Has("client_secret") {
			oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "the client authenticated twice (HTTP Basic and client_secret); use one method")
			return OAuthClient{}, false
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient, "client_id is required: a public client such as databricks-cli sends it as a form field")
		return OAuthClient{}, false
	}
	c, ok := e.client(id)
	if !ok {
		oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient,
			fmt.Sprintf("Client authentication failed: %q is not an OAuth client of the authorization code flow in this workspace", id))
		return OAuthClient{}, false
	}
	if secret != "" {
		oauthError(w, r, http.StatusUnauthorized, wire.OAuthInvalidClient,
			fmt.Sprintf("Client authentication failed: %s is a public client and has no secret; send none (PKCE protects the code)", id))
		return OAuthClient{}, false
	}
	return c, true
}

func (e *Emulator) authorizationCodeGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	client, ok := e.publicClient(w, r, form)
	if !ok {
		return
	}
	ac, ge := e.redeemCode(client.ClientID, form.Get("code"), form.Get("redirect_uri"), form.Has("redirect_uri"), form.Get("code_verifier"))
	if ge != nil {
		oauthError(w, r, ge.status, ge.code, ge.desc)
		return
	}
	e.issueUser(w, r, ac.userID, client.ClientID, ac.scopes, ac.scopes, ac.family)
}

// redeemCode checks an authorization code and its PKCE verifier. A code is
// burned by its first redemption, right or wrong; a second one revokes the
// refresh tokens the first one got (RFC 6749 section 4.1.2).
func (e *Emulator) redeemCode(clientID, code, redirectURI string, redirectSet bool, verifier string) (authCode, *grantError) {
	if code == "" {
		return authCode{}, invalidRequest("code is required")
	}
	now := e.clock.now()
	e.u2m.mu.Lock()
	defer e.u2m.mu.Unlock()
	ac, ok := e.u2m.codes.get(digest(code), now)
	switch {
	case !ok:
		return authCode{}, invalidGrant("the authorization code is unknown or has expired (codes live %d seconds): sign in again", int(codeLifetime/time.Second))
	case ac.used:
		e.u2m.revoked.put(ac.family, true, now.Add(refreshLifetime), now)
		e.audit.add(func(seq int64) AuditEntry {
			return AuditEntry{Seq: seq, Time: now.UTC(), Action: "authorization_code_replayed", Principal: ac.userID, ClientID: ac.clientID}
		})
		return authCode{}, invalidGrant("the authorization code was already used: codes are single-use, and the tokens issued with it are now revoked")
	}
	ac.used = true
	switch {
	case ac.clientID != clientID:
		return authCode{}, invalidGrant("the authorization code was issued to another client")
	case ac.redirectSet && !redirectSet:
		return authCode{}, invalidRequest("redirect_uri is required: send the same one as in the authorization request")
	case redirectSet && redirectURI != ac.redirectURI:
		return authCode{}, invalidGrant("redirect_uri does not match the one of the authorization request")
	case verifier == "":
		return authCode{}, invalidRequest("code_verifier is required: this workspace requires PKCE")
	case len(verifier) < minVerifierLen || len(verifier) > maxVerifierLen || strings.Trim(verifier, verifierChars) != "":
		return authCode{}, invalidRequest("code_verifier must be %d to %d characters of A-Z a-z 0-9 - . _ ~", minVerifierLen, maxVerifierLen)
	case !constEq(s256(verifier), ac.challenge):
		return authCode{}, invalidGrant("code_verifier does not match the code_challenge of the authorization request (S256)")
	}
	return *ac, nil
}

const verifierChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

func (e *Emulator) refreshTokenGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	client, ok := e.publicClient(w, r, form)
	if !ok {
		return
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidRequest, "refresh_token is required")
		return
	}
	var asked []string
	if form.Has("scope") {
		asked = strings.Fields(form.Get("scope"))
	}
	old, ge := e.rotate(client.ClientID, rt, asked)
	if ge != nil {
		oauthError(w, r, ge.status, ge.code, ge.desc)
		return
	}
	scopes := old.scopes
	if len(asked) > 0 {
		scopes = asked
	}
	e.issueUser(w, r, old.userID, client.ClientID, scopes, old.scopes, old.family)
}

// rotate marks a refresh token used and returns it; asked, when set, must
// be among the scopes granted at sign-in. Presenting a rotated token again
// is a replay: the whole family is revoked. A refused request leaves the
// token as it was.
func (e *Emulator) rotate(clientID, token string, asked []string) (refreshEntry, *grantError) {
	now := e.clock.now()
	e.u2m.mu.Lock()
	defer e.u2m.mu.Unlock()
	re, ok := e.u2m.refresh.get(digest(token), now)
	if !ok {
		return refreshEntry{}, invalidRefreshToken() // unknown or expired
	}
	if _, revoked := e.u2m.revoked.get(re.family, now); revoked {
		return refreshEntry{}, invalidRefreshToken() // revoked: a rotated refresh token or an authorization code of its sign-in was replayed
	}
	if re.clientID != clientID {
		return refreshEntry{}, invalidRefreshToken() // issued to another client
	}
	if re.rotated {
		e.u2m.revoked.put(re.family, true, now.Add(refreshLifetime), now)
		e.audit.add(func(seq int64) AuditEntry {
			return AuditEntry{Seq: seq, Time: now.UTC(), Action: "refresh_token_replayed", Principal: re.userID, ClientID: re.clientID}
		})
		return refreshEntry{}, invalidRefreshToken() // already used: a replay, so every refresh token of this sign-in is now revoked
	}
	for _, sc := range asked {
		if !slices.Contains(re.scopes, sc) {
			return refreshEntry{}, &grantError{http.StatusBadRequest, wire.OAuthInvalidScope,
				fmt.Sprintf("scope %q was not granted at sign-in (granted: %s); a refresh may only narrow the scopes", sc, strings.Join(re.scopes, " "))}
		}
	}
	re.rotated = true
	return *re, nil
}

// issueUser answers a user's token request: an access token with scopes,
// and a new refresh token of family when offline_access was granted.
func (e *Emulator) issueUser(w http.ResponseWriter, r *http.Request, userID, clientID string, scopes, granted []string, family string) {
	noteOf(r).principal = userID
	e.mu.RLock()
	_, ok := e.state.user(userID)
	e.mu.RUnlock()
	if !ok {
		oauthError(w, r, http.StatusBadRequest, wire.OAuthInvalidGrant, "the user no longer exists in this workspace")
		return
	}
	tok, c, err := e.mint(claims.Claims{Subject: userID, ClientID: clientID, Scope: strings.Join(scopes, " ")})
	if err != nil {
		e.log.Error("emulator: sign token", "err", err)
		oauthError(w, r, http.StatusInternalServerError, wire.OAuthServerError, "the emulator could not sign the token")
		return
	}
	res := wire.TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: c.ExpiresAt - c.IssuedAt, Scope: c.Scope}
	now := e.clock.now()
	if slices.Contains(granted, wire.ScopeOfflineAccess) {
		res.RefreshToken = randomToken()
		e.u2m.mu.Lock()
		e.u2m.refresh.put(digest(res.RefreshToken), &refreshEntry{family: family, clientID: clientID, userID: userID, scopes: granted},
			now.Add(refreshLifetime), now)
		e.u2m.mu.Unlock()
	}
	e.audit.add(func(seq int64) AuditEntry {
		return AuditEntry{Seq: seq, Time: now.UTC(), Action: "user_token_issued", Principal: userID, ClientID: clientID, Scope: c.Scope, TokenID: c.ID}
	})
	writeJSON(w, http.StatusOK, res)
}
