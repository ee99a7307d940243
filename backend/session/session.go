package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/shared/api"
)

// Session is a logged-in user. Its JSON is what login and whoami return:
// the CSRF token must reach the page's script, which sends it back in
// X-CSRF-Token; the session's id stays server side.
type Session struct {
	ID          string    `json:"-"` // the token's jti
	User        string    `json:"user"`
	DisplayName string    `json:"display_name"`
	CSRFToken   string    `json:"csrf_token"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Roles are the user's roles, read from the users file at every
	// request, so a role taken away takes effect at once.
	Roles []string `json:"roles"`
	// Gen is the user's generation when the session began; "sign out
	// everywhere" raises it (see revocations).
	Gen int `json:"-"`
}

// HasRole reports whether the session's user has role.
func (s Session) HasRole(role string) bool { return api.HasRole(s.Roles, role) }

// String leaves the CSRF token out, so logging a Session does not hand it
// to whoever reads the log.
func (s Session) String() string {
	return fmt.Sprintf("session{user=%s expires=%s}", s.User, s.ExpiresAt.UTC().Format(time.RFC3339))
}

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// issuer is the tokens' iss: a token made by anything else with the same
// key (there should be none) is still refused.
const issuer = "embedlab/session"

// maxCookieBytes bounds the cookie parsed; ours are about 400 bytes.
const maxCookieBytes = 4096

// claims are the session token's claims.
type claims struct {
	Name string `json:"name"`
	CSRF string `json:"csrf"`
	Gen  int    `json:"gen,omitempty"`
	jwt.RegisteredClaims
}

// A login that finds the throttle's room taken only by attempts still in
// flight polls every loginQueueStep for up to loginQueueMax, then is
// refused like any throttled one.
const (
	loginQueueStep = 25 * time.Millisecond
	loginQueueMax  = 5 * time.Second
)

// Login checks name and password and starts a session. name is matched in
// lower case, ignoring surrounding spaces. clientIP is the caller's address
// (echo.Context.RealIP; set Echo's IPExtractor to match the proxy in front,
// or a client could pick its own): failures are throttled per name and
// address together (tight), per name alone (loose) and per address, and a
// throttled attempt is refused before any password check. The name and
// address pair is what slows a guesser; since it is not the name alone, a
// guesser elsewhere cannot lock the real user out, short of guessing from
// enough addresses to reach the loose per-name cap.
//
// Unknown names and wrong passwords give the same error, ErrBadCredentials,
// after the same bcrypt work. A success resets the name's failures, but not
// the address's: else one valid account would reset the limit for guessing
// at all the others from the same address.
func (m *Manager) Login(name, password, clientIP string) (Session, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	now := m.now()
	limits := []*throttle{m.byUserIP, m.byUser, m.byIP}
	keys := []string{userKey(name) + "\x00" + ipKey(clientIP), userKey(name), ipKey(clientIP)}
	held := make([]*bucket, len(limits))
	var wait time.Duration
	throttled := -1
	settle := func(o ...outcome) {
		for i, b := range held {
			if b != nil {
				limits[i].end(b, now, o[i])
			}
		}
	}
	// Attempts refused only because others are still being checked wait
	// for them (bcrypt takes a while), for at most loginQueueMax.
	queueEnd := time.Now().Add(loginQueueMax)
	for {
		wait, throttled = 0, -1
		busy := true
		for i, t := range limits {
			b, w := t.begin(keys[i], now)
			held[i] = b
			if b == nil {
				if throttled < 0 {
					throttled = i
				}
				busy = busy && t.busyOnly(keys[i], now)
			}
			wait = max(wait, w)
		}
		if throttled < 0 || !busy || !time.Now().Before(queueEnd) {
			break
		}
		settle(release, release, release)
		time.Sleep(loginQueueStep)
		now = m.now()
	}
	if throttled >= 0 {
		settle(release, release, release)
		// The log learns which limit it was, but not the name typed.
		cause := []error{errors.New("too many failures for the name given from this address"),
			errors.New("too many failures for the name given, from all addresses"),
			fmt.Errorf("too many failures from address %s", ipKey(clientIP))}[throttled]
		e := &Error{Code: CodeThrottled, RetryAfter: wait, Err: cause}
		e.Message = fmt.Sprintf("too many failed logins: try again in %d seconds", e.RetryAfterSeconds())
		return Session{}, e
	}

	user, err := m.users.verify(name, password)
	now = m.now() // bcrypt took a while
	if err != nil {
		settle(countFailure, countFailure, countFailure)
		cause := err
		if !errors.Is(err, errUnknownUser) {
			cause = fmt.Errorf("user %q: %w", name, err) // a real name; unknown ones may be mistyped passwords
		}
		return Session{}, newError(CodeBadCredentials, "wrong user name or password", cause)
	}
	settle(refill, refill, release)

	// JWT times are whole seconds; truncating here makes the Session equal
	// to what FromRequest later reads back.
	now = now.Truncate(time.Second)
	return Session{
		ID:          rand.Text(),
		User:        user.Name,
		DisplayName: user.DisplayName,
		CSRFToken:   rand.Text(),
		IssuedAt:    now,
		ExpiresAt:   now.Add(m.ttl),
		Roles:       rolesOf(user),
		Gen:         m.revoked.generation(user.Name),
	}, nil
}

// rolesOf is never nil, so the JSON says [] rather than null.
func rolesOf(u User) []string {
	if u.Roles == nil {
		return []string{}
	}
	return slices.Clone(u.Roles)
}

// token signs a session. HMAC is deterministic, so the same session always
// gives the same token and Session need not carry it.
func (m *Manager) token(s Session) (string, error) {
	c := claims{
		Name: s.DisplayName,
		CSRF: s.CSRFToken,
		Gen:  s.Gen,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   s.User,
			ID:        s.ID,
			IssuedAt:  jwt.NewNumericDate(s.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(s.ExpiresAt),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(m.key)
}

// Cookie returns the session's cookie: HttpOnly so scripts cannot read the
// token, SameSite=Lax so cross-site POSTs do not carry it, Path=/ for the
// whole app, Secure as configured, and expiring with the session.
func (m *Manager) Cookie(s Session) (*http.Cookie, error) {
	tok, err := m.token(s)
	if err != nil {
		return nil, fmt.Errorf("session: sign token: %w", err)
	}
	return &http.Cookie{
		Name:     m.cookieName,
		Value:    tok,
		Path:     "/",
		Expires:  s.ExpiresAt,
		MaxAge:   max(1, int(s.ExpiresAt.Sub(m.now()).Seconds())),
		HttpOnly: true,
		Secure:   m.secure,
		SameSite: http.SameSiteLaxMode,
	}, nil
}

// SetCookie adds the session's cookie to a response.
func (m *Manager) SetCookie(w http.ResponseWriter, s Session) error {
	c, err := m.Cookie(s)
	if err != nil {
		return err
	}
	http.SetCookie(w, c)
	return nil
}

// clearCookie deletes the cookie; the attributes must match the cookie's
// for every browser to drop it.
func (m *Manager) clearCookie() *http.Cookie {
	return &http.Cookie{Name: m.cookieName, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode}
}

// Logout ends the request's session, if it has a valid one, so its token is
// refused from now on even if a copy survives, and deletes the cookie. With
// everywhere, every session of the user issued so far ends too. The error
// is the revocation file's (the cookie is deleted all the same).
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request, everywhere bool) (Session, error) {
	http.SetCookie(w, m.clearCookie())
	s, err := m.FromRequest(r)
	if err != nil {
		return s, nil
	}
	if everywhere {
		return s, m.revoked.revokeAll(s.User)
	}
	return s, m.revoked.revoke(s.User, s.ID, s.ExpiresAt, m.now())
}

// FromRequest returns the session of a request's cookie. It refuses, with
// ErrNoSession, a missing cookie and a token that is expired, logged out,
// of a user no longer in Users, not signed HS256 with this Manager's key
// (alg "none" included), or missing a claim.
func (m *Manager) FromRequest(r *http.Request) (Session, error) {
	c, err := r.Cookie(m.cookieName)
	if err != nil || c.Value == "" {
		return Session{}, newError(CodeNoSession, "not logged in", nil)
	}
	return m.parse(c.Value)
}

func (m *Manager) parse(tok string) (Session, error) {
	invalid := func(cause error) (Session, error) {
		return Session{}, newError(CodeNoSession, "session is not valid: log in again", cause)
	}
	if len(tok) > maxCookieBytes {
		return invalid(fmt.Errorf("token of %d bytes", len(tok)))
	}
	var c claims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return m.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // refuses none, HS384, RS256...
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(m.now),
		jwt.WithStrictDecoding(),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Session{}, newError(CodeNoSession, "session expired: log in again", err)
	case err != nil:
		return invalid(err)
	case c.Subject == "" || c.ID == "" || c.CSRF == "" || c.IssuedAt == nil:
		return invalid(errors.New("token lacks sub, jti, csrf or iat"))
	}
	if ok, why := m.revoked.valid(c.Subject, c.ID, c.Gen); !ok {
		return Session{}, newError(CodeNoSession, why, nil)
	}
	user, ok := m.users.Lookup(c.Subject)
	if !ok {
		return invalid(fmt.Errorf("user %q is no longer a login user", c.Subject))
	}
	return Session{
		ID:          c.ID,
		User:        c.Subject,
		DisplayName: c.Name,
		CSRFToken:   c.CSRF,
		IssuedAt:    c.IssuedAt.Time,
		ExpiresAt:   c.ExpiresAt.Time,
		Roles:       rolesOf(user),
		Gen:         c.Gen,
	}, nil
}
