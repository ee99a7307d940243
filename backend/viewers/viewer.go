package viewers

import (
	"cmp"
	"slices"
	"strings"
)

// Viewer is one external viewer of the embedded dashboard.
type Viewer struct {
	// ID is the external_viewer_id: unique, opaque, never personal data.
	ID string `json:"id"`
	// DisplayName is what the user picks from; it defaults to ID.
	DisplayName string `json:"display_name"`
	// ExternalValue is bound into the dataset SQL as __aibi_external_value.
	// It may be personal data: the server decides whether to show it.
	ExternalValue string `json:"external_value"`
}

// Set is a validated, read-only list of viewers and the users allowed to act
// as each. It is safe for concurrent use.
type Set struct {
	viewers []Viewer                       // sorted by display name, then id
	byID    map[string]int                 // viewer id -> index in viewers
	allowed map[string]map[string]struct{} // user -> viewer ids
}

// entry is one viewer as read from a file or the environment, before it is
// known to be valid.
type entry struct {
	Viewer
	Users []string
}

// newSet builds a Set from entries that have passed validation.
func newSet(entries []entry) *Set {
	s := &Set{byID: map[string]int{}, allowed: map[string]map[string]struct{}{}}
	for _, e := range entries {
		v := e.Viewer
		if v.DisplayName == "" {
			v.DisplayName = v.ID
		}
		s.viewers = append(s.viewers, v)
		for _, u := range e.Users {
			if s.allowed[u] == nil {
				s.allowed[u] = map[string]struct{}{}
			}
			s.allowed[u][v.ID] = struct{}{}
		}
	}
	// Ids are unique, so this order is total: the same file always lists the
	// same way, whatever order its entries are in.
	slices.SortFunc(s.viewers, func(a, b Viewer) int {
		return cmp.Or(strings.Compare(a.DisplayName, b.DisplayName), strings.Compare(a.ID, b.ID))
	})
	for i, v := range s.viewers {
		s.byID[v.ID] = i
	}
	return s
}

// Len returns the number of viewers.
func (s *Set) Len() int { return len(s.viewers) }

// Viewers returns every viewer, sorted by display name, then id.
func (s *Set) Viewers() []Viewer { return slices.Clone(s.viewers) }

// Users returns every user allowed to act as at least one viewer, sorted.
// The server checks them against its login users at start.
func (s *Set) Users() []string {
	users := make([]string, 0, len(s.allowed))
	for u := range s.allowed {
		users = append(users, u)
	}
	slices.Sort(users)
	return users
}

// For returns the viewers user may act as, sorted by display name, then id;
// an empty (non-nil) slice when there are none.
func (s *Set) For(user string) []Viewer {
	ids := s.allowed[user]
	out := make([]Viewer, 0, len(ids))
	for _, v := range s.viewers {
		if _, ok := ids[v.ID]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Authorize returns the viewer viewerID when user may act as it. Otherwise
// it returns a *DeniedError whose Reason is ErrUnknownViewer or
// ErrNotAllowed; both must reach the client as the same 403 (see
// DeniedError).
func (s *Set) Authorize(user, viewerID string) (Viewer, error) {
	i, ok := s.byID[viewerID]
	if !ok {
		return Viewer{}, &DeniedError{User: user, ViewerID: viewerID, Reason: ErrUnknownViewer}
	}
	if _, ok := s.allowed[user][viewerID]; !ok {
		return Viewer{}, &DeniedError{User: user, ViewerID: viewerID, Reason: ErrNotAllowed}
	}
	return s.viewers[i], nil
}
