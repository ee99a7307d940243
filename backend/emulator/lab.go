package emulator

import (
	"fmt"
	"strings"
	"sync"

	"embedlab/shared/wire"
)

// labSwitches are the fault lab's switches that no state file field
// models: scopes tokeninfo leaves out of what a viewer's token carries.
type labSwitches struct {
	mu      sync.Mutex
	dropped map[string]bool
}

// DropEmbedScope makes tokeninfo leave scope out of the scopes a viewer's
// token gets, as a workspace that dropped it would: the dashboard's query
// API then refuses those tokens with 403 naming the scope.
func (e *Emulator) DropEmbedScope(scope string) error {
	known := false
	for _, s := range wire.EmbedScopes {
		known = known || s == scope
	}
	if !known {
		return fmt.Errorf("scope %q: not an embedding scope (%s)", scope, strings.Join(wire.EmbedScopes, ", "))
	}
	e.lab.mu.Lock()
	defer e.lab.mu.Unlock()
	if e.lab.dropped == nil {
		e.lab.dropped = map[string]bool{}
	}
	e.lab.dropped[scope] = true
	return nil
}

// RestoreEmbedScopes undoes DropEmbedScope.
func (e *Emulator) RestoreEmbedScopes() {
	e.lab.mu.Lock()
	e.lab.dropped = nil
	e.lab.mu.Unlock()
}

// embedScopes are the scopes tokeninfo grants a viewer's token.
func (e *Emulator) embedScopes() string {
	e.lab.mu.Lock()
	defer e.lab.mu.Unlock()
	var out []string
	for _, s := range wire.EmbedScopes {
		if !e.lab.dropped[s] {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// Snapshot returns a copy of the workspace's current state, for Restore.
func (e *Emulator) Snapshot() *State {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.state.clone()
}

// Restore puts a snapshot back as the workspace's state. Workshop
// participants' identities stay (participants.go): they are added to the
// snapshot in the same update, so no call of theirs sees them missing.
func (e *Emulator) Restore(s *State) error {
	c := s.clone()
	return e.Update(func(st *State) {
		*st = *c
		e.applyParticipants(st)
	})
}
