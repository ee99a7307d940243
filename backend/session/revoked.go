package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxRevokedPerUser bounds the signed-out sessions remembered per user.
// Past it, the user's generation is raised instead: every older session of
// that user ends at once, which is safe (it only signs out more), so no
// amount of traffic can make a signed-out session valid again.
const maxRevokedPerUser = 256

// revocations remembers which sessions ended before their expiry, per user:
// the ids of sessions signed out one by one (until they would have expired
// anyway), and a generation that "sign out everywhere" raises, which every
// session issued before ends with. Memory is bounded by the number of login
// users times maxRevokedPerUser, and only a signed-in user adds to it.
//
// With a file, every change is written (to a temporary file, then renamed,
// so a crash leaves the old state or the new) and read back at start: a
// signed-out cookie stays signed out across a restart, which matters when
// the session key is configured and so sessions themselves survive one.
type revocations struct {
	mu    sync.Mutex
	path  string
	state revState
}

// revState is the file's content.
type revState struct {
	// Generations are the users' current generations (absent: 0).
	Generations map[string]int `json:"generations"`
	// Revoked maps user -> session id -> expiry.
	Revoked map[string]map[string]time.Time `json:"revoked"`
}

// openRevocations loads path ("" keeps the state in memory only).
func openRevocations(path string) (*revocations, error) {
	r := &revocations{path: path, state: revState{Generations: map[string]int{}, Revoked: map[string]map[string]time.Time{}}}
	if path == "" {
		return r, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("session revocation file: %w: set EMBEDLAB_DATA_DIR to a folder embedlab may read and write", err)
	}
	var st revState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("session revocation file %s: %v; delete it to start afresh (every session then stays valid until it expires)", path, err)
	}
	if st.Generations != nil {
		r.state.Generations = st.Generations
	}
	if st.Revoked != nil {
		r.state.Revoked = st.Revoked
	}
	return r, nil
}

// checkWritable writes the state once, so a folder embedlab cannot write
// stops the start instead of failing the first sign-out.
func (r *revocations) checkWritable() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.save(); err != nil {
		return fmt.Errorf("%w: sign-outs must survive a restart when EMBEDLAB_SESSION_KEY is set; set EMBEDLAB_DATA_DIR to a folder embedlab may write", err)
	}
	return nil
}

// generation is user's current generation.
func (r *revocations) generation(user string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Generations[user]
}

// valid reports whether a session of user, with id and generation gen, has
// not been signed out, and if not, why.
func (r *revocations) valid(user, id string, gen int) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen < r.state.Generations[user] {
		return false, "signed out everywhere: log in again"
	}
	if _, ok := r.state.Revoked[user][id]; ok {
		return false, "logged out: log in again"
	}
	return true, ""
}

// revoke ends one session. Expired entries of the user are dropped first;
// a user with maxRevokedPerUser live ones is signed out everywhere.
func (r *revocations) revoke(user, id string, exp, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.state.Revoked[user]
	if ids == nil {
		ids = map[string]time.Time{}
		r.state.Revoked[user] = ids
	}
	for k, e := range ids {
		if !e.After(now) {
			delete(ids, k)
		}
	}
	if len(ids) >= maxRevokedPerUser {
		r.raise(user)
	} else {
		ids[id] = exp
	}
	return r.save()
}

// revokeAll ends every session of user issued so far.
func (r *revocations) revokeAll(user string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raise(user)
	return r.save()
}

func (r *revocations) raise(user string) {
	r.state.Generations[user]++
	delete(r.state.Revoked, user) // all older than the new generation
}

// size is how many session ids are remembered, for tests.
func (r *revocations) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ids := range r.state.Revoked {
		n += len(ids)
	}
	return n
}

// save writes the state; the caller holds mu.
func (r *revocations) save() error {
	if r.path == "" {
		return nil
	}
	data, err := json.Marshal(r.state)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return fmt.Errorf("session revocation folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), ".sessions-*.tmp")
	if err != nil {
		return fmt.Errorf("session revocation file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("session revocation file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("session revocation file: %w", err)
	}
	if err := os.Rename(tmp.Name(), r.path); err != nil {
		return fmt.Errorf("session revocation file: %w", err)
	}
	return nil
}
