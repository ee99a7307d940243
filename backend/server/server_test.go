package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"embedlab/backend/broker"
	"embedlab/backend/doctor"
	"embedlab/backend/emulator"
	"embedlab/backend/lab"
	"embedlab/backend/server"
	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// fixture is the whole backend against a real emulator, and everything any
// client saw or the server logged, for the leak check.
type fixture struct {
	em     *emulator.Emulator
	url    string
	log    *syncBuf
	seen   *syncBuf
	secret string
}

func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureWith(t, fixtureOptions{}) }

// fixtureOptions change the fixture for one test.
type fixtureOptions struct {
	viewers *viewers.Set // default: the bundled viewers
	rate    float64      // the broker's upstream rate; default 1000/s
	// brokerConfig, when set, changes the broker's configuration last.
	brokerConfig func(*broker.Config)
	// lab wires the fault lab and the workshop to the emulator.
	lab bool
	// settings, when set, changes the server's settings last.
	settings func(*server.Settings)
	// doctor serves GET /api/doctor (routes_doctor.go).
	doctor bool
}

func newFixtureWith(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	if o.viewers == nil {
		o.viewers = viewers.Default()
	}
	if o.rate == 0 {
		o.rate = 1000
	}
	em, err := emulator.Start(emulator.Options{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Shutdown(context.Background()) })
	dash, id, secret, err := em.Embedding()
	if err != nil {
		t.Fatal(err)
	}
	cfg := broker.Config{InstanceURL: em.URL(), ClientID: id, ClientSecret: secret, Rate: o.rate}
	if o.brokerConfig != nil {
		o.brokerConfig(&cfg)
	}
	brk, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuf{}
	var doc *doctor.Doctor
	if o.doctor {
		doc = doctor.New(doctor.Config{InstanceURL: em.URL(), WorkspaceID: em.WorkspaceID(), DashboardID: dash, ClientID: id, ClientSecret: secret,
			Emulated: true, Viewers: o.viewers})
	}
	deps := server.Deps{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Sessions: sessions, Viewers: o.viewers, Broker: brk, Doctor: doc,
		Settings: server.Settings{InstanceURL: em.URL(), WorkspaceID: em.WorkspaceID(), DashboardID: dash, Emulated: true, DemoUsers: true},
	}
	if o.lab {
		l, ws, st, err := lab.Wire(em, lab.Options{ClientID: id, DashboardID: dash, ProgressFile: filepath.Join(t.TempDir(), "workshop.db")}, brk.Forget)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		deps.Lab, deps.Workshop = l, ws
	}
	if o.settings != nil {
		o.settings(&deps.Settings)
	}
	srv := server.New(deps)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f := &fixture{em: em, url: ts.URL, log: logs, seen: &syncBuf{}, secret: secret}
	t.Cleanup(func() { f.checkNoLeak(t) })
	return f
}

type client struct {
	f    *fixture
	http *http.Client
	csrf string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, http: &http.Client{Jar: jar}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (c *client) do(t *testing.T, method, path string, body any, csrf bool) reply {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.f.url+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf {
		req.Header.Set(api.HeaderCSRF, c.csrf)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for k, v := range res.Header {
		c.f.seen.Write([]byte(k + ": " + strings.Join(v, ",") + "\n"))
	}
	c.f.seen.Write(b)
	return reply{res.StatusCode, res.Header, b}
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d: not JSON: %s", r.status, r.body)
	}
}

// apiError checks the error shape {error, message, request_id}.
func (r reply) apiError(t *testing.T, status int, code string) api.Error {
	t.Helper()
	var e api.Error
	r.json(t, &e)
	if r.status != status || e.Error != code || e.Message == "" || e.RequestID == "" {
		t.Fatalf("got %d %s, want %d %q with a message and a request id", r.status, r.body, status, code)
	}
	return e
}

func (c *client) login(t *testing.T, user, password string) reply {
	t.Helper()
	r := c.do(t, http.MethodPost, api.PathSession, api.LoginRequest{Name: user, Password: password}, false)
	if r.status == http.StatusOK {
		var s api.Session
		r.json(t, &s)
		c.csrf = s.CSRFToken
	}
	return r
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+`)

// checkNoLeak: neither the secret nor any all-apis token appears in any
// response body, header or log line of the test.
func (f *fixture) checkNoLeak(t *testing.T) {
	for name, text := range map[string]string{"responses": f.seen.String(), "logs": f.log.String()} {
		if strings.Contains(text, f.secret) {
			t.Errorf("the service principal secret is in the %s", name)
		}
		for _, m := range jwtRE.FindAllStringSubmatch(text, -1) {
			payload, _ := base64.RawURLEncoding.DecodeString(m[1])
			if strings.Contains(string(payload), `"all-apis"`) {
				t.Errorf("an all-apis token is in the %s", name)
			}
		}
	}
}

func TestLoginViewersAndTokens(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.login(t, "ada", "wrong-password").apiError(t, http.StatusUnauthorized, "bad_credentials")
	c.do(t, http.MethodGet, api.PathViewers, nil, false).apiError(t, http.StatusUnauthorized, "no_session")
	if r := c.login(t, "ada", "ada-demo-pass"); r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	var vs api.Viewers
	c.do(t, http.MethodGet, api.PathViewers, nil, false).json(t, &vs)
	if len(vs.Viewers) != 2 {
		t.Fatalf("ada's viewers = %+v", vs)
	}

	var tok api.EmbedToken
	r := c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false)
	r.json(t, &tok)
	if r.status != 200 || tok.Claims.CustomClaim != wire.CustomClaim("EMEA", "viewer-emea", tok.Claims.AuthorizationDetails[2].ResourceName[len("workspaces/1234567890123456/dashboards/"):]) ||
		tok.FromCache || len(tok.Trace) != 3 || tok.Viewer.ExternalValue != "EMEA" {
		t.Fatalf("token: %d %+v", r.status, tok)
	}
	if !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("token answer is cacheable: %q", r.header.Get("Cache-Control"))
	}
	for i := 0; i < 5; i++ {
		c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false).json(t, &tok)
	}
	if !tok.FromCache {
		t.Fatal("repeat loads were not served from the cache")
	}
	calls := 0
	for _, e := range f.em.Requests(0) {
		if e.Path == wire.PathToken || strings.HasSuffix(e.Path, "/tokeninfo") {
			calls++
		}
	}
	if calls != 3 {
		t.Fatalf("6 page loads cost %d upstream calls, want 3", calls)
	}

	// Another user's viewer and an unknown viewer are refused alike.
	a := c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-apac", nil, false).apiError(t, http.StatusForbidden, api.CodeForbiddenViewer)
	b := c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=no-such-viewer", nil, false).apiError(t, http.StatusForbidden, api.CodeForbiddenViewer)
	if a.Message != b.Message {
		t.Fatalf("refusals differ, which lets ids be probed: %q vs %q", a.Message, b.Message)
	}
	// The browser cannot choose a value: an extra parameter changes nothing.
	c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea&external_value=APAC", nil, false).json(t, &tok)
	if tok.Viewer.ExternalValue != "EMEA" || !strings.Contains(tok.Claims.CustomClaim, ":EMEA:") {
		t.Fatalf("the browser chose a value: %+v", tok.Claims.CustomClaim)
	}
	c.do(t, http.MethodGet, api.PathEmbedToken, nil, false).apiError(t, http.StatusBadRequest, "bad_request")
}

func TestCSRFAndLogout(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.login(t, "grace", "grace-demo-pass")
	c.do(t, http.MethodDelete, api.PathSession, nil, false).apiError(t, http.StatusForbidden, "csrf")
	if r := c.do(t, http.MethodGet, api.PathViewers, nil, false); r.status != 200 {
		t.Fatal("a refused logout ended the session")
	}
	if r := c.do(t, http.MethodDelete, api.PathSession, nil, true); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	c.do(t, http.MethodGet, api.PathViewers, nil, false).apiError(t, http.StatusUnauthorized, "no_session")
}

func TestUpstreamFailuresAreDiagnosed(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.login(t, "admin", "admin-demo-pass")
	_ = f.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, Status: 401, Count: 1})
	c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-apac", nil, false).apiError(t, http.StatusBadGateway, api.CodeBadSecret)
	if err := f.em.Update(func(s *emulator.State) { s.Dashboards[0].CanRun = nil }); err != nil {
		t.Fatal(err)
	}
	e := c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-amer", nil, false).apiError(t, http.StatusBadGateway, api.CodeNoCanRun)
	if !strings.Contains(e.Fix, "CAN RUN") {
		t.Fatalf("fix = %q", e.Fix)
	}
	if err := f.em.Update(func(s *emulator.State) { s.Dashboards[0].Published = false }); err != nil {
		t.Fatal(err)
	}
	c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-amer", nil, false).apiError(t, http.StatusBadGateway, api.CodeUnknownDashboard)
}

func TestAPIRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.do(t, http.MethodGet, "/api/no-such-route", nil, false).apiError(t, http.StatusNotFound, "not_found")
	big := map[string]string{"name": "ada", "password": strings.Repeat("x", 100<<10)}
	if r := c.do(t, http.MethodPost, api.PathSession, big, false); r.status != http.StatusRequestEntityTooLarge && r.status != http.StatusBadRequest {
		t.Fatalf("huge login body: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+api.PathSession, strings.NewReader("name=ada&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form login: %d", res.StatusCode)
	}
	r := c.do(t, http.MethodGet, "/", nil, false)
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "frame-src "+f.em.URL()) || r.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page headers: CSP %q", csp)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.login(t, "ada", "ada-demo-pass")
	c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false)
	c.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false)
	r := c.do(t, http.MethodGet, api.PathMetrics, nil, false)
	for _, want := range []string{"embedlab_token_requests_total 2", "embedlab_token_cache_hits_total 1",
		`embedlab_upstream_calls_total{step="tokeninfo"} 1`, `embedlab_upstream_calls_total{step="scoped_token"} 1`,
		"embedlab_token_cache_entries 1"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// One prefix for embedlab's own metrics, the Go runtime's as Prometheus
	// names them; the step is a label, never part of a name.
	for _, line := range strings.Split(string(r.body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			if !strings.HasPrefix(name, "embedlab_") && !strings.HasPrefix(name, "go_") || strings.Contains(name, "tokeninfo") {
				t.Errorf("metric %s: want embedlab_ (or go_) and no step in the name", name)
			}
		}
	}
}
