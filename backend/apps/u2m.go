package apps

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// U2M runs the authorization code flow with PKCE for the people signed in
// to embedlab, each with the scopes they pick, and keeps their tokens on
// the server: the browser sees claims, never the refresh token.
type U2M struct {
	cfg       oauth2.Config
	redirects []string        // registered redirect URIs, one per origin the app is opened on
	ctx       context.Context // for refreshes, which outlive any one request
	now       func() time.Time

	mu      sync.Mutex
	pending map[string]pendingLogin // by state
	users   map[string]*userToken   // by embedlab user
}

type pendingLogin struct {
	user, verifier, redirect string
	scopes                   []string
	created                  time.Time
}

type userToken struct {
	src    oauth2.TokenSource
	scopes []string
}

// loginTTL bounds how long a started sign-in may take.
const loginTTL = 10 * time.Minute

// NewU2M configures the flow against a workspace for a public OAuth client
// with the given registered redirect URIs (the first is the default).
func NewU2M(ctx context.Context, host, clientID string, redirects ...string) (*U2M, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, &SourceError{Kind: api.SourceU2M, Message: "workspace URL " + err.Error(), Fix: "set DATABRICKS_HOST or INSTANCE_URL"}
	}
	if clientID == "" {
		return nil, &SourceError{Kind: api.SourceU2M, Message: "no OAuth client id", Fix: "set EMBEDLAB_OAUTH_CLIENT_ID to an app connection whose redirect URI is " + strings.Join(redirects, " or ")}
	}
	if len(redirects) == 0 {
		return nil, &SourceError{Kind: api.SourceU2M, Message: "no redirect URI", Fix: "register embedlab's /api/apps/callback with the OAuth client"}
	}
	return &U2M{
		redirects: redirects,
		cfg: oauth2.Config{ClientID: clientID, RedirectURL: redirects[0], Endpoint: oauth2.Endpoint{
			AuthURL: h + wire.PathAuthorize, TokenURL: h + wire.PathToken, AuthStyle: oauth2.AuthStyleInParams}},
		ctx: ctx, now: time.Now, pending: map[string]pendingLogin{}, users: map[string]*userToken{},
	}, nil
}

// RedirectFor picks the registered redirect URI on the given origin (the
// one the user's browser is on, so the session cookie comes back), else
// the first one.
func (u *U2M) RedirectFor(origin string) string {
	for _, r := range u.redirects {
		if strings.HasPrefix(r, origin+"/") {
			return r
		}
	}
	return u.redirects[0]
}

// Start begins a sign-in for user with the scopes picked (offline_access is
// added, so the token can be refreshed), and returns the authorization URL
// to send the browser to. redirect must be a registered one ("" for the
// first).
func (u *U2M) Start(user string, scopes []string, redirect string) (string, error) {
	if redirect == "" {
		redirect = u.redirects[0]
	}
	if !slices.Contains(u.redirects, redirect) {
		return "", &SourceError{Kind: api.SourceU2M, Message: redirect + " is not a registered redirect URI", Fix: "open embedlab on one of " + strings.Join(u.redirects, ", ")}
	}
	scopes = normalizeScopes(scopes)
	for _, s := range scopes {
		if !validScope(s) {
			return "", &SourceError{Input: true, Kind: api.SourceU2M, Message: fmt.Sprintf("%q is not a scope", s), Fix: "pick scopes from the list"}
		}
	}
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	u.mu.Lock()
	now := u.now()
	for k, p := range u.pending {
		if now.Sub(p.created) > loginTTL {
			delete(u.pending, k)
		}
	}
	if len(u.pending) > 10000 {
		u.mu.Unlock()
		return "", &SourceError{Kind: api.SourceU2M, Message: "too many sign-ins in progress", Fix: "try again in a few minutes"}
	}
	u.pending[state] = pendingLogin{user: user, verifier: verifier, redirect: redirect, scopes: scopes, created: now}
	u.mu.Unlock()
	cfg := u.cfg
	cfg.Scopes, cfg.RedirectURL = scopes, redirect
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// Finish completes the sign-in the workspace redirected back with: the state
// must be one this user started, and the code is exchanged with its
// verifier.
// ErrSignInUnknown is why Finish refuses a state it did not issue to this
// user, or issued too long ago.
var ErrSignInUnknown = errors.New("unknown, foreign or expired sign-in state")

func (u *U2M) Finish(ctx context.Context, user, state, code string) error {
	u.mu.Lock()
	p, ok := u.pending[state]
	if ok && p.user == user {
		delete(u.pending, state) // one use, whatever happens next
	}
	u.mu.Unlock()
	switch {
	case !ok || u.now().Sub(p.created) > loginTTL:
		return &SourceError{Kind: api.SourceU2M, Message: "this sign-in is unknown or has expired", Fix: "start the sign-in again from the Call an app page", Err: ErrSignInUnknown}
	case p.user != user:
		return &SourceError{Kind: api.SourceU2M, Message: "this sign-in was started by another embedlab user", Fix: "start the sign-in again while signed in as yourself", Err: ErrSignInUnknown}
	case code == "":
		return &SourceError{Kind: api.SourceU2M, Message: "the workspace sent no authorization code", Fix: "start the sign-in again"}
	}
	cfg := u.cfg
	cfg.RedirectURL = p.redirect
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return tokenError(api.SourceU2M, err)
	}
	granted := p.scopes
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		granted = strings.Fields(s)
	}
	u.mu.Lock()
	u.users[user] = &userToken{src: oauth2.ReuseTokenSourceWithExpiry(tok, u.cfg.TokenSource(u.ctx, tok), renewBefore), scopes: granted}
	u.mu.Unlock()
	return nil
}

// Source returns the user's U2M token source, once they have signed in.
func (u *U2M) Source(user string) (Source, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.users[user]
	if !ok {
		return nil, false
	}
	return &u2mSource{u: u, user: user, t: t}, true
}

// SignOut forgets the user's token.
func (u *U2M) SignOut(user string) {
	u.mu.Lock()
	delete(u.users, user)
	u.mu.Unlock()
}

type u2mSource struct {
	u    *U2M
	user string
	t    *userToken
}

func (s *u2mSource) Kind() string { return api.SourceU2M }
func (s *u2mSource) Describe() string {
	return fmt.Sprintf("your sign-in at %s (authorization code + PKCE, scopes %s)", strings.TrimSuffix(s.u.cfg.Endpoint.AuthURL, wire.PathAuthorize), strings.Join(s.t.scopes, " "))
}

func (s *u2mSource) Token(ctx context.Context) (*oauth2.Token, error) {
	t, err := s.t.src.Token()
	if err != nil {
		s.u.SignOut(s.user) // a dead refresh token stays dead: sign in again
		return nil, tokenError(api.SourceU2M, err)
	}
	return t, nil
}

// normalizeScopes sorts, removes duplicates and adds offline_access.
func normalizeScopes(in []string) []string {
	out := []string{wire.ScopeOfflineAccess}
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func validScope(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".:-_", c)) {
			return false
		}
	}
	return true
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
