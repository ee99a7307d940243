package server_test

// Faults survived (issue 8, item 3): the workspace misbehaves in each way a
// real one can, and a logged-in client of /api/embed-token is told what is
// wrong and how to fix it; once the fault clears the same backend (no
// restart) answers again, and nothing wrong was cached: the next request is
// a fresh exchange whose token the workspace accepts.
//
// The broker's own retry and error tests are in backend/broker; these go
// through the whole backend over HTTP against the real emulator.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// fastBroker retries quickly, so a failure that outlasts the retries is told
// in well under a second; mod changes it further.
func fastBroker(mod func(*broker.Config)) func(*broker.Config) {
	return func(c *broker.Config) {
		c.Attempts, c.MaxBackoff, c.Timeout = 3, 50*time.Millisecond, 2*time.Second
		if mod != nil {
			mod(c)
		}
	}
}

// embedToken asks for viewer's token as c.
func embedToken(t *testing.T, c *testkit.Client, viewer string) (testkit.Reply, api.EmbedToken) {
	t.Helper()
	r := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer="+viewer, nil)
	var tok api.EmbedToken
	if r.Status == http.StatusOK {
		r.JSON(t, &tok)
	}
	return r, tok
}

// failure checks what the user is told: the status, the code, a message
// naming the cause and a fix saying what to do.
func failure(t *testing.T, r testkit.Reply, status int, code, cause, fix string) api.Error {
	t.Helper()
	e := r.APIError(t, status, code)
	if !strings.Contains(e.Message, cause) || !strings.Contains(e.Fix, fix) {
		t.Fatalf("told %q (fix %q); want the cause %q and the fix %q", e.Message, e.Fix, cause, fix)
	}
	return e
}

// fresh checks that the backend answered a token for viewer from a new
// exchange (not from the cache) and returns it.
func fresh(t *testing.T, r testkit.Reply, tok api.EmbedToken, viewer string) api.EmbedToken {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("after the fault cleared: %d %s", r.Status, r.Body)
	}
	if tok.FromCache || tok.Viewer.ID != viewer || len(tok.Trace) < 3 {
		t.Fatalf("after the fault cleared: from cache %v, viewer %s, %d trace steps; want a fresh exchange for %s",
			tok.FromCache, tok.Viewer.ID, len(tok.Trace), viewer)
	}
	return tok
}

// loads checks that the workspace accepts the token: its query API renders
// the dashboard for that viewer and no other.
func loads(t *testing.T, em *emulator.Emulator, token, viewer string) {
	t.Helper()
	if status, body := render(t, em, token); status != http.StatusOK || !strings.Contains(body, `"external_viewer_id":"`+viewer+`"`) {
		t.Fatalf("the workspace refuses the token the backend handed out for %s: %d %.300s", viewer, status, body)
	}
}

func render(t *testing.T, em *emulator.Emulator, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, em.URL()+"/embed/api/dashboards/"+testkit.DashboardID+"/render", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A storm of 429s that outlasts the retries, on tokeninfo (step 2) and on
// the token endpoint (step 3): every page load in the storm is told to wait,
// with the workspace's Retry-After; a viewer cached before the storm is
// still served without a call; when the storm passes the viewer that failed
// gets a fresh token the workspace accepts. A burst shorter than the
// retries is absorbed: the user never knows.
func TestFault429Storm(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(nil)})
	c := f.signedIn(t, testkit.Admin)

	_ = f.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 2, RetryAfterSeconds: 1})
	r, tok := embedToken(t, c, "viewer-amer")
	loads(t, f.em, fresh(t, r, tok, "viewer-amer").Token, "viewer-amer")

	for _, tc := range []struct{ endpoint, viewer string }{
		{emulator.EndpointTokenInfo, "viewer-emea"},
		{emulator.EndpointToken, "viewer-apac"}, // the service principal token is held: this is step 3
	} {
		_ = f.em.InjectFault(emulator.Fault{Endpoint: tc.endpoint, Status: 429, Count: 1000, RetryAfterSeconds: 2})
		for range 3 {
			r, _ := embedToken(t, c, tc.viewer)
			e := failure(t, r, http.StatusTooManyRequests, api.CodeRateLimited, "rate limiting", "wait a few seconds")
			if r.Header.Get("Retry-After") != "2" || e.RetryAfter != 2 {
				t.Fatalf("%s storm: Retry-After %q / %d, want the workspace's 2 s", tc.endpoint, r.Header.Get("Retry-After"), e.RetryAfter)
			}
		}
		before := testkit.ExchangeCalls(f.em)
		if r, tok := embedToken(t, c, "viewer-amer"); r.Status != 200 || !tok.FromCache || testkit.ExchangeCalls(f.em) != before {
			t.Fatalf("%s storm: a cached viewer got %d (from cache %v) after %d calls", tc.endpoint, r.Status, tok.FromCache, testkit.ExchangeCalls(f.em)-before)
		}
		f.em.ResetFaults()
		r, tok := embedToken(t, c, tc.viewer)
		loads(t, f.em, fresh(t, r, tok, tc.viewer).Token, tc.viewer)
	}
}

// 5xx that outlast the retries, at each step: 502 upstream_error naming the
// workspace's status and saying to try again; then a fresh, working token.
func TestFault500s(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(nil)})
	c := f.signedIn(t, testkit.Admin)
	for _, tc := range []struct {
		endpoint string
		status   int
		viewer   string
	}{
		{emulator.EndpointToken, 500, "viewer-emea"},     // step 1: no service principal token yet
		{emulator.EndpointTokenInfo, 503, "viewer-apac"}, // step 2
		{emulator.EndpointToken, 502, "viewer-amer"},     // step 3: the service principal token is held
	} {
		_ = f.em.InjectFault(emulator.Fault{Endpoint: tc.endpoint, Status: tc.status, Count: 1000})
		r, _ := embedToken(t, c, tc.viewer)
		failure(t, r, http.StatusBadGateway, api.CodeUpstream, "the workspace failed ("+strconv.Itoa(tc.status)+")", "try again shortly")
		f.em.ResetFaults()
		r, tok := embedToken(t, c, tc.viewer)
		loads(t, f.em, fresh(t, r, tok, tc.viewer).Token, tc.viewer)
	}
}

// A workspace that answers after the broker's timeout, at step 1 and at
// step 2: the user is told within the retries' time (not kept waiting for
// the workspace) that it did not answer in time, with the fix; then a
// fresh, working token.
func TestFaultSlowWorkspacePastTheTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(func(c *broker.Config) { c.Timeout, c.Attempts = timeout, 2 })})
	c := f.signedIn(t, testkit.Admin)
	for _, tc := range []struct{ endpoint, viewer string }{
		{emulator.EndpointToken, "viewer-emea"},     // step 1
		{emulator.EndpointTokenInfo, "viewer-apac"}, // step 2
	} {
		_ = f.em.InjectFault(emulator.Fault{Endpoint: tc.endpoint, DelayMS: 1000, Count: 2})
		start := time.Now()
		r, _ := embedToken(t, c, tc.viewer)
		took := time.Since(start)
		failure(t, r, http.StatusServiceUnavailable, api.CodeUnreachable, "did not answer in time", "check INSTANCE_URL")
		if took > 2*time.Second {
			t.Fatalf("%s: the user waited %s for the answer; the broker's timeout is %s a call", tc.endpoint, took, timeout)
		}
		f.em.ResetFaults()
		r, tok := embedToken(t, c, tc.viewer)
		loads(t, f.em, fresh(t, r, tok, tc.viewer).Token, tc.viewer)
	}
}

// tcpProxy forwards connections to a target while it is up; stopped, its
// port is closed, so connections to it are refused. start listens on the
// same port again.
type tcpProxy struct {
	t      *testing.T
	target string
	mu     sync.Mutex
	addr   string
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, targetURL string) *tcpProxy {
	p := &tcpProxy{t: t, target: strings.TrimPrefix(targetURL, "http://"), addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) url() string { p.mu.Lock(); defer p.mu.Unlock(); return "http://" + p.addr }

func (p *tcpProxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen on %s again: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close(); in.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close(); out.Close() }()
		}
	}()
}

// stop closes the port and every connection through it.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// The workspace's port refuses connections, then answers again: the user
// is told the workspace could not be reached and what to check; viewers
// cached before the outage are still served; once the port is back the
// viewer that failed gets a fresh, working token from the same backend.
func TestFaultConnectionRefusedThenBack(t *testing.T) {
	var p *tcpProxy
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(func(c *broker.Config) {
		p = newProxy(t, c.InstanceURL)
		c.InstanceURL = p.url()
	})})
	c := f.signedIn(t, testkit.Admin)
	r, tok := embedToken(t, c, "viewer-amer")
	loads(t, f.em, fresh(t, r, tok, "viewer-amer").Token, "viewer-amer")

	p.stop()
	if conn, err := net.Dial("tcp", strings.TrimPrefix(p.url(), "http://")); err == nil {
		conn.Close()
		t.Fatal("the stopped proxy still accepts connections")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial the stopped proxy: %v, want connection refused", err)
	}
	for range 2 {
		r, _ := embedToken(t, c, "viewer-emea")
		failure(t, r, http.StatusServiceUnavailable, api.CodeUnreachable, "could not be reached", "check INSTANCE_URL and the network")
	}
	if r, tok := embedToken(t, c, "viewer-amer"); r.Status != 200 || !tok.FromCache {
		t.Fatalf("a viewer cached before the outage: %d (from cache %v)", r.Status, tok.FromCache)
	}

	p.start()
	r, tok = embedToken(t, c, "viewer-emea")
	loads(t, f.em, fresh(t, r, tok, "viewer-emea").Token, "viewer-emea")
}

// The workspace goes away and a new one (new keys, no memory of the
// tokens it issued) comes up on the same port: while it is down the user
// is told it cannot be reached; once it is back, the backend's service
// principal token, signed by a key the new workspace does not publish, is
// refused once and replaced by itself, and the viewer gets a working token.
func TestFaultWorkspaceRestartedOnSamePort(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(nil)})
	c := f.signedIn(t, testkit.Admin)
	r, tok := embedToken(t, c, "viewer-amer")
	loads(t, f.em, fresh(t, r, tok, "viewer-amer").Token, "viewer-amer")

	addr := strings.TrimPrefix(f.em.URL(), "http://")
	if err := f.em.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, _ = embedToken(t, c, "viewer-emea")
	failure(t, r, http.StatusServiceUnavailable, api.CodeUnreachable, "could not be reached", "is the emulator running?")

	em, err := emulator.Start(emulator.Options{}, addr)
	if err != nil {
		t.Fatalf("restart the emulator on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = em.Shutdown(context.Background()) })
	f.em = em
	r, tok = embedToken(t, c, "viewer-emea")
	tok = fresh(t, r, tok, "viewer-emea")
	loads(t, em, tok.Token, "viewer-emea")
	refused, renewed := false, false
	for _, s := range tok.Trace {
		refused = refused || (strings.HasPrefix(s.Name, "2.") && s.Status == http.StatusUnauthorized)
		renewed = renewed || (refused && strings.HasPrefix(s.Name, "1.") && s.Status == http.StatusOK)
	}
	if !refused || !renewed {
		t.Fatalf("the trace does not show the old service principal token refused and a new one fetched: %+v", tok.Trace)
	}
}

// The workspace's clock is several minutes off the backend's, either way
// (or, what is the same, the backend's host clock is). The token's
// expires_at is on the backend's clock, so the cache renews it in time: an
// hour and a minute later, when the workspace refuses the first token as
// expired, the backend does not serve it, and the one it serves works.
func TestFaultClockSkewOfSeveralMinutes(t *testing.T) {
	for _, skew := range []time.Duration{8 * time.Minute, -8 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			var offset atomic.Int64 // how far the test has moved both clocks on
			now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(func(c *broker.Config) { c.Now = now })})
			advance := func(d time.Duration) {
				offset.Add(int64(d))
				if err := f.em.SetClockSkew(skew + time.Duration(offset.Load())); err != nil {
					t.Fatal(err)
				}
			}
			advance(0)
			c := f.signedIn(t, testkit.Admin)

			r, first := embedToken(t, c, "viewer-emea")
			loads(t, f.em, fresh(t, r, first, "viewer-emea").Token, "viewer-emea")
			if left := first.ExpiresAt.Sub(now()); left < time.Hour-30*time.Second || left > time.Hour+time.Second {
				t.Errorf("expires_at is %s away on the backend's clock; the token works for an hour", left.Round(time.Second))
			}
			if r, again := embedToken(t, c, "viewer-emea"); r.Status != 200 || !again.FromCache {
				t.Fatalf("not served from the cache while far from expiry: %d (from cache %v)", r.Status, again.FromCache)
			}

			advance(time.Hour + time.Minute)
			if status, body := render(t, f.em, first.Token); status != http.StatusUnauthorized || !strings.Contains(body, "expired") {
				t.Fatalf("the workspace should refuse the first token as expired by now: %d %.200s", status, body)
			}
			r, tok := embedToken(t, c, "viewer-emea")
			if r.Status == 200 && tok.Token == first.Token {
				t.Fatalf("the backend served the token the workspace refuses as expired (expires_at %s, backend clock %s)",
					first.ExpiresAt.UTC().Format(time.TimeOnly), now().UTC().Format(time.TimeOnly))
			}
			loads(t, f.em, fresh(t, r, tok, "viewer-emea").Token, "viewer-emea")
		})
	}
}

// The workspace rotates its signing key: the JWKS publishes the new key
// and keeps the old one, so a token from before the rotation still works
// and is still served from the cache without a call; a new viewer's token
// carries the new key's id. When later rotations retire the key that
// signed the backend's service principal token, the workspace refuses it
// and the backend replaces it by itself: the user sees a working token.
func TestFaultSigningKeyRotation(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(nil)})
	c := f.signedIn(t, testkit.Admin)
	r, amer := embedToken(t, c, "viewer-amer")
	amer = fresh(t, r, amer, "viewer-amer")
	oldKid := amer.Header.Kid

	newKid, err := f.em.RotateKeys()
	if err != nil {
		t.Fatal(err)
	}
	var set wire.JWKS
	if status, body := getURL(t, f.em.URL()+wire.PathKeys); status != 200 || json.Unmarshal([]byte(body), &set) != nil ||
		len(set.Keys) != 2 || set.Keys[0].Kid != newKid || set.Keys[1].Kid != oldKid {
		t.Fatalf("JWKS after the rotation: %d %s; want the new key %s and the old %s", status, body, newKid, oldKid)
	}
	before := testkit.ExchangeCalls(f.em)
	r, again := embedToken(t, c, "viewer-amer")
	if r.Status != 200 || !again.FromCache || again.Token != amer.Token || testkit.ExchangeCalls(f.em) != before {
		t.Fatalf("the token from before the rotation: %d, from cache %v, same %v, %d calls", r.Status, again.FromCache, again.Token == amer.Token, testkit.ExchangeCalls(f.em)-before)
	}
	loads(t, f.em, again.Token, "viewer-amer")

	r, emea := embedToken(t, c, "viewer-emea")
	emea = fresh(t, r, emea, "viewer-emea")
	if emea.Header.Kid != newKid || !emea.Trace[0].Reused {
		t.Fatalf("new viewer: kid %s (want %s), service principal token reused %v", emea.Header.Kid, newKid, emea.Trace[0].Reused)
	}
	loads(t, f.em, emea.Token, "viewer-emea")

	// Two more rotations: the key that signed the service principal token
	// (oldKid) is no longer published.
	_, _ = f.em.RotateKeys()
	_, _ = f.em.RotateKeys()
	r, apac := embedToken(t, c, "viewer-apac")
	apac = fresh(t, r, apac, "viewer-apac")
	loads(t, f.em, apac.Token, "viewer-apac")
	if len(apac.Trace) != 5 || apac.Trace[1].Status != http.StatusUnauthorized || apac.Trace[2].Reused {
		t.Fatalf("the trace does not show the retired service principal token refused and replaced: %+v", apac.Trace)
	}
}

// The service principal's secret is revoked while the backend runs. Its
// service principal token stays valid (revoking a secret does not revoke
// tokens), but step 3 authenticates with the secret: the user is told the
// credentials were refused and which settings to check; when the service
// principal token must be renewed, step 1 is refused the same way. Viewers
// cached before stay served. When the secret is valid again, the same
// backend gets fresh, working tokens: the failures were not cached.
func TestFaultSecretRevokedMidRun(t *testing.T) {
	f := newFixture(t, fixtureOptions{brokerConfig: fastBroker(nil)})
	setSecret := func(s string) {
		t.Helper()
		if err := f.em.Update(func(st *emulator.State) {
			for i := range st.ServicePrincipals {
				if st.ServicePrincipals[i].ApplicationID == testkit.EmbedderID {
					st.ServicePrincipals[i].Secret = s
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	c := f.signedIn(t, testkit.Admin)
	r, amer := embedToken(t, c, "viewer-amer")
	loads(t, f.em, fresh(t, r, amer, "viewer-amer").Token, "viewer-amer")

	setSecret("dosedemo0revoked0secret0000000")
	r, _ = embedToken(t, c, "viewer-emea") // step 3 refused
	e := failure(t, r, http.StatusBadGateway, api.CodeBadSecret, "refused the service principal's credentials", "SERVICE_PRINCIPAL_SECRET")
	if !strings.Contains(e.Message, "step 3") {
		t.Errorf("message %q does not say which step failed", e.Message)
	}
	_, _ = f.em.RotateKeys() // retire the service principal token: step 1 is needed
	_, _ = f.em.RotateKeys()
	r, _ = embedToken(t, c, "viewer-emea")
	e = failure(t, r, http.StatusBadGateway, api.CodeBadSecret, "refused the service principal's credentials", "the secret may be revoked")
	if !strings.Contains(e.Message, "step 1") {
		t.Errorf("message %q does not say which step failed", e.Message)
	}
	if r, tok := embedToken(t, c, "viewer-amer"); r.Status != 200 || !tok.FromCache {
		t.Fatalf("a viewer cached before the revocation: %d (from cache %v)", r.Status, tok.FromCache)
	}

	setSecret(testkit.EmbedderSecret)
	r, tok := embedToken(t, c, "viewer-emea")
	loads(t, f.em, fresh(t, r, tok, "viewer-emea").Token, "viewer-emea")
	r, tok = embedToken(t, c, "viewer-apac")
	loads(t, f.em, fresh(t, r, tok, "viewer-apac").Token, "viewer-apac")
}

func getURL(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
