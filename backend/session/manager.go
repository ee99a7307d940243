package session

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultCookieName = "embedlab_session"
	DefaultTTL        = 8 * time.Hour
	// MinKeyBytes is the shortest key accepted: HS256's own output size, so
	// the key is not the weak link.
	MinKeyBytes = 32
)

// Options configure a Manager. The zero value is usable: a random key, the
// default cookie and TTL, the bundled demo users and the default throttle.
type Options struct {
	// Key signs the session tokens; at least MinKeyBytes. When empty, a
	// random key is made at start, and sessions end when the server restarts.
	Key []byte
	// CookieName defaults to DefaultCookieName. A "__Host-" name (best when
	// served over HTTPS) requires Secure.
	CookieName string
	// TTL is how long a session lasts; DefaultTTL when zero.
	TTL time.Duration
	// Secure marks the cookie HTTPS-only. Set it whenever the app is served
	// over HTTPS (a Databricks App always is); leave it off for
	// http://localhost.
	Secure bool
	// Users defaults to DefaultUsers().
	Users *Users
	// TrustedOrigins may post the login form from another origin, e.g.
	// "http://localhost:5173" for a front end served apart in development.
	TrustedOrigins []string
	// Throttle limits failed logins.
	Throttle ThrottleOptions
	// RevocationFile keeps the sessions signed out before their expiry, so
	// they stay signed out across a restart; empty keeps them in memory,
	// which is enough when the key is made at start (every session then
	// ends with the process anyway).
	RevocationFile string
	// Now is the clock; time.Now when nil. For tests.
	Now func() time.Time
}

// ThrottleOptions limit failed logins; zero fields take the defaults.
type ThrottleOptions struct {
	// PerUser failures per Window per user name and client address
	// together; default 5. This is the limit a guesser meets.
	PerUser int
	// PerUserAllAddresses failures per Window per user name, whatever the
	// address; default 10 times PerUser. Looser, so that a guesser elsewhere
	// cannot lock the real user out, yet bounded, so that many addresses
	// cannot guess at one name at will.
	PerUserAllAddresses int
	// PerIP failures per Window per client address (per /64 for IPv6);
	// default 20, above PerUser because offices share an address.
	PerIP int
	// Window defaults to one minute. Failures are forgiven gradually: after
	// PerUser quick failures, one more is allowed each Window/PerUser.
	Window time.Duration
	// MaxKeys bounds the names and addresses remembered, each; default 10000.
	MaxKeys int
}

// Manager logs users in and checks their sessions. It is safe for
// concurrent use.
type Manager struct {
	key          []byte
	keyGenerated bool
	cookieName   string
	ttl          time.Duration
	secure       bool
	users        *Users
	now          func() time.Time
	origins      *http.CrossOriginProtection
	byUserIP     *throttle
	byUser       *throttle
	byIP         *throttle
	revoked      *revocations
	onEverywhere func(user string)
}

// New checks the options and returns a Manager. The error has one line per
// problem, each saying how to fix it.
func New(o Options) (*Manager, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	m := &Manager{
		key: o.Key, cookieName: o.CookieName, ttl: o.TTL, secure: o.Secure,
		users: o.Users, now: o.Now, origins: http.NewCrossOriginProtection(),
	}
	switch n := len(o.Key); {
	case n == 0:
		m.key = make([]byte, MinKeyBytes)
		rand.Read(m.key) // never fails; see crypto/rand.Read
		m.keyGenerated = true
	case n < MinKeyBytes:
		bad("session key is %d bytes; it must be at least %d (make one with: openssl rand -base64 48), or be empty for a random key at each start", n, MinKeyBytes)
	default:
		m.key = append([]byte(nil), o.Key...) // the caller's slice may change
	}
	if m.cookieName == "" {
		m.cookieName = DefaultCookieName
	}
	if err := (&http.Cookie{Name: m.cookieName, Value: "x"}).Valid(); err != nil {
		bad("session cookie name %q is not a valid cookie name: use letters, digits and -_", m.cookieName)
	}
	if (strings.HasPrefix(m.cookieName, "__Host-") || strings.HasPrefix(m.cookieName, "__Secure-")) && !m.secure {
		bad("session cookie name %q needs Secure: browsers drop such cookies without it; serve over HTTPS and set Secure, or drop the prefix", m.cookieName)
	}
	switch {
	case m.ttl == 0:
		m.ttl = DefaultTTL
	case m.ttl < time.Minute:
		bad("session TTL %v is too short: use at least a minute (default %v)", m.ttl, DefaultTTL)
	}
	if m.users == nil {
		m.users = DefaultUsers()
	} else if m.users.dummy == nil {
		bad("session users must come from LoadUsers, ParseUsers or DefaultUsers")
	}
	if m.now == nil {
		m.now = time.Now
	}
	for _, origin := range o.TrustedOrigins {
		if err := m.origins.AddTrustedOrigin(origin); err != nil {
			bad("trusted origin %q: %v: write scheme://host[:port], e.g. http://localhost:5173", origin, err)
		}
	}
	t := o.Throttle
	t.PerUser, t.PerIP, t.MaxKeys, t.Window = cmp.Or(t.PerUser, 5), cmp.Or(t.PerIP, 20), cmp.Or(t.MaxKeys, 10000), cmp.Or(t.Window, time.Minute)
	t.PerUserAllAddresses = cmp.Or(t.PerUserAllAddresses, 10*t.PerUser)
	if t.PerUser < 0 || t.PerIP < 0 || t.PerUserAllAddresses < 0 || t.MaxKeys < 0 || t.Window < time.Second {
		bad("login throttle %+v: limits must be positive and the window at least a second (zero takes the default)", o.Throttle)
	}
	var err error
	if m.revoked, err = openRevocations(o.RevocationFile); err != nil {
		bad("%v", err)
	} else if err := m.revoked.checkWritable(); err != nil {
		bad("%v", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m.byUserIP = newThrottle(t.PerUser, t.Window, t.MaxKeys)
	m.byUser = newThrottle(t.PerUserAllAddresses, t.Window, t.MaxKeys)
	m.byIP = newThrottle(t.PerIP, t.Window, t.MaxKeys)
	m.users.dummy() // made now, so the first unknown-user login is not the slow one
	return m, nil
}

// KeyGenerated is true when the key was made at start: the server should
// say so, since every session then ends when it restarts.
func (m *Manager) KeyGenerated() bool { return m.keyGenerated }

// Users returns the login users.
func (m *Manager) Users() *Users { return m.users }

// TTL returns how long a session lasts.
func (m *Manager) TTL() time.Duration { return m.ttl }

// String describes the Manager without its key, which fmt would otherwise
// print for a pointer to a struct.
func (m *Manager) String() string {
	key := "set"
	if m.keyGenerated {
		key = "generated at start"
	}
	return fmt.Sprintf("session.Manager{cookie=%s ttl=%v secure=%t key=%s users=%d}", m.cookieName, m.ttl, m.secure, key, len(m.users.list))
}

// GoString is String, for %#v.
func (m *Manager) GoString() string { return m.String() }
