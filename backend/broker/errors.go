package broker

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind is what went wrong, as far as the person running embedlab cares.
type Kind int

// Kinds of failure.
const (
	KindUpstream         Kind = iota // any other refusal by the workspace
	KindBadSecret                    // the client id or secret was refused
	KindNoCanRun                     // the principal lacks CAN RUN
	KindUnknownDashboard             // unknown or unpublished dashboard
	KindRateLimited                  // 429 outlasted the retries
	KindUnreachable                  // network failure or timeout
	KindInvalidViewer                // the viewer id or value breaks the rules
)

var kindNames = map[Kind]string{
	KindUpstream: "upstream_error", KindBadSecret: "bad_secret", KindNoCanRun: "no_can_run",
	KindUnknownDashboard: "unknown_dashboard", KindRateLimited: "rate_limited",
	KindUnreachable: "unreachable", KindInvalidViewer: "invalid_viewer",
}

func (k Kind) String() string { return kindNames[k] }

// Error is every failure of the broker. Its text never holds a secret or a
// service principal token.
type Error struct {
	Kind Kind
	// Step is the exchange step that failed (1-3), 0 before any call.
	Step int
	// Status is the workspace's HTTP status, 0 when there was none.
	Status  int
	Message string
	Fix     string
	// RetryAfter is the workspace's advice for rate-limited answers.
	RetryAfter int
	Err        error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (step %d", e.Message, e.Step)
	if e.Status != 0 {
		s += fmt.Sprintf(", workspace answered %d", e.Status)
	}
	return s + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status embedlab's own API answers with.
func (e *Error) HTTPStatus() int {
	switch e.Kind {
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindUnreachable:
		return http.StatusServiceUnavailable
	case KindInvalidViewer:
		return http.StatusBadRequest
	default:
		return http.StatusBadGateway
	}
}

// IsKind reports whether err is a broker error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}
