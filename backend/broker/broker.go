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

// Defaults of Config, each for a reason.
const (
	// DefaultMargin: the official browser client asks for a new token 5
	// minutes before exp, so a token cached with less left would be
	// replaced as soon as the browser got it.
	DefaultMargin = 5 * time.Minute
	// DefaultRate is the workspace's limit on external embedding: 20
	// dashboard loads per second.
	DefaultRate = 20
	// DefaultTimeout bounds one upstream call; the workspace answers in
	// well under a second when healthy.
	DefaultTimeout = 10 * time.Second
	// DefaultAttempts: with backoff doubling from backoffBase, 4 attempts
	// span about a second, as long as a 429's usual Retry-After of 1 s.
	DefaultAttempts = 4
	// DefaultMaxBackoff caps one wait between attempts, so a long
	// Retry-After fails the request with the advice instead of holding it.
	DefaultMaxBackoff = 4 * time.Second
	// DefaultMaxCached bounds the cache at about 150 MB (1.5 KB a viewer).
	DefaultMaxCached = 100_000
)

// Config configures a Broker.
type Config struct {
	InstanceURL  string
	ClientID     string
	ClientSecret string
	// Margin: a cached token with less than this left is renewed
	// (DefaultMargin).
	Margin time.Duration
	// Rate bounds viewer exchanges per second (DefaultRate).
	Rate float64
	// Timeout bounds each upstream call (DefaultTimeout).
	Timeout time.Duration
	// Attempts per call for 429, 5xx and network errors (DefaultAttempts).
	Attempts int
	// MaxBackoff caps one wait between attempts, Retry-After included
	// (DefaultMaxBackoff).
	MaxBackoff time.Duration
	// MaxCached bounds the cache (DefaultMaxCached viewers).
	MaxCached int
	// HTTPClient makes the calls; a default client when nil.
	HTTPClient *http.Client
	// Now and Sleep are the broker's clock: token expiry and reuse, the
	// upstream rate's turns and the waits between attempts all read it.
	// time.Now and a timer when nil; tests pass a fake clock, so that
	// seconds of waiting take none. Sleep waits d or until ctx ends, and
	// then returns ctx.Err().
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
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

// Broker gets scoped tokens. It is safe for concurrent use. No lock is
// held across a call to the workspace: concurrent callers share a call
// through singleflight instead, and Forget never waits for one.
type Broker struct {
	cfg     Config
	http    *http.Client
	limiter *rate.Limiter
	flight  singleflight.Group // one exchange per viewer at a time

	spFlight singleflight.Group // one step 1 at a time
	spMu     sync.Mutex         // guards sp
	sp       spToken

	cacheMu sync.Mutex // guards cache
	cache   tokenCache

	requests, hits, exchanges, failures atomic.Int64
	calls, nanos                        [3]atomic.Int64
}

// spToken is the service principal's all-apis token held in memory. gen
// counts Forget calls: a step 1 that began before one does not store the
// token it got.
type spToken struct {
	token string
	exp   time.Time
	gen   uint64
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
	def(&cfg.Margin, DefaultMargin)
	def(&cfg.Timeout, DefaultTimeout)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = DefaultMaxCached
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = Sleep
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport}
	}
	return &Broker{
		cfg: cfg, http: client, cache: newTokenCache(cfg.MaxCached),
		// A burst of one second's worth: the workspace lets that many
		// loads start at once.
		limiter: rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate))),
	}, nil
}

// Sleep waits d on the real clock, or until ctx ends (then its error):
// Config.Sleep's default, and the doctor's wait between polls.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exchangeSteps is the number of steps of one exchange.
const exchangeSteps = 3

// exchangeTimeout bounds an exchange that goes on after the request that
// started it has ended (it is shared, and its token is cached for the next
// request): each of the three steps gets its attempts of Timeout each, and
// one Timeout more for the waits between them.
func (c Config) exchangeTimeout() time.Duration {
	return exchangeSteps * time.Duration(c.Attempts+1) * c.Timeout
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
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.exchangeTimeout())
		defer cancel()
		if r, ok := b.cached(req.key()); ok {
			return r, nil
		}
		gen := b.cacheGen()
		r, err := b.exchange(wctx, req, deadline)
		if err != nil {
			return nil, err
		}
		b.store(req.key(), r, gen)
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

// cached returns a cached token with more than the margin left, with a
// trace that says it came from the cache.
func (b *Broker) cached(key string) (*Result, bool) {
	b.cacheMu.Lock()
	e, ok := b.cache.get(key)
	b.cacheMu.Unlock()
	if !ok || e.expiresAt.Sub(b.cfg.Now()) <= b.cfg.Margin {
		return nil, false
	}
	tok := e.tok.token()
	h, c, err := claims.Decode(tok)
	if err != nil {
		return nil, false // cannot happen: it decoded when it was stored
	}
	return &Result{
		Token: tok, IssuedAt: e.issued, ExpiresAt: e.expiresAt, Header: h, Claims: c, FromCache: true,
		Trace: []api.TraceStep{{
			Name: "cache", Reused: true,
			Purpose: "Served from cache: this viewer's token still has more than the refresh margin left, so no call was made.",
			Note:    fmt.Sprintf("expires %s; renewed after %s", e.expiresAt.UTC().Format(time.RFC3339), e.expiresAt.Add(-b.cfg.Margin).UTC().Format(time.RFC3339)),
		}},
	}, true
}

// cacheGen is the cache's generation, to pass to store.
func (b *Broker) cacheGen() uint64 {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	return b.cache.gen
}

// store caches r unless Forget was called since gen was read: a token got
// before the workspace changed must not outlive the change.
func (b *Broker) store(key string, r *Result, gen uint64) {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	if b.cache.gen != gen {
		return
	}
	b.cache.put(key, cacheEntry{tok: packToken(r.Token), issued: r.IssuedAt, expiresAt: r.ExpiresAt}, b.cfg.Now().Add(b.cfg.Margin))
}

// Cached is how many tokens the cache holds.
func (b *Broker) Cached() int {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	return b.cache.len()
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
//
// The turn is on the broker's clock; the deadline, a context's, is on the
// real one: what counts is how long the caller has left.
func (b *Broker) pace(ctx context.Context, deadline time.Time) error {
	now := b.cfg.Now()
	r := b.limiter.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	if !deadline.IsZero() && time.Until(deadline) < delay {
		r.CancelAt(now)
		return &Error{Kind: KindRateLimited, RetryAfter: int(delay/time.Second) + 1,
			Message: fmt.Sprintf("too many viewers at once: the upstream limit of %g exchanges per second puts this one %s away", b.cfg.Rate, delay.Round(time.Second))}
	}
	reportWait(ctx, Wait{Step: "rate limit", Reason: fmt.Sprintf("embedlab keeps to the workspace's limit of %g token exchanges per second", b.cfg.Rate),
		Attempt: 1, Attempts: 1, For: delay})
	if err := b.cfg.Sleep(ctx, delay); err != nil {
		r.CancelAt(b.cfg.Now())
		return &Error{Kind: KindRateLimited, RetryAfter: 1, Message: "the request ended while waiting for the upstream rate limit", Err: err}
	}
	return nil
}
