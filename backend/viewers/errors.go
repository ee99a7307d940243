package viewers

import (
	"errors"
	"fmt"
)

// Reasons Authorize refuses, for errors.Is.
var (
	ErrUnknownViewer = errors.New("no such viewer")
	ErrNotAllowed    = errors.New("user is not allowed to act as this viewer")
)

// DeniedMessage is what the client is told for every refusal.
//
// The two reasons get the same status (403) and the same words on purpose:
// if "unknown viewer" were a 404 or said so, any logged-in user could list
// the ids of viewers they may not see by guessing, and viewer ids are other
// tenants' audit identifiers. The user already knows which viewers they may
// use (Set.For), so one message costs them nothing. Only the server's log
// (Error) tells the reasons apart.
const DeniedMessage = "you may not act as this viewer"

// DeniedError is Authorize's refusal.
type DeniedError struct {
	User     string
	ViewerID string
	Reason   error // ErrUnknownViewer or ErrNotAllowed
}

// maxLoggedID bounds how much of a client-chosen id reaches the log.
const maxLoggedID = 64

// Error is for the server's log: it names the user, the viewer and the
// reason. The ids are quoted (%q escapes control characters, so a crafted id
// cannot forge log lines) and cut short.
func (e *DeniedError) Error() string {
	return fmt.Sprintf("user %q may not act as viewer %q: %v", clip(e.User), clip(e.ViewerID), e.Reason)
}

// Unwrap returns the reason.
func (e *DeniedError) Unwrap() error { return e.Reason }

// PublicMessage is what the client may be told: DeniedMessage, whatever
// the reason.
func (e *DeniedError) PublicMessage() string { return DeniedMessage }

func clip(s string) string {
	if len(s) <= maxLoggedID {
		return s
	}
	return s[:maxLoggedID] + "…"
}
