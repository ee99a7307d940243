package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"embedlab/shared/wire"
)

// FaultState is what GET /emulator/faults answers.
type FaultState struct {
	Pending              []Fault `json:"pending"`
	ClockSkewSeconds     int64   `json:"clock_skew_seconds"`
	TokenLifetimeSeconds int64   `json:"token_lifetime_seconds"`
	RateLimitPerSecond   float64 `json:"rate_limit_per_second"`
}

// InjectFault queues a fault.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	e.faults.add(f)
	return nil
}

// SetClockSkew shifts the emulator's clock.
func (e *Emulator) SetClockSkew(d time.Duration) error {
	if d < -24*time.Hour || d > 24*time.Hour {
		return fmt.Errorf("clock skew %s: must be within a day either way", d)
	}
	e.clock.setSkew(d)
	return nil
}

// SetTokenLifetime changes the lifetime of tokens issued from now on.
func (e *Emulator) SetTokenLifetime(d time.Duration) error {
	if d < 10*time.Second || d > 24*time.Hour {
		return fmt.Errorf("token lifetime %s: must be between 10s and 24h", d)
	}
	e.lifetime.Store(int64(d / time.Second))
	return nil
}

// SetRateLimit sets the limit per second of tokeninfo calls and of
// dashboard loads; 0 turns it off.
func (e *Emulator) SetRateLimit(perSecond float64) error {
	if perSecond < 0 || perSecond > 1e6 {
		return fmt.Errorf("rate limit %g: must be between 0 (off) and 1000000", perSecond)
	}
	for _, l := range []*rate.Limiter{e.limiter, e.embedLimiter} {
		l.SetLimit(limitOf(perSecond))
		l.SetBurst(burstOf(perSecond))
	}
	return nil
}

// RotateKeys makes a new signing key; the previous one stays published.
func (e *Emulator) RotateKeys() (string, error) {
	if err := e.keys.rotate(); err != nil {
		return "", err
	}
	return e.keys.jwks().Keys[0].Kid, nil
}

// ResetFaults clears pending faults and restores the clock, the token
// lifetime and the rate limit of the state file.
func (e *Emulator) ResetFaults() {
	e.faults.clear()
	e.clock.setSkew(0)
	e.statements.setLatency(0)
	e.mu.RLock()
	life, lim := e.state.TokenLifetimeSeconds, e.state.RateLimitPerSecond
	e.mu.RUnlock()
	e.lifetime.Store(int64(life))
	_ = e.SetRateLimit(lim) // validated with the state
}

// Faults reports the fault switch's state.
func (e *Emulator) Faults() FaultState {
	lim := float64(e.limiter.Limit())
	if e.limiter.Limit() == rate.Inf {
		lim = 0
	}
	return FaultState{
		Pending:              e.faults.list(),
		ClockSkewSeconds:     int64(e.clock.getSkew() / time.Second),
		TokenLifetimeSeconds: e.lifetime.Load(),
		RateLimitPerSecond:   lim,
	}
}

// Requests returns request log entries after seq.
func (e *Emulator) Requests(after int64) []RequestEntry {
	out, _ := e.requests.since(after, 1<<30)
	return out
}

// Audit returns audit log entries after seq.
func (e *Emulator) Audit(after int64) []AuditEntry {
	out, _ := e.audit.since(after, 1<<30)
	return out
}

func (e *Emulator) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.Faults())
}

func (e *Emulator) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !readJSON(w, r, &f) {
		return
	}
	if err := e.InjectFault(f); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, e.Faults())
}

func (e *Emulator) handleResetFaults(w http.ResponseWriter, r *http.Request) {
	e.ResetFaults()
	writeJSON(w, http.StatusOK, e.Faults())
}

func (e *Emulator) handleSetClock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SkewSeconds int64 `json:"skew_seconds"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if err := e.SetClockSkew(time.Duration(body.SkewSeconds) * time.Second); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, e.Faults())
}

func (e *Emulator) handleSetLifetime(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seconds int64 `json:"seconds"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if err := e.SetTokenLifetime(time.Duration(body.Seconds) * time.Second); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, e.Faults())
}

func (e *Emulator) handleSetRateLimit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PerSecond *float64 `json:"per_second"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.PerSecond == nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, "per_second is required (0 turns the limit off)")
		return
	}
	if err := e.SetRateLimit(*body.PerSecond); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, e.Faults())
}

func (e *Emulator) handleRotateKeys(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !readJSON(w, r, &body) {
		return
	}
	kid, err := e.RotateKeys()
	if err != nil {
		apiError(w, r, http.StatusInternalServerError, wire.ErrInternal, "could not make a new key")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
}

// logPage is one page of a log: entries after ?since=, at most ?limit=.
type logPage[T any] struct {
	Entries []T   `json:"entries"`
	Next    int64 `json:"next"`
}

func pageParams(w http.ResponseWriter, r *http.Request) (int64, int, bool) {
	since, limit := int64(0), 500
	if s := r.URL.Query().Get("since"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, "since must be a sequence number (0 or more)")
			return 0, 0, false
		}
		since = v
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 5000 {
			apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, "limit must be between 1 and 5000")
			return 0, 0, false
		}
		limit = v
	}
	return since, limit, true
}

func (e *Emulator) handleRequestLog(w http.ResponseWriter, r *http.Request) {
	since, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	entries, next := e.requests.since(since, limit)
	if o := r.URL.Query().Get("owner"); o != "" {
		entries = slices.DeleteFunc(entries, func(x RequestEntry) bool { return x.Owner != o })
	}
	writeJSON(w, http.StatusOK, logPage[RequestEntry]{Entries: entries, Next: next})
}

func (e *Emulator) handleAuditLog(w http.ResponseWriter, r *http.Request) {
	since, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	entries, next := e.audit.since(since, limit)
	if o := r.URL.Query().Get("owner"); o != "" { // one participant's own lines
		entries = slices.DeleteFunc(entries, func(x AuditEntry) bool { return x.Owner != o })
	}
	writeJSON(w, http.StatusOK, logPage[AuditEntry]{Entries: entries, Next: next})
}

// Update changes the workspace live (unpublish a dashboard, remove CAN RUN,
// revoke a secret): f edits a copy, which replaces the state only when it is
// still valid.
func (e *Emulator) Update(f func(*State)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := e.state.clone()
	f(next)
	if err := next.Validate(); err != nil {
		return fmt.Errorf("emulator state update refused:\n%w", err)
	}
	e.state = next
	return nil
}

// Embedding names what an embedding app uses in emulator mode: the first
// published dashboard and a service principal with CAN RUN on it. The
// secret goes to the backend in the same process, never further.
func (e *Emulator) Embedding() (dashboardID, clientID, clientSecret string, err error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, d := range e.state.Dashboards {
		if !d.Published || len(d.CanRun) == 0 {
			continue
		}
		sp, _ := e.state.servicePrincipal(d.CanRun[0]) // validated to exist
		return d.ID, sp.ApplicationID, sp.Secret, nil
	}
	return "", "", "", fmt.Errorf("the emulator state has no published dashboard that a service principal may run: publish one and give a principal CAN RUN")
}

// Principal is a service principal's credentials, for the app's demo of
// calling apps as different callers.
type Principal struct{ ID, Name, Secret string }

// ServicePrincipals lists the state's service principals with their
// secrets (public demo values, like the rest of the state).
func (e *Emulator) ServicePrincipals() []Principal {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]Principal, 0, len(e.state.ServicePrincipals))
	for _, sp := range e.state.ServicePrincipals {
		out = append(out, Principal{ID: sp.ApplicationID, Name: sp.DisplayName, Secret: sp.Secret})
	}
	return out
}
