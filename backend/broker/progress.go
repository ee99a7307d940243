package broker

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Wait is one pause of a token request: the upstream call it waits to
// make again (or the broker's own pacing under the workspace's rate
// limit), why, the attempt that comes next and how long until it. The
// dashboard page shows it while the user waits (issue #14).
type Wait struct {
	Step     string // "client_credentials", "tokeninfo", "exchange" or "rate limit"
	Reason   string // e.g. "429 Too Many Requests"
	Attempt  int    // the attempt that comes next
	Attempts int    // of this many
	For      time.Duration
}

type waitKey struct{}

// WithWaits returns a context whose token requests call fn before each
// wait. fn must be quick and safe for concurrent use. An exchange shared
// by several requests (singleflight) reports to the first one's fn.
func WithWaits(ctx context.Context, fn func(Wait)) context.Context {
	return context.WithValue(ctx, waitKey{}, fn)
}

// reportWait tells the request's observer, if any, about a wait.
func reportWait(ctx context.Context, w Wait) {
	if fn, ok := ctx.Value(waitKey{}).(func(Wait)); ok && fn != nil {
		fn(w)
	}
}

var stepNames = [4]string{"", "client_credentials", "tokeninfo", "exchange"}

// waitReason names the answer (or the error) that caused a retry.
func waitReason(a answer, err error) string {
	if err != nil {
		return "no answer (" + err.Error() + ")"
	}
	return fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))
}
