package emulator

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"embedlab/shared/wire"
)

// Endpoints a fault can target.
const (
	EndpointToken     = "token"
	EndpointTokenInfo = "tokeninfo"
)

var faultEndpoints = map[string]bool{EndpointToken: true, EndpointTokenInfo: true}

// Fault makes the next Count calls to Endpoint wait DelayMS and then, when
// Status is set, fail with that status in the endpoint's own error style.
type Fault struct {
	Endpoint          string `json:"endpoint"`
	Status            int    `json:"status,omitempty"`
	Count             int    `json:"count"`
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"`
	DelayMS           int    `json:"delay_ms,omitempty"`
}

func (f Fault) validate() error {
	switch {
	case !faultEndpoints[f.Endpoint]:
		return fmt.Errorf("endpoint %q: must be %q or %q", f.Endpoint, EndpointToken, EndpointTokenInfo)
	case f.Count < 1 || f.Count > 100000:
		return fmt.Errorf("count %d: must be between 1 and 100000", f.Count)
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d: must be an error status from 400 to 599, or 0 for a delay only", f.Status)
	case f.Status == 0 && f.DelayMS == 0:
		return fmt.Errorf("a fault needs a status, a delay_ms, or both")
	case f.DelayMS < 0 || f.DelayMS > 120000:
		return fmt.Errorf("delay_ms %d: must be between 0 and 120000", f.DelayMS)
	case f.RetryAfterSeconds < 0 || f.RetryAfterSeconds > 3600:
		return fmt.Errorf("retry_after_seconds %d: must be between 0 and 3600", f.RetryAfterSeconds)
	}
	return nil
}

type faultQueue struct {
	mu      sync.Mutex
	pending []Fault
}

func (q *faultQueue) add(f Fault) {
	q.mu.Lock()
	q.pending = append(q.pending, f)
	q.mu.Unlock()
}

// take consumes one call of the first pending fault for endpoint.
func (q *faultQueue) take(endpoint string) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.pending {
		if q.pending[i].Endpoint != endpoint {
			continue
		}
		f := q.pending[i]
		q.pending[i].Count--
		if q.pending[i].Count == 0 {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

func (q *faultQueue) list() []Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Fault{}, q.pending...)
}

func (q *faultQueue) clear() {
	q.mu.Lock()
	q.pending = nil
	q.mu.Unlock()
}

// injectFault applies a pending fault for endpoint. It reports whether it
// answered the request, in which case the handler must stop.
func (e *Emulator) injectFault(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	f, ok := e.faults.take(endpoint)
	if !ok {
		return false
	}
	noteOf(r).fault = true
	if f.DelayMS > 0 {
		select {
		case <-time.After(time.Duration(f.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	msg := fmt.Sprintf("injected fault: %d from the emulator's fault switch", f.Status)
	if f.Status == http.StatusTooManyRequests {
		tooMany(w, r, f.RetryAfterSeconds, msg)
		return true
	}
	if f.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfterSeconds))
	}
	if endpoint == EndpointToken {
		oauthError(w, r, f.Status, oauthCodeFor(f.Status), msg)
	} else {
		apiError(w, r, f.Status, restCodeFor(f.Status), msg)
	}
	return true
}

func oauthCodeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return wire.OAuthInvalidClient
	case status == http.StatusServiceUnavailable:
		return wire.OAuthTemporarilyUnavail
	case status >= 500:
		return wire.OAuthServerError
	default:
		return wire.OAuthInvalidRequest
	}
}

func restCodeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return wire.ErrUnauthenticated
	case status == http.StatusForbidden:
		return wire.ErrPermissionDenied
	case status == http.StatusNotFound:
		return wire.ErrResourceDoesNotExist
	case status == http.StatusServiceUnavailable:
		return wire.ErrTemporarilyUnavail
	case status >= 500:
		return wire.ErrInternal
	default:
		return wire.ErrInvalidParameterValue
	}
}
