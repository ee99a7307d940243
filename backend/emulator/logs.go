package emulator

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"embedlab/shared/redact"
)

// RequestEntry is one line of the request log. Tokens and credentials are
// redacted before they are stored.
type RequestEntry struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	// App names the app of a request to the Apps proxy.
	App        string  `json:"app,omitempty"`
	Path       string  `json:"path"`
	Query      string  `json:"query,omitempty"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Principal  string  `json:"principal,omitempty"`
	// Owner is the workshop participant whose identity made the request
	// (participants.go); empty for the workspace's own principals.
	Owner         string `json:"owner,omitempty"`
	Authorization string `json:"authorization,omitempty"`
	Error         string `json:"error,omitempty"`
	Fault         bool   `json:"fault,omitempty"`
}

// AuditEntry records one scoped token issued for an external viewer, a
// dashboard load, a user's sign-in or token, or a call to an app. It holds
// the viewer id, never external_value, which may be personal data, and
// never a token.
type AuditEntry struct {
	Seq              int64     `json:"seq"`
	Time             time.Time `json:"time"`
	Action           string    `json:"action"`
	ExternalViewerID string    `json:"external_viewer_id,omitempty"`
	DashboardID      string    `json:"dashboard_id,omitempty"`
	ClientID         string    `json:"client_id"`
	TokenID          string    `json:"jti,omitempty"`
	// Principal is the user id or service principal of a user or app action.
	Principal string `json:"principal,omitempty"`
	// Owner is the workshop participant whose identity it was
	// (participants.go); empty for the workspace's own principals.
	Owner string `json:"owner,omitempty"`
	Scope string `json:"scope,omitempty"`
	// App, Path, Status and RequestID describe a call to an app.
	App       string `json:"app,omitempty"`
	Path      string `json:"path,omitempty"`
	Status    int    `json:"status,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// ring is a bounded, append-only log with sequence numbers, so readers can
// poll for what is new with ?since=.
type ring[T any] struct {
	// stamp, when set, completes each entry as it is added (the owner).
	stamp   func(*T)
	mu      sync.Mutex
	max     int
	next    int64
	entries []T
	seqs    []int64
}

func newRing[T any](max int) *ring[T] { return &ring[T]{max: max, next: 1} }

func (r *ring[T]) add(f func(seq int64) T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.next
	r.next++
	v := f(seq)
	if r.stamp != nil {
		r.stamp(&v)
	}
	r.entries = append(r.entries, v)
	r.seqs = append(r.seqs, seq)
	if len(r.entries) > r.max {
		drop := len(r.entries) - r.max
		r.entries = append(r.entries[:0:0], r.entries[drop:]...)
		r.seqs = append(r.seqs[:0:0], r.seqs[drop:]...)
	}
}

// since returns up to limit entries with a sequence number above after, and
// the sequence number to pass next time.
func (r *ring[T]) since(after int64, limit int) ([]T, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []T{}
	last := after
	for i, s := range r.seqs {
		if s > after && len(out) < limit {
			out = append(out, r.entries[i])
			last = s
		}
	}
	return out, last
}

// note lets handlers add the principal and error code to their log line.
type note struct {
	app       string
	principal string
	claimed   string // the client id a refused client authentication named
	errCode   string
	fault     bool
	// adminRoute: the Authorization header may hold the admin key, of
	// which the open request log keeps nothing (adminkey.go).
	adminRoute bool
}

type noteKey struct{}

func noteOf(r *http.Request) *note {
	if n, ok := r.Context().Value(noteKey{}).(*note); ok {
		return n
	}
	return &note{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests records every request except reads of the logs themselves.
func (e *Emulator) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathRequestLog || r.URL.Path == pathAuditLog {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		n := &note{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), noteKey{}, n)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		e.requests.add(func(seq int64) RequestEntry {
			return RequestEntry{
				Seq: seq, Time: start.UTC(), Method: r.Method, App: n.app, Path: r.URL.Path,
				Query:  redact.Text(redactCodes(r.URL.RawQuery)),
				Status: status, DurationMS: float64(time.Since(start).Microseconds()) / 1000,
				Principal: n.principal, Owner: e.owner(n.principal, n.claimed), Authorization: authorizationForLog(n, r.Header.Get("Authorization")),
				Error: n.errCode, Fault: n.fault,
			}
		})
	})
}

// authorizationForLog is the Authorization header as the request log shows it.
func authorizationForLog(n *note, auth string) string {
	if n.adminRoute && auth != "" {
		return "(admin route: not logged)"
	}
	return redact.Authorization(auth)
}

// redactCodes hides authorization codes in a query string (the redirect to
// an app's /.auth/callback carries one).
func redactCodes(rawQuery string) string {
	if !strings.Contains(rawQuery, "code=") {
		return rawQuery
	}
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok && k == "code" {
			parts[i] = k + "=" + redact.Token(v)
		}
	}
	return strings.Join(parts, "&")
}
