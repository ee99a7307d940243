package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Config configures a Broker.
type Config struct {
	InstanceURL  string
	ClientID     string
	ClientSecret string
	// Margin: a cached token with less than this left is renewed (5 min).
	Margin time.Duration
	// Rate bounds viewer exchanges per second (20, the workspace's limit).
	Rate float64
	// Timeout bounds each upstream call (10 s).
	Timeout time.Duration
	// Attempts per call for 429, 5xx and network errors (4).
	Attempts int
	// MaxBackoff caps one wait between attempts, Retry-After included (4 s).
	MaxBackoff time.Duration
	// MaxCached bounds the cache (100,000 viewers).
	MaxCached int
	// HTTPClient makes the calls; a default client when nil.
	HTTPClient *http.Client
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time
}

// Request names the viewer a token is for. The value comes from the
// server's viewer list, never from the browser.
type Request struct {
	DashboardID      string
	ExternalViewerID string
	ExternalValue    string
}

func (r Request) key() string {
	return r.DashboardID + "\x00" + r.ExternalViewerID + "\x00" + r.ExternalValue
}

// Result is a scoped token and how it was obtained.
type Result struct {
	Token     string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Header    claims.Header
	Claims    claims.Claims
	FromCache bool
	// Trace has one step per upstream call, redacted for the browser.
	Trace []api.TraceStep
}

// Stats are counters for metrics.
type Stats struct {
	Requests      int64
	CacheHits     int64
	Exchanges     int64
	Failures      int64
	UpstreamCalls [3]int64 // by step
	UpstreamNanos [3]int64 // total latency by step
}

// Broker gets scoped tokens. It is safe for concurrent use.
type Broker struct {
	cfg     Config
	http    *http.Client
	limiter *rate.Limiter
	flight  singleflight.Group

	spMu    sync.Mutex
	spToken string
	spExp   time.Time

	cacheMu sync.Mutex
	cache   map[string]cacheEntry
	inserts int

	requests, hits, exchanges, failures atomic.Int64
	calls, nanos                        [3]atomic.Int64
}

// New validates the configuration and builds a Broker.
func New(cfg Config) (*Broker, error) {
	var errs []error
	if u, err := url.Parse(cfg.InstanceURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		errs = append(errs, fmt.Errorf("instance URL %q is not an http(s) URL", cfg.InstanceURL))
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		errs = append(errs, errors.New("the service principal's client id and secret are both required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.InstanceURL = strings.TrimRight(cfg.InstanceURL, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Margin, 5*time.Minute)
	def(&cfg.Timeout, 10*time.Second)
	def(&cfg.MaxBackoff, 4*time.Second)
	if cfg.Rate <= 0 {
		cfg.Rate = 20
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport}
	}
	return &Broker{
		cfg: cfg, http: client, cache: map[string]cacheEntry{},
		limiter: rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate))),
	}, nil
}

// Stats returns the counters.
func (b *Broker) Stats() Stats {
	s := Stats{Requests: b.requests.Load(), CacheHits: b.hits.Load(), Exchanges: b.exchanges.Load(), Failures: b.failures.Load()}
	for i := range s.UpstreamCalls {
		s.UpstreamCalls[i], s.UpstreamNanos[i] = b.calls[i].Load(), b.nanos[i].Load()
	}
	return s
}

// Token returns a scoped token for one viewer: from the cache while it has
// more than the margin left, else from one exchange shared by every caller
// asking for the same viewer at the same time.
func (b *Broker) Token(ctx context.Context, req Request) (*Result, error) {
	b.requests.Add(1)
	if err := wire.ValidateViewer(req.ExternalViewerID, req.ExternalValue); err != nil {
		b.failures.Add(1)
		return nil, &Error{Kind: KindInvalidViewer, Message: err.Error(), Fix: "fix the viewer in the viewers file", Err: err}
	}
	if req.DashboardID == "" {
		b.failures.Add(1)
		return nil, &Error{Kind: KindUnknownDashboard, Message: "no dashboard id", Fix: "set DASHBOARD_ID"}
	}
	if r, ok := b.cached(req.key()); ok {
		b.hits.Add(1)
		return r, nil
	}
	// The shared work must not die with the first caller's request, but
	// its turn under the upstream rate is judged against that deadline.
	deadline, _ := ctx.Deadline()
	ch := b.flight.DoChan(req.key(), func() (any, error) {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(b.cfg.Attempts+1)*b.cfg.Timeout*3)
		defer cancel()
		if r, ok := b.cached(req.key()); ok {
			return r, nil
		}
		r, err := b.exchange(wctx, req, deadline)
		if err != nil {
			return nil, err
		}
		b.store(req.key(), r)
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			b.failures.Add(1)
			return nil, res.Err
		}
		r := *res.Val.(*Result)
		r.Trace = append([]api.TraceStep(nil), r.Trace...)
		if res.Shared {
			r.Trace = append(r.Trace, api.TraceStep{Name: "shared", Purpose: "Concurrent requests for this viewer shared one exchange.", Reused: true})
		}
		return &r, nil
	case <-ctx.Done():
		b.failures.Add(1)
		return nil, &Error{Kind: KindUnreachable, Message: "the workspace did not finish the exchange before this request's deadline", Err: ctx.Err(),
			Fix: "the exchange goes on in the background and its token is cached: try again in a few seconds; if it keeps happening, check the workspace's health and the network"}
	}
}

// cacheEntry is what the cache keeps per viewer: the token and its times.
// Header and claims are decoded again on a hit, and a hit's trace is the
// cache step, so keeping them would only cost memory (about 8 KB a viewer
// against 1.5 KB).
type cacheEntry struct {
	token             string
	issued, expiresAt time.Time
}

// cached returns a cached token with more than the margin left, with a
// trace that says it came from the cache.
func (b *Broker) cached(key string) (*Result, bool) {
	b.cacheMu.Lock()
	e, ok := b.cache[key]
	b.cacheMu.Unlock()
	if !ok || e.expiresAt.Sub(b.cfg.Now()) <= b.cfg.Margin {
		return nil, false
	}
	h, c, err := claims.Decode(e.token)
	if err != nil {
		return nil, false // cannot happen: it decoded when it was stored
	}
	return &Result{
		Token: e.token, IssuedAt: e.issued, ExpiresAt: e.expiresAt, Header: h, Claims: c, FromCache: true,
		Trace: []api.TraceStep{{
			Name: "cache", Reused: true,
			Purpose: "Served from cache: this viewer's token still has more than the refresh margin left, so no call was made.",
			Note:    fmt.Sprintf("expires %s; renewed after %s", e.expiresAt.UTC().Format(time.RFC3339), e.expiresAt.Add(-b.cfg.Margin).UTC().Format(time.RFC3339)),
		}},
	}, true
}

func (b *Broker) store(key string, r *Result) {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	b.inserts++
	if b.inserts%1024 == 0 || len(b.cache) >= b.cfg.MaxCached {
		now := b.cfg.Now()
		for k, old := range b.cache {
			if old.expiresAt.Sub(now) <= b.cfg.Margin || len(b.cache) >= b.cfg.MaxCached {
				delete(b.cache, k)
			}
		}
	}
	b.cache[key] = cacheEntry{token: strings.Clone(r.Token), issued: r.IssuedAt, expiresAt: r.ExpiresAt}
}

// Cached is how many tokens the cache holds.
func (b *Broker) Cached() int {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	return len(b.cache)
}

// exchange runs the three steps for one viewer.
func (b *Broker) exchange(ctx context.Context, req Request, deadline time.Time) (*Result, error) {
	if err := b.pace(ctx, deadline); err != nil {
		return nil, err
	}
	b.exchanges.Add(1)
	var trace []api.TraceStep
	sp, step1, err := b.servicePrincipalToken(ctx, false)
	trace = append(trace, step1)
	if err != nil {
		return nil, err
	}
	info, step2, err := b.tokenInfo(ctx, sp, req)
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		// The workspace no longer accepts our cached token (keys rotated,
		// token revoked): get a fresh one once and try again.
		trace = append(trace, step2)
		if sp, step1, err = b.servicePrincipalToken(ctx, true); err != nil {
			return nil, err
		}
		trace = append(trace, step1)
		info, step2, err = b.tokenInfo(ctx, sp, req)
	}
	trace = append(trace, step2)
	if err != nil {
		return nil, err
	}
	r, step3, err := b.scopedToken(ctx, info)
	trace = append(trace, step3)
	if err != nil {
		return nil, err
	}
	r.Trace = trace
	return r, nil
}

// pace waits for this exchange's turn under the upstream rate. When the
// turn comes after the caller's deadline it gives the slot back and says
// how long to wait before asking again, so callers retry instead of failing.
func (b *Broker) pace(ctx context.Context, deadline time.Time) error {
	r := b.limiter.Reserve()
	delay := r.Delay()
	if delay == 0 {
		return nil
	}
	if !deadline.IsZero() && time.Until(deadline) < delay {
		r.Cancel()
		return &Error{Kind: KindRateLimited, RetryAfter: int(delay/time.Second) + 1,
			Message: fmt.Sprintf("too many viewers at once: the upstream limit of %g exchanges per second puts this one %s away", b.cfg.Rate, delay.Round(time.Second))}
	}
	reportWait(ctx, Wait{Step: "rate limit", Reason: fmt.Sprintf("embedlab keeps to the workspace's limit of %g token exchanges per second", b.cfg.Rate),
		Attempt: 1, Attempts: 1, For: delay})
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return &Error{Kind: KindRateLimited, RetryAfter: 1, Message: "the request ended while waiting for the upstream rate limit", Err: ctx.Err()}
	}
}
