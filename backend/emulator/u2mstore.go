package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"

	"embedlab/shared/claims"
)

// Lifetimes of what the authorization code flow keeps.
const (
	pendingLifetime = 10 * time.Minute         // a login and consent page
	codeLifetime    = 60 * time.Second         // an authorization code
	refreshLifetime = 90 * 24 * time.Hour      // a refresh token (rotated on every use)
	loginLifetime   = 8 * time.Hour            // the workspace sign-in cookie
	maxPerMap       = 100_000                  // entries of each store, expired ones pruned first
	maxLoginTries   = 5                        // wrong passwords per login page
	appLoginTimeout = pendingLifetime          // a browser's way from an app to the login page and back
	minVerifierLen  = 43                       // RFC 7636 section 4.1
	maxVerifierLen  = 128                      //
	challengeLen    = 43                       // base64url of a SHA-256 digest, unpadded
	csrfCookie      = "workspace-csrf"         // binds a login form to the browser that loaded it
	loginCookie     = "workspace-session"      // the user signed in on the workspace origin
	appStateCookie  = "databricks-app-auth"    // on an app's origin: the login in progress
	appSessCookie   = "databricks-app-session" // on an app's origin: the signed-in browser
)

// u2mStore holds the state of the authorization code flow and of the
// browser sessions: login pages, codes, refresh tokens, sign-ins. The
// secrets among the keys (codes, refresh tokens, cookies) are stored as
// SHA-256 digests.
type u2mStore struct {
	mu        sync.Mutex
	pending   ttlMap[*pendingAuth]
	codes     ttlMap[*authCode]
	refresh   ttlMap[*refreshEntry]
	revoked   ttlMap[bool] // refresh token families
	logins    ttlMap[string]
	appLogins ttlMap[appLogin]
	appSess   ttlMap[appSession]
}

// pendingAuth is an authorization request waiting for the user's answer.
type pendingAuth struct {
	client      OAuthClient
	redirectURI string
	redirectSet bool // redirect_uri was in the request, so the token request must repeat it
	scopes      []string
	state       string
	challenge   string
	csrf        string
	prompt      string
	query       string // the original request, to restart it as another user
	attempts    int
}

// authCode is an issued authorization code.
type authCode struct {
	clientID    string
	redirectURI string
	redirectSet bool
	userID      string
	scopes      []string
	challenge   string
	family      string // the refresh tokens issued with it, revoked if it is replayed
	used        bool
}

// refreshEntry is one refresh token of a family: every rotation adds one
// and marks the previous one rotated.
type refreshEntry struct {
	family   string
	clientID string
	userID   string
	scopes   []string
	rotated  bool
}

// appLogin is a browser's sign-in to an app in progress.
type appLogin struct {
	app      string
	verifier string
	returnTo string
}

// appSession is a browser signed in to an app.
type appSession struct {
	app    string
	token  string
	claims claims.Claims
}

// ttlMap is a map whose entries expire; the caller holds u2mStore.mu.
type ttlMap[V any] struct {
	m    map[string]ttlEntry[V]
	puts int
}

type ttlEntry[V any] struct {
	v   V
	exp time.Time
}

func (t *ttlMap[V]) put(k string, v V, exp, now time.Time) {
	if t.m == nil {
		t.m = map[string]ttlEntry[V]{}
	}
	t.puts++
	if t.puts%1024 == 0 || len(t.m) >= maxPerMap {
		for key, e := range t.m {
			if now.After(e.exp) || len(t.m) >= maxPerMap {
				delete(t.m, key)
			}
		}
	}
	t.m[k] = ttlEntry[V]{v, exp}
}

func (t *ttlMap[V]) get(k string, now time.Time) (V, bool) {
	e, ok := t.m[k]
	if !ok || now.After(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (t *ttlMap[V]) del(k string) { delete(t.m, k) }

// randomToken is 32 random bytes, base64url: codes, refresh tokens, cookies.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is how a secret is kept as a key.
func digest(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// s256 is the PKCE S256 transform of a code verifier.
func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
