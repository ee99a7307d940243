package broker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

const (
	spID     = testkit.EmbedderID
	spSecret = testkit.EmbedderSecret
	noAccess = testkit.NoAccessID
	noSecret = testkit.NoAccessSecret
	dashID   = testkit.DashboardID
	draftID  = testkit.DraftDashboardID
)

func startEmulator(t *testing.T) *emulator.Emulator { return testkit.Emulator(t, emulator.Options{}) }

// fakeClock is a broker clock on which waiting takes no time: Sleep moves
// it on. It starts at the real time, as the emulator's tokens do.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.slept = c.now.Add(d), c.slept+d
	return nil
}

// Slept is the total of every wait.
func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

func withClock(c *fakeClock) func(*broker.Config) {
	return func(cfg *broker.Config) { cfg.Now, cfg.Sleep = c.Now, c.Sleep }
}

// newBroker makes a broker of the emulator's service principal on a fake
// clock of its own (unless mod sets one), so no test waits in real time.
func newBroker(t *testing.T, em *emulator.Emulator, mod func(*broker.Config)) *broker.Broker {
	t.Helper()
	cfg := broker.Config{InstanceURL: em.URL(), ClientID: spID, ClientSecret: spSecret, Rate: 1000, MaxBackoff: 200 * time.Millisecond, Timeout: 2 * time.Second}
	withClock(newFakeClock())(&cfg)
	if mod != nil {
		mod(&cfg)
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func viewer(id, value string) broker.Request {
	return broker.Request{DashboardID: dashID, ExternalViewerID: id, ExternalValue: value}
}

func TestExchangeGivesTheViewerItsOwnToken(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	r, err := b.Token(context.Background(), viewer("viewer-emea", "EMEA"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Claims.CustomClaim != wire.CustomClaim("EMEA", "viewer-emea", dashID) || r.FromCache || r.Claims.HasScope("all-apis") {
		t.Fatalf("claims = %+v", r.Claims)
	}
	if len(r.Trace) != 3 || r.Trace[0].Status != 200 || r.Trace[1].Status != 200 || r.Trace[2].Status != 200 {
		t.Fatalf("trace = %+v", r.Trace)
	}
	if time.Until(r.ExpiresAt) < 59*time.Minute {
		t.Fatalf("expires %s", r.ExpiresAt)
	}
}

func TestCacheAndServicePrincipalTokenReuse(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		r, err := b.Token(ctx, viewer("viewer-emea", "EMEA"))
		if err != nil {
			t.Fatal(err)
		}
		if (i > 0) != r.FromCache {
			t.Fatalf("load %d: FromCache=%v", i, r.FromCache)
		}
	}
	if n := testkit.ExchangeCalls(em); n != 3 {
		t.Fatalf("10 loads of one viewer cost %d upstream calls, want 3", n)
	}
	r, err := b.Token(ctx, viewer("viewer-apac", "APAC"))
	if err != nil {
		t.Fatal(err)
	}
	if n := testkit.ExchangeCalls(em); n != 5 || !r.Trace[0].Reused {
		t.Fatalf("a second viewer cost %d calls in all (want 5: the service principal token is reused); trace %+v", n, r.Trace[0])
	}
	// Same viewer id, other value: a different token, never the cached one.
	r2, err := b.Token(ctx, viewer("viewer-apac", "AMER"))
	if err != nil || r2.FromCache || r2.Claims.CustomClaim == r.Claims.CustomClaim {
		t.Fatalf("other value: %+v %v", r2, err)
	}
}

func TestRenewalBeforeExpiry(t *testing.T) {
	em := startEmulator(t)
	if err := em.SetTokenLifetime(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	b := newBroker(t, em, withClock(clk))
	ctx := context.Background()
	first, _ := b.Token(ctx, viewer("v1", "EMEA"))
	if r, _ := b.Token(ctx, viewer("v1", "EMEA")); !r.FromCache {
		t.Fatal("not cached while far from expiry")
	}
	clk.Add(5*time.Minute + time.Second) // inside the 5-minute margin
	r, err := b.Token(ctx, viewer("v1", "EMEA"))
	if err != nil || r.FromCache || r.Claims.ID == first.Claims.ID {
		t.Fatalf("inside the margin: cached=%v err=%v", r != nil && r.FromCache, err)
	}
}

func TestSingleflight(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := b.Token(context.Background(), viewer("viewer-emea", "EMEA"))
			if err == nil && !strings.Contains(r.Claims.CustomClaim, ":viewer-emea:") {
				err = fmt.Errorf("wrong viewer %s", r.Claims.CustomClaim)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := testkit.ExchangeCalls(em); n != 3 {
		t.Fatalf("100 concurrent requests cost %d upstream calls, want 3", n)
	}
}

// The broker paces itself at the workspace's own limit (20 exchanges a
// second, one second's worth at once), so no viewer sees its 429s: on the
// broker's clock, the n-th tokeninfo call starts no earlier than its turn.
func TestManyViewersArePacedAndEachGetsItsOwnValue(t *testing.T) {
	em := startEmulator(t)
	if limit := em.Snapshot().RateLimitPerSecond; limit != broker.DefaultRate {
		t.Fatalf("the emulator limits tokeninfo to %g a second, the broker paces at %d", limit, broker.DefaultRate)
	}
	// The emulator's limit counts on the real clock, the broker's pace on
	// the fake one, which runs ahead: only the second is checked here.
	if err := em.SetRateLimit(0); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	start := clk.Now()
	var mu sync.Mutex
	var calls []time.Time // on the broker's clock
	spy := roundTripper(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/tokeninfo") {
			mu.Lock()
			calls = append(calls, clk.Now())
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	b := newBroker(t, em, func(c *broker.Config) {
		c.Rate, c.MaxBackoff, c.HTTPClient = broker.DefaultRate, 0, &http.Client{Transport: spy}
		withClock(clk)(c)
	})
	const viewers = 50
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := 0; i < viewers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id, val := fmt.Sprintf("v%d", i), fmt.Sprintf("value-%d", i)
			r, err := b.Token(context.Background(), viewer(id, val))
			if err != nil || r.Claims.CustomClaim != wire.CustomClaim(val, id, dashID) {
				bad.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d viewers got an error or another viewer's token", bad.Load())
	}
	slices.SortFunc(calls, time.Time.Compare)
	if len(calls) != viewers {
		t.Fatalf("%d tokeninfo calls, want %d", len(calls), viewers)
	}
	for n, at := range calls {
		turn := start.Add(time.Duration(max(0, n+1-broker.DefaultRate)) * time.Second / broker.DefaultRate)
		if at.Before(turn.Add(-time.Millisecond)) {
			t.Fatalf("tokeninfo call %d started %s after the first, before its turn at %s", n, at.Sub(start), turn.Sub(start))
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRetriesAfter429And500(t *testing.T) {
	em := startEmulator(t)
	clk := newFakeClock()
	b := newBroker(t, em, withClock(clk))
	_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, Status: 500, Count: 1})
	_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 2, RetryAfterSeconds: 1})
	r, err := b.Token(context.Background(), viewer("v1", "EMEA"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Claims.CustomClaim == "" || testkit.ExchangeCalls(em) != 6 {
		t.Fatalf("calls = %d, want 6 (3 failures retried + 3)", testkit.ExchangeCalls(em))
	}
	// Both 429s waited Retry-After (1 s), capped at MaxBackoff (200 ms),
	// and the 500 at least the first backoff (100 ms).
	if got, want := clk.Slept(), 2*200*time.Millisecond+100*time.Millisecond; got < want {
		t.Fatalf("the retries waited %s on the broker's clock, want at least %s", got, want)
	}
	// 4xx is not retried.
	_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 404, Count: 1})
	before := testkit.ExchangeCalls(em)
	_, err = b.Token(context.Background(), viewer("v2", "EMEA"))
	if !broker.IsKind(err, broker.KindUnknownDashboard) || testkit.ExchangeCalls(em)-before != 1 {
		t.Fatalf("404: err %v after %d calls", err, testkit.ExchangeCalls(em)-before)
	}
}

func TestFailuresSayWhatIsWrong(t *testing.T) {
	em := startEmulator(t)
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	cases := []struct {
		name string
		mod  func(*broker.Config)
		req  broker.Request
		prep func()
		kind broker.Kind
	}{
		{"wrong secret", func(c *broker.Config) { c.ClientSecret = "dose-wrong-secret-0000" }, viewer("v", "EMEA"), nil, broker.KindBadSecret},
		{"no CAN RUN", func(c *broker.Config) { c.ClientID, c.ClientSecret = noAccess, noSecret }, viewer("v", "EMEA"), nil, broker.KindNoCanRun},
		{"unknown dashboard", nil, broker.Request{DashboardID: "01f00000000000000000000000000000", ExternalViewerID: "v", ExternalValue: "x"}, nil, broker.KindUnknownDashboard},
		{"unpublished dashboard", nil, broker.Request{DashboardID: draftID, ExternalViewerID: "v", ExternalValue: "x"}, nil, broker.KindUnknownDashboard},
		{"invalid viewer", nil, viewer("a:b", "EMEA"), nil, broker.KindInvalidViewer},
		{"unreachable", func(c *broker.Config) { c.InstanceURL = closed; c.Attempts = 2 }, viewer("v", "EMEA"), nil, broker.KindUnreachable},
		{"timeout", func(c *broker.Config) { c.Timeout = 50 * time.Millisecond; c.Attempts = 2 }, viewer("v", "EMEA"), func() {
			_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, DelayMS: 300, Count: 2})
		}, broker.KindUnreachable},
		{"rate limit outlasts retries", func(c *broker.Config) { c.Attempts = 3 }, viewer("v", "EMEA"), func() {
			_ = em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 3, RetryAfterSeconds: 1})
		}, broker.KindRateLimited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			em.ResetFaults()
			if tc.prep != nil {
				tc.prep()
			}
			b := newBroker(t, em, tc.mod)
			_, err := b.Token(context.Background(), tc.req)
			var e *broker.Error
			if !errorsAs(err, &e) || e.Kind != tc.kind {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			if e.Fix == "" && tc.kind != broker.KindUpstream {
				t.Errorf("no fix for %v", e.Kind)
			}
			if strings.Contains(err.Error(), spSecret) || strings.Contains(err.Error(), "dose-wrong") || strings.Contains(err.Error(), noSecret) {
				t.Fatalf("error echoes a secret: %v", err)
			}
			// Nothing wrong is cached: the next call tries again.
			em.ResetFaults()
		})
	}
}

func errorsAs(err error, e **broker.Error) bool {
	be, ok := err.(*broker.Error)
	if ok {
		*e = be
	}
	return ok
}

func TestRecoversFromKeyRotationAndRevokedSecret(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	ctx := context.Background()
	if _, err := b.Token(ctx, viewer("v1", "EMEA")); err != nil {
		t.Fatal(err)
	}
	// Two rotations retire the key that signed the cached service principal
	// token: tokeninfo answers 401 and the broker fetches a new one.
	em.RotateKeys()
	em.RotateKeys()
	if _, err := b.Token(ctx, viewer("v2", "EMEA")); err != nil {
		t.Fatalf("after key rotation: %v", err)
	}
	// Revoke the secret and retire the token: BadSecret, then recovery
	// once the secret is back, without a new broker.
	setSecret := func(s string) {
		if err := em.Update(func(st *emulator.State) { st.ServicePrincipals[0].Secret = s }); err != nil {
			t.Fatal(err)
		}
	}
	setSecret("dosedemo0rotated0secret00000")
	em.RotateKeys()
	em.RotateKeys()
	if _, err := b.Token(ctx, viewer("v3", "EMEA")); !broker.IsKind(err, broker.KindBadSecret) {
		t.Fatalf("revoked secret: %v", err)
	}
	setSecret(spSecret)
	if _, err := b.Token(ctx, viewer("v3", "EMEA")); err != nil {
		t.Fatalf("after restoring the secret: %v", err)
	}
}

func TestSecretsNeverLeaveTheBroker(t *testing.T) {
	em := startEmulator(t)
	b := newBroker(t, em, nil)
	var out strings.Builder
	for i, req := range []broker.Request{viewer("v1", "EMEA"), viewer("v1", "EMEA"), viewer("v2", "APAC")} {
		r, err := b.Token(context.Background(), req)
		if err != nil {
			t.Fatal(i, err)
		}
		j, _ := json.Marshal(r)
		out.Write(j)
	}
	// No JWT anywhere in the output carries the all-apis scope.
	for _, part := range strings.Split(out.String(), `"`) {
		if strings.Count(part, ".") == 2 && strings.HasPrefix(part, "eyJ") {
			if strings.Contains(decodePayload(part), `"all-apis"`) {
				t.Fatal("an all-apis token is in a Result")
			}
		}
	}
	if strings.Contains(out.String(), spSecret) || !strings.Contains(out.String(), "kept on the server") {
		t.Fatal("the secret leaked, or the service principal token was not replaced by its label")
	}
}

// A viewer whose turn under the upstream rate comes after the request's
// deadline is told when to come back, and its slot is given back.
func TestPaceAnswersRetryAfterInsteadOfWaitingPastTheDeadline(t *testing.T) {
	em := startEmulator(t)
	clk := newFakeClock()
	b := newBroker(t, em, func(c *broker.Config) { c.Rate = 1; withClock(clk)(c) })
	if _, err := b.Token(context.Background(), viewer("pace-1", "EMEA")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := b.Token(ctx, viewer("pace-2", "EMEA"))
	var e *broker.Error
	if !errorsAs(err, &e) || e.Kind != broker.KindRateLimited || e.RetryAfter < 1 || e.HTTPStatus() != 429 {
		t.Fatalf("err = %v, want rate_limited with a Retry-After", err)
	}
	// Waiting as told works.
	clk.Add(time.Duration(e.RetryAfter) * time.Second)
	if _, err := b.Token(context.Background(), viewer("pace-2", "EMEA")); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}
