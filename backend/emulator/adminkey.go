package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"embedlab/shared/wire"
)

// The emulator's admin routes (the fault switch, clock, token lifetime,
// rate limit, key rotation, statement latency) change the workspace for
// everyone who uses it, and in a classroom every participant's laptop
// reaches it over the network: they need the admin key. Reads (the fault
// state, the request and audit logs the exercises read) stay open. The app's
// fault lab calls the emulator's methods in-process and needs no key.

// adminKeyPrefix marks a generated key, so that one pasted in the wrong
// place is recognisable.
const adminKeyPrefix = "emuadmin-"

// minAdminKey is the shortest admin key Options accepts.
const minAdminKey = 16

// newAdminKey makes a random admin key (256 bits).
func newAdminKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("emulator: make an admin key: %w", err)
	}
	return adminKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// checkAdminKey validates a key given in Options; the error never quotes it.
func checkAdminKey(k string) error {
	if len(k) < minAdminKey {
		return fmt.Errorf("emulator admin key: %d characters is too short to keep a room out: give at least %d, or none for a random one", len(k), minAdminKey)
	}
	for _, c := range k {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("emulator admin key: only printable ASCII without spaces fits in an Authorization header")
		}
	}
	return nil
}

// AdminKey is the key the state-changing /emulator/* routes require as
// "Authorization: Bearer <key>". Hand it only to whoever started the
// emulator (a terminal line, a test), never to a browser or a log.
func (e *Emulator) AdminKey() string { return e.adminKey }

// requireAdmin guards a state-changing admin route: without the admin key
// the request is refused before its body is read, and nothing changes.
func (e *Emulator) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(e.adminKey))
	return func(w http.ResponseWriter, r *http.Request) {
		n := noteOf(r)
		n.adminRoute = true // the request log must not keep any part of the key
		route := r.Method + " " + r.URL.Path
		auth := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(auth, " ")
		if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="embedlab emulator admin"`)
			apiError(w, r, http.StatusUnauthorized, wire.ErrUnauthenticated,
				route+" changes the workspace for everyone who uses it, so it needs the emulator's admin key: send the header \"Authorization: Bearer <admin key>\". "+
					"The key was printed in the terminal that started the emulator (set your own with EMBEDLAB_EMULATOR_ADMIN_KEY, or -admin-key for go run ./backend emulator); "+
					"a trainer can use the app's fault lab instead, which needs no key.")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(key)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied,
				route+" needs the emulator's admin key, and the bearer sent is not it (a workspace token does not grant it): "+
					"use the key printed in the terminal that started the emulator, or EMBEDLAB_EMULATOR_ADMIN_KEY if it was set.")
			return
		}
		next(w, r)
	}
}
