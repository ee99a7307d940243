package server_test

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/server"
	"embedlab/backend/session"
	"embedlab/backend/testkit"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// fixture is the whole backend against a real emulator, and everything any
// client saw or the server logged, for the leak check.
type fixture struct {
	em   *emulator.Emulator
	url  string
	log  *testkit.Buffer
	seen *testkit.Buffer
	// out is what serve printed on the terminal (serve only).
	out *testkit.Buffer
}

// serve is embedlab as `embedlab serve` runs it with env (testkit.Serve):
// every setting a user has is set this way.
func serve(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	a := testkit.Serve(t, env)
	return watch(t, &fixture{em: a.Emulator, url: a.URL, log: a.Log, seen: &testkit.Buffer{}, out: a.Out})
}

// fixtureOptions are what no user sets, for the tests that need the
// server wired by hand (newFixture).
type fixtureOptions struct {
	// em is the workspace; nil starts a new emulator.
	em *emulator.Emulator
	// brokerConfig, when set, changes the broker's configuration last:
	// its retries, timeouts and clock.
	brokerConfig func(*broker.Config)
	// settings, when set, changes the server's settings last.
	settings func(*server.Settings)
}

// newFixture wires the server by hand, the emulator's embedder as its
// service principal, the bundled users and viewers, and an upstream rate
// of 1000/s; use serve unless o sets what only this wiring can.
func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	em := o.em
	if em == nil {
		em = testkit.Emulator(t, emulator.Options{})
	}
	cfg := broker.Config{InstanceURL: em.URL(), ClientID: testkit.EmbedderID, ClientSecret: testkit.EmbedderSecret, Rate: 1000}
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
	logs := &testkit.Buffer{}
	deps := server.Deps{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Sessions: sessions, Viewers: viewers.Default(), Broker: brk,
		Settings: server.Settings{InstanceURL: em.URL(), WorkspaceID: em.WorkspaceID(), DashboardID: testkit.DashboardID, Emulated: true, DemoUsers: true},
	}
	if o.settings != nil {
		o.settings(&deps.Settings)
	}
	ts := httptest.NewServer(server.New(deps))
	t.Cleanup(ts.Close)
	return watch(t, &fixture{em: em, url: ts.URL, log: logs, seen: &testkit.Buffer{}})
}

// watch checks f for leaks when the test ends.
func watch(t *testing.T, f *fixture) *fixture {
	t.Cleanup(func() { f.checkNoLeak(t) })
	return f
}

// client is a new browser of the app; what it is answered goes to the
// leak check.
func (f *fixture) client(t *testing.T) *testkit.Client {
	c := testkit.NewClient(t, f.url)
	c.Seen = f.seen
	return c
}

// signedIn is a client signed in as u.
func (f *fixture) signedIn(t *testing.T, u testkit.User) *testkit.Client {
	t.Helper()
	c := f.client(t)
	if r := c.Login(u); r.Status != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", u.Name, r.Status, r.Body)
	}
	return c
}

// withoutCSRF is c's session without its CSRF token.
func withoutCSRF(c *testkit.Client) *testkit.Client {
	d := *c
	d.CSRF = ""
	return &d
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+`)

// checkNoLeak: neither the secret nor any all-apis token appears in any
// response body, header, log line or terminal output of the test.
func (f *fixture) checkNoLeak(t *testing.T) {
	texts := map[string]string{"responses": f.seen.String(), "logs": f.log.String()}
	if f.out != nil {
		texts["terminal output"] = f.out.String()
	}
	for name, text := range texts {
		if strings.Contains(text, testkit.EmbedderSecret) {
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
	f := serve(t, nil)
	c := f.client(t)
	c.Login(testkit.User{Name: "ada", Password: "wrong-password"}).APIError(t, http.StatusUnauthorized, "bad_credentials")
	c.Do(http.MethodGet, api.PathViewers, nil).APIError(t, http.StatusUnauthorized, "no_session")
	if r := c.Login(testkit.Ada); r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var vs api.Viewers
	c.Do(http.MethodGet, api.PathViewers, nil).JSON(t, &vs)
	if len(vs.Viewers) != 2 {
		t.Fatalf("ada's viewers = %+v", vs)
	}

	var tok api.EmbedToken
	r := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil)
	r.JSON(t, &tok)
	if r.Status != 200 || tok.Claims.CustomClaim != wire.CustomClaim("EMEA", "viewer-emea", tok.Claims.AuthorizationDetails[2].ResourceName[len("workspaces/1234567890123456/dashboards/"):]) ||
		tok.FromCache || len(tok.Trace) != 3 || tok.Viewer.ExternalValue != "EMEA" {
		t.Fatalf("token: %d %+v", r.Status, tok)
	}
	if !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("token answer is cacheable: %q", r.Header.Get("Cache-Control"))
	}
	for i := 0; i < 5; i++ {
		c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil).JSON(t, &tok)
	}
	if !tok.FromCache {
		t.Fatal("repeat loads were not served from the cache")
	}
	if calls := testkit.ExchangeCalls(f.em); calls != 3 {
		t.Fatalf("6 page loads cost %d upstream calls, want 3", calls)
	}

	// Another user's viewer and an unknown viewer are refused alike.
	a := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-apac", nil).APIError(t, http.StatusForbidden, api.CodeForbiddenViewer)
	b := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=no-such-viewer", nil).APIError(t, http.StatusForbidden, api.CodeForbiddenViewer)
	if a.Message != b.Message {
		t.Fatalf("refusals differ, which lets ids be probed: %q vs %q", a.Message, b.Message)
	}
	// The browser cannot choose a value: an extra parameter changes nothing.
	c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea&external_value=APAC", nil).JSON(t, &tok)
	if tok.Viewer.ExternalValue != "EMEA" || !strings.Contains(tok.Claims.CustomClaim, ":EMEA:") {
		t.Fatalf("the browser chose a value: %+v", tok.Claims.CustomClaim)
	}
	c.Do(http.MethodGet, api.PathEmbedToken, nil).APIError(t, http.StatusBadRequest, "bad_request")
}

func TestCSRFAndLogout(t *testing.T) {
	f := serve(t, nil)
	c := f.signedIn(t, testkit.Grace)
	withoutCSRF(c).Do(http.MethodDelete, api.PathSession, nil).APIError(t, http.StatusForbidden, "csrf")
	if r := c.Do(http.MethodGet, api.PathViewers, nil); r.Status != 200 {
		t.Fatal("a refused logout ended the session")
	}
	if r := c.Do(http.MethodDelete, api.PathSession, nil); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	c.Do(http.MethodGet, api.PathViewers, nil).APIError(t, http.StatusUnauthorized, "no_session")
}

func TestUpstreamFailuresAreDiagnosed(t *testing.T) {
	f := serve(t, nil)
	c := f.signedIn(t, testkit.Admin)
	_ = f.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, Status: 401, Count: 1})
	c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-apac", nil).APIError(t, http.StatusBadGateway, api.CodeBadSecret)
	if err := f.em.Update(func(s *emulator.State) { s.Dashboards[0].CanRun = nil }); err != nil {
		t.Fatal(err)
	}
	e := c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-amer", nil).APIError(t, http.StatusBadGateway, api.CodeNoCanRun)
	if !strings.Contains(e.Fix, "CAN RUN") {
		t.Fatalf("fix = %q", e.Fix)
	}
	if err := f.em.Update(func(s *emulator.State) { s.Dashboards[0].Published = false }); err != nil {
		t.Fatal(err)
	}
	c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-amer", nil).APIError(t, http.StatusBadGateway, api.CodeUnknownDashboard)
}

func TestAPIRefusesBadRequests(t *testing.T) {
	f := serve(t, nil)
	c := f.client(t)
	c.Do(http.MethodGet, "/api/no-such-route", nil).APIError(t, http.StatusNotFound, "not_found")
	big := map[string]string{"name": "ada", "password": strings.Repeat("x", 100<<10)}
	if r := c.Do(http.MethodPost, api.PathSession, big); r.Status != http.StatusRequestEntityTooLarge && r.Status != http.StatusBadRequest {
		t.Fatalf("huge login body: %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+api.PathSession, strings.NewReader("name=ada&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := c.Send(req); r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("form login: %d", r.Status)
	}
	r := c.Do(http.MethodGet, "/", nil)
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "frame-src "+f.em.URL()) || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page headers: CSP %q", csp)
	}
}

func TestMetrics(t *testing.T) {
	f := serve(t, nil)
	c := f.signedIn(t, testkit.Ada)
	c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil)
	c.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil)
	r := c.Do(http.MethodGet, api.PathMetrics, nil)
	for _, want := range []string{"embedlab_token_requests_total 2", "embedlab_token_cache_hits_total 1",
		`embedlab_upstream_calls_total{step="tokeninfo"} 1`, `embedlab_upstream_calls_total{step="scoped_token"} 1`,
		"embedlab_token_cache_entries 1"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// One prefix for embedlab's own metrics, the Go runtime's as Prometheus
	// names them; the step is a label, never part of a name.
	for _, line := range strings.Split(string(r.Body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			if !strings.HasPrefix(name, "embedlab_") && !strings.HasPrefix(name, "go_") || strings.Contains(name, "tokeninfo") {
				t.Errorf("metric %s: want embedlab_ (or go_) and no step in the name", name)
			}
		}
	}
}
