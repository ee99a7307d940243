package session

import (
	"sync"
	"time"
)

// maxRevoked bounds the sessions remembered as logged out.
const maxRevoked = 10000

// revoked remembers sessions ended by Logout until they would have expired
// anyway; a stateless token cannot be recalled any other way. Only a
// logged-in user can add to it, so it stays small; should it fill up, the
// session closest to its own expiry is forgotten first, as it has the least
// time left to be misused.
type revoked struct {
	mu  sync.Mutex
	max int
	ids map[string]time.Time // jti -> expiry
}

func newRevoked(max int) *revoked { return &revoked{max: max, ids: map[string]time.Time{}} }

func (r *revoked) add(id string, exp, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) >= r.max {
		for k, e := range r.ids {
			if !e.After(now) {
				delete(r.ids, k)
			}
		}
	}
	for len(r.ids) >= r.max {
		var soonest string
		for k, e := range r.ids {
			if soonest == "" || e.Before(r.ids[soonest]) {
				soonest = k
			}
		}
		delete(r.ids, soonest)
	}
	r.ids[id] = exp
}

func (r *revoked) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}
