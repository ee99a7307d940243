package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/server"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// benchUser is the demo login that may act as every bench viewer.
const benchUser, benchPassword = "admin", "admin-demo-pass"

// unlimited is an upstream rate that never makes the broker wait.
const unlimited = 1e9

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stack is the in-process workspace emulator the backends talk to.
type stack struct {
	em                                  *emulator.Emulator
	dashboardID, clientID, clientSecret string
}

func newStack() (*stack, error) {
	em, err := emulator.Start(emulator.Options{Logger: quiet}, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dash, id, secret, err := em.Embedding()
	if err != nil {
		_ = em.Shutdown(context.Background())
		return nil, err
	}
	return &stack{em: em, dashboardID: dash, clientID: id, clientSecret: secret}, nil
}

func (s *stack) close() { _ = s.em.Shutdown(context.Background()) }

// upstreamCalls counts the token and tokeninfo calls in the emulator's
// request log after seq; exact is false when the log dropped some.
func (s *stack) upstreamCalls(after int64) (n int64, last int64, exact bool) {
	entries := s.em.Requests(after)
	exact = len(entries) == 0 || entries[0].Seq == after+1
	last = after
	for _, e := range entries {
		if e.Path == wire.PathToken || strings.HasSuffix(e.Path, "/tokeninfo") {
			n++
		}
		last = e.Seq
	}
	return n, last, exact
}

// lastSeq is the newest sequence number of the request log.
func (s *stack) lastSeq() int64 {
	_, last, _ := s.upstreamCalls(0)
	return last
}

// benchViewers makes n viewers, all open to benchUser, with opaque ids and
// the demo dashboard's regions as values.
func benchViewers(n int) (*viewers.Set, []string, error) {
	type entry struct {
		ID    string   `json:"id"`
		Value string   `json:"external_value"`
		Users []string `json:"users"`
	}
	regions := []string{"EMEA", "AMER", "APAC"}
	list := make([]entry, n)
	ids := make([]string, n)
	for i := range list {
		ids[i] = fmt.Sprintf("bench-viewer-%06d", i)
		list[i] = entry{ID: ids[i], Value: regions[i%len(regions)], Users: []string{benchUser}}
	}
	data, err := json.Marshal(map[string]any{"viewers": list})
	if err != nil {
		return nil, nil, err
	}
	set, err := viewers.Parse("bench viewers", data)
	return set, ids, err
}

// backend is one embedlab backend, with a fresh token cache, on loopback.
type backend struct {
	url    string
	broker *broker.Broker
	srv    *http.Server
}

// backendConfig is what a backend needs to reach the workspace.
type backendConfig struct {
	InstanceURL, WorkspaceID, DashboardID, ClientID, ClientSecret string
	// Rate is the broker's upstream pace per second.
	Rate float64
}

func (s *stack) config(rate float64) backendConfig {
	return backendConfig{InstanceURL: s.em.URL(), WorkspaceID: s.em.WorkspaceID(), DashboardID: s.dashboardID,
		ClientID: s.clientID, ClientSecret: s.clientSecret, Rate: rate}
}

// newServer builds the backend as backend/main.go does, with vs as the
// viewers file.
func newServer(c backendConfig, vs *viewers.Set) (*server.Server, *broker.Broker, error) {
	brk, err := broker.New(broker.Config{InstanceURL: c.InstanceURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Rate: c.Rate})
	if err != nil {
		return nil, nil, err
	}
	sessions, err := session.New(session.Options{})
	if err != nil {
		return nil, nil, err
	}
	srv := server.New(server.Deps{
		Logger: quiet, Sessions: sessions, Viewers: vs, Broker: brk,
		Settings: server.Settings{InstanceURL: c.InstanceURL, WorkspaceID: c.WorkspaceID, DashboardID: c.DashboardID,
			Emulated: true, RefreshMargin: 5 * time.Minute, Version: "bench"},
	})
	return srv, brk, nil
}

func startBackend(c backendConfig, vs *viewers.Set) (*backend, error) {
	srv, brk, err := newServer(c, vs)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &backend{url: "http://" + ln.Addr().String(), broker: brk, srv: hs}, nil
}

func (b *backend) close() { _ = b.srv.Close() }

// upstream is the broker's upstream calls so far, retries included.
func (b *backend) upstream() int64 {
	st := b.broker.Stats()
	var n int64
	for _, c := range st.UpstreamCalls {
		n += c
	}
	return n
}

// client is a logged-in browser, as the Wasm UI is: session cookie and
// CSRF token. It is safe for concurrent use.
type client struct {
	http *http.Client
	base string
	csrf string
}

func login(ctx context.Context, base string, conns int) (*client, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, http: &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true}}}
	body, _ := json.Marshal(api.LoginRequest{Name: benchUser, Password: benchPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+api.PathSession, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var s api.Session
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.CSRFToken == "" {
		return nil, fmt.Errorf("login: %d %.200s", res.StatusCode, b)
	}
	c.csrf = s.CSRFToken
	return c, nil
}

// token asks for one viewer's embed token, as a page load does.
func (c *client) token(ctx context.Context, viewer string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+api.PathEmbedToken+"?"+api.QueryViewer+"="+url.QueryEscape(viewer), nil)
	if err != nil {
		return err
	}
	req.Header.Set(api.HeaderCSRF, c.csrf)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("embed-token for %s: %d %.300s", viewer, res.StatusCode, b)
	}
	return nil
}

// loadResult is what a load run saw.
type loadResult struct {
	latencies []time.Duration // sorted
	elapsed   time.Duration
}

func (r loadResult) perSecond() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

// percentile is the nearest-rank percentile p (0 to 100), in ms.
func (r loadResult) percentile(p float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * p / 100)
	return float64(r.latencies[i]) / float64(time.Millisecond)
}

// load runs clients concurrent page loads: viewer(i) names the viewer of
// load i, or returns false when the run is over. The first error stops it.
func load(parent context.Context, c *client, clients int, viewer func(i int) (string, bool)) (loadResult, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); all = append(all, mine...); mu.Unlock() }()
			for ctx.Err() == nil {
				v, ok := viewer(int(next.Add(1) - 1))
				if !ok {
					return
				}
				t := time.Now()
				if err := c.token(ctx, v); err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				mine = append(mine, time.Since(t))
			}
		})
	}
	wg.Wait()
	r := loadResult{latencies: all, elapsed: time.Since(start)}
	slices.Sort(r.latencies)
	if firstErr == nil && len(all) == 0 {
		firstErr = errors.New("no request finished")
	}
	return r, errors.Join(firstErr, parent.Err())
}
