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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"embedlab/backend/appsetup/emulated"
	"embedlab/backend/assemble"
	"embedlab/backend/config"
	"embedlab/backend/emulator"
	"embedlab/backend/httpserve"
	"embedlab/backend/server"
	"embedlab/backend/session"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// benchUser is the demo login that may act as every bench viewer.
const benchUser = "admin"

// demoPassword is a bundled demo user's password.
func demoPassword(user string) string {
	for _, c := range session.DemoPasswords() {
		if c.Name == user {
			return c.Password
		}
	}
	return ""
}

// unlimited is an upstream rate that never makes the broker wait.
const unlimited = 1e9

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stack is the in-process workspace emulator the backends talk to, started
// as `embedlab serve` starts it when no workspace is configured.
type stack struct {
	em *emulator.Emulator // ws.Emulator
	// ws describes the emulator to assemble; cfg is serve's configuration
	// pointed at it (its dashboard and service principal among it), which
	// every backend starts from; dir holds their data folder and viewers
	// files.
	ws  *emulated.Workspace
	cfg config.Config
	dir string
}

func newStack() (*stack, error) {
	dir, err := os.MkdirTemp("", "embedlab-bench-")
	if err != nil {
		return nil, err
	}
	env := map[string]string{"EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0", "EMBEDLAB_DATA_DIR": dir}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ws, err := emulated.Start(cfg, io.Discard, quiet)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &stack{em: ws.Emulator, ws: ws, cfg: *cfg, dir: dir}, nil
}

// close stops the emulator and closes the workshop progress every
// backend's lab opened, then removes their data folder.
func (s *stack) close() {
	_ = s.ws.Stop(context.Background())
	_ = os.RemoveAll(s.dir)
}

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

// benchViewers writes a viewers file (EMBEDLAB_VIEWERS_FILE) of n viewers
// into dir, all open to benchUser, with opaque ids and the demo dashboard's
// regions as values.
func benchViewers(dir string, n int) (file string, ids []string, err error) {
	type entry struct {
		ID    string   `json:"id"`
		Value string   `json:"external_value"`
		Users []string `json:"users"`
	}
	regions := []string{"EMEA", "AMER", "APAC"}
	list := make([]entry, n)
	ids = make([]string, n)
	for i := range list {
		ids[i] = fmt.Sprintf("bench-viewer-%06d", i)
		list[i] = entry{ID: ids[i], Value: regions[i%len(regions)], Users: []string{benchUser}}
	}
	data, err := json.Marshal(map[string]any{"viewers": list})
	if err != nil {
		return "", nil, err
	}
	file = filepath.Join(dir, fmt.Sprintf("viewers-%d.json", n))
	return file, ids, os.WriteFile(file, data, 0o600)
}

// backend is one embedlab backend, with a fresh token cache, on loopback.
type backend struct {
	url string
	srv *http.Server
}

// app builds the backend as `embedlab serve` does with the emulator
// (assemble.App), with viewersFile as EMBEDLAB_VIEWERS_FILE ("" for the
// bundled viewers), the broker paced to rate per second (unlimited is above
// what EMBEDLAB_UPSTREAM_RATE accepts, so it is set here) and webDir served
// under /web/.
func (s *stack) app(viewersFile string, rate float64, webDir string) (*server.Server, error) {
	cfg := s.cfg
	cfg.ViewersFile, cfg.UpstreamRate, cfg.WebDir = viewersFile, rate, webDir
	return assemble.App(context.Background(), &cfg, func(string) string { return "" }, s.ws.Emulated, s.ws.Pages, quiet)
}

// startBackend serves s.app on loopback with serve's limits (httpserve).
func (s *stack) startBackend(viewersFile string, rate float64) (*backend, error) {
	srv, err := s.app(viewersFile, rate, "")
	if err != nil {
		return nil, err
	}
	base, hs, err := listen(srv)
	if err != nil {
		return nil, err
	}
	return &backend{url: base, srv: hs}, nil
}

// listen serves h on a free port of 127.0.0.1 as serve does.
func listen(h http.Handler) (string, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := httpserve.New(h)
	go func() { _ = hs.Serve(httpserve.Listener(ln, quiet)) }()
	return "http://" + ln.Addr().String(), hs, nil
}

func (b *backend) close() { _ = b.srv.Close() }

// upstream is the broker's upstream calls so far, retries included, as
// the backend's /metrics tells them.
func (b *backend) upstream(ctx context.Context) (int64, error) {
	n, err := metric(ctx, b.url, "embedlab_upstream_calls_total")
	return int64(n), err
}

// metric is the sum of the samples of one metric (all its labels) on the
// backend at base's /metrics.
func metric(ctx context.Context, base, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+api.PathMetrics, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %d", api.PathMetrics, res.StatusCode)
	}
	var sum float64
	found := false
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", api.PathMetrics, line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("%s has no %s", api.PathMetrics, name)
	}
	return sum, nil
}

// client is a logged-in browser, as the Wasm UI is: session cookie and
// CSRF token. It is safe for concurrent use.
type client struct {
	http *http.Client
	base string
	csrf string
}

// login is benchUser's client for conns concurrent requests.
func login(ctx context.Context, base string, conns int) (*client, error) {
	return loginAs(ctx, base, benchUser, conns)
}

// loginAs signs the demo user in through the API.
func loginAs(ctx context.Context, base, user string, conns int) (*client, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, http: &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true}}}
	body, _ := json.Marshal(api.LoginRequest{Name: user, Password: demoPassword(user)})
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
		return nil, fmt.Errorf("sign in as %s: %d %.200s", user, res.StatusCode, b)
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
