package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/redact"
	"embedlab/shared/wire"
)

// Config is the deployment to check.
type Config struct {
	InstanceURL  string
	WorkspaceID  string
	DashboardID  string
	ClientID     string
	ClientSecret string
	// Emulated is true when the workspace is embedlab's emulator: its fault
	// switch then mints the expired token of the isolation check's probe,
	// and fixes name its state file.
	Emulated bool
	// Viewers are the configured external viewers; ViewersErr says why they
	// could not be loaded (Viewers is nil then). ViewersSource names where
	// they come from, e.g. the file.
	Viewers       *viewers.Set
	ViewersErr    error
	ViewersSource string
	// HTTPClient makes the calls; a default client when nil. Redirects are
	// never followed.
	HTTPClient *http.Client
	// Timeout bounds each call (10 s).
	Timeout time.Duration
	// StatementTimeout bounds each SQL statement of the isolation check,
	// polls included (2 minutes); a statement still running is cancelled.
	StatementTimeout time.Duration
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time
}

// Options are what one run checks.
type Options struct {
	// Origin is the app's origin, which the workspace must allow to embed
	// its dashboards; empty skips the check.
	Origin string
	// Isolation runs the isolation check as well.
	Isolation bool
	// Viewers are the viewers this run may name and act as (the probe of
	// the token checks and the isolation check's columns); nil means every
	// configured viewer. The web page passes the signed-in user's own.
	Viewers []viewers.Viewer
	// NameViewers lets the viewers check name viewer ids (the command line
	// does; the web page shows only the user's own viewers).
	NameViewers bool
	// Via is how the isolation check runs the datasets: ViaStatements (the
	// SQL Statement Execution API, which real workspaces have) or
	// ViaEmbedQuery (the emulator's embed page query API); empty picks
	// the first on a real workspace and the second on the emulator.
	Via string
}

// Ways the isolation check runs the datasets (Options.Via).
const (
	ViaStatements = "sql"
	ViaEmbedQuery = "embed"
)

// Doctor runs the checks. It is safe for concurrent use.
type Doctor struct {
	cfg  Config
	http *http.Client
}

// New builds a Doctor.
func New(cfg Config) *Doctor {
	cfg.InstanceURL = strings.TrimRight(cfg.InstanceURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := http.Client{Transport: http.DefaultTransport}
	if cfg.HTTPClient != nil {
		c = *cfg.HTTPClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Doctor{cfg: cfg, http: &c}
}

// run is the state of one Run, shared by the checks in their order.
type run struct {
	d   *Doctor
	cfg Config
	o   Options
	rep *api.DoctorReport

	reached   bool
	meta      wire.AuthServerMetadata
	clockSeen bool
	skew      time.Duration // the workspace's clock minus this host's

	spToken string
	brk     *broker.Broker
	probe   viewers.Viewer
	scoped  *broker.Result
	// scopedErr is the exchange's failure for the probe viewer.
	scopedErr *broker.Error

	dashStatus      int // GET /api/2.0/lakeview/dashboards/{id}
	dashSaid        string
	def             *wire.SerializedDashboard
	warehouseID     string // the dashboard's, from its definition or published revision
	publishedStatus int    // GET .../published
	publishedSaid   string
	published       *wire.PublishedDashboard

	cancelled atomic.Int64 // statements the isolation check cancelled
}

// Run checks the deployment. It never fails as a whole: what it could not
// check is a line of the report with the reason.
func (d *Doctor) Run(ctx context.Context, o Options) *api.DoctorReport {
	start := d.cfg.Now()
	r := &run{d: d, cfg: d.cfg, o: o, rep: &api.DoctorReport{
		InstanceURL: d.cfg.InstanceURL, WorkspaceID: d.cfg.WorkspaceID, DashboardID: d.cfg.DashboardID,
		ClientID: d.cfg.ClientID, Origin: o.Origin, Emulated: d.cfg.Emulated, StartedAt: start.UTC(),
	}}
	r.probe = r.probeViewer()
	if b, err := broker.New(broker.Config{InstanceURL: d.cfg.InstanceURL, ClientID: d.cfg.ClientID, ClientSecret: d.cfg.ClientSecret,
		Rate: 20, Attempts: 2, Timeout: d.cfg.Timeout, MaxBackoff: time.Second, HTTPClient: d.http, Now: d.cfg.Now}); err == nil {
		r.brk = b
	}
	for _, check := range []func(context.Context) api.DoctorCheck{
		r.checkWorkspace, r.checkClock, r.checkSecret, r.checkTokenInfo, r.checkScopedToken,
		r.checkOrigin, r.checkViewers, r.checkAIBIClient, r.checkDatasets, r.checkCredentials,
	} {
		r.rep.Checks = append(r.rep.Checks, check(ctx))
	}
	if o.Isolation {
		r.rep.Isolation = r.isolation(ctx)
		iso := r.rep.Isolation
		r.rep.Checks = append(r.rep.Checks, api.DoctorCheck{ID: api.CheckIsolation, Title: titles[api.CheckIsolation],
			Status: iso.Status, Reason: iso.Reason, Fix: iso.Fix, Details: isolationDetails(iso)})
	}
	r.rep.OK = true
	for _, c := range r.rep.Checks {
		if c.Status == api.StatusFail {
			r.rep.OK = false
		}
	}
	r.rep.DurationMS = float64(d.cfg.Now().Sub(start).Microseconds()) / 1000
	return r.rep
}

// isolationDetails are the isolation check's lines beside its reason: how
// the datasets ran, as whom, and the grants that are missing.
func isolationDetails(iso *api.IsolationReport) []string {
	var out []string
	if iso.Method == api.MethodStatements && iso.WarehouseID != "" {
		out = append(out, "each dataset ran through the SQL Statement Execution API on warehouse "+iso.WarehouseID+
			", the viewer's external_value bound as the named parameter :"+paramExternalValue)
	}
	if iso.RunsAs != "" {
		out = append(out, iso.RunsAs)
	}
	for _, g := range iso.MissingGrants {
		out = append(out, fmt.Sprintf("MISSING GRANT: %s on %s for %s. Who can give it: %s. How: %s", g.Privilege, g.Securable, g.Principal, g.GrantedBy, g.How))
	}
	if iso.Cancelled > 0 {
		out = append(out, fmt.Sprintf("%s cancelled on the warehouse", plural(iso.Cancelled, "statement")))
	}
	return out
}

// probeViewer is the viewer the token checks use: the first one this run
// may act as, else a made-up one whose id is no one's personal data.
func (r *run) probeViewer() viewers.Viewer {
	vs := r.o.Viewers
	if vs == nil && r.cfg.Viewers != nil {
		vs = r.cfg.Viewers.Viewers()
	}
	if len(vs) > 0 {
		return vs[0]
	}
	return viewers.Viewer{ID: "embedlab-doctor", DisplayName: "embedlab doctor", ExternalValue: "embedlab-doctor"}
}

// answer is one HTTP answer.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	sent, got  time.Time
	retryAfter int
}

// request is one call to make: a path on the workspace (or a full URL),
// with a bearer token, or the service principal's client credentials when
// basic is set.
type request struct {
	method, path, bearer string
	basic                bool
	form                 url.Values
	json                 any
}

// do makes one call, bounded by the timeout, and notes the Date header.
func (r *run) do(ctx context.Context, q request) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	u := q.path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = r.cfg.InstanceURL + u
	}
	var body io.Reader
	ctype := ""
	switch {
	case q.form != nil:
		body, ctype = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	case q.json != nil:
		b, err := json.Marshal(q.json)
		if err != nil {
			return answer{}, err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return answer{}, err
	}
	switch {
	case q.basic:
		req.SetBasicAuth(url.QueryEscape(r.cfg.ClientID), url.QueryEscape(r.cfg.ClientSecret))
	case q.bearer != "":
		req.Header.Set("Authorization", "Bearer "+q.bearer)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	a := answer{sent: time.Now()}
	res, err := r.d.http.Do(req)
	if err != nil {
		return answer{}, errors.New(redact.Text(err.Error()))
	}
	defer res.Body.Close()
	a.body, err = io.ReadAll(io.LimitReader(res.Body, 16<<20))
	a.got = time.Now()
	if err != nil {
		return answer{}, err
	}
	a.status, a.header = res.StatusCode, res.Header
	_, _ = fmt.Sscan(res.Header.Get("Retry-After"), &a.retryAfter)
	r.noteDate(a)
	return a, nil
}

func (r *run) get(ctx context.Context, path, bearer string) (answer, error) {
	return r.do(ctx, request{path: path, bearer: bearer})
}

// noteDate keeps the workspace's clock offset from the first Date header.
// Date has whole seconds, so the offset is compared with the midpoint of
// the call, rounded the same way.
func (r *run) noteDate(a answer) {
	if r.clockSeen {
		return
	}
	t, err := http.ParseTime(a.header.Get("Date"))
	if err != nil {
		return
	}
	mid := a.sent.Add(a.got.Sub(a.sent) / 2)
	r.skew = t.Sub(mid.Truncate(time.Second))
	r.clockSeen = true
}

// said is what a refusal says: the REST or OAuth error code and message.
func said(a answer) string {
	var ae wire.APIError
	var oe wire.OAuthError
	_ = json.Unmarshal(a.body, &ae)
	_ = json.Unmarshal(a.body, &oe)
	s := strings.TrimSpace(strings.TrimSpace(ae.ErrorCode+" "+ae.Message) + " " + strings.TrimSpace(oe.Code+" "+oe.Description))
	if s == "" {
		s = strings.TrimSpace(string(bytes.ToValidUTF8(a.body[:min(len(a.body), 200)], nil)))
	}
	if s == "" {
		return fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))
	}
	return fmt.Sprintf("%d %s", a.status, redact.Text(s))
}

// titles name each check for people.
var titles = map[string]string{
	api.CheckWorkspace:   "Workspace reachable, discovery answers",
	api.CheckClock:       "Clock agrees with the workspace",
	api.CheckSecret:      "Service principal secret accepted",
	api.CheckTokenInfo:   "tokeninfo answers for the dashboard",
	api.CheckScopedToken: "Scoped token for a viewer",
	api.CheckOrigin:      "App origin allowed to embed",
	api.CheckViewers:     "Viewer ids unique, not personal data",
	api.CheckAIBIClient:  "Tokens readable by @databricks/aibi-client",
	api.CheckDatasets:    "Every dataset filters on __aibi_external_value",
	api.CheckCredentials: "Embed credentials",
	api.CheckIsolation:   "Isolation: no viewer sees another's rows",
}

func check(id string) api.DoctorCheck { return api.DoctorCheck{ID: id, Title: titles[id]} }

func done(c api.DoctorCheck, status, fix, format string, a ...any) api.DoctorCheck {
	c.Status, c.Fix, c.Reason = status, fix, fmt.Sprintf(format, a...)
	return c
}

func pass(c api.DoctorCheck, format string, a ...any) api.DoctorCheck {
	return done(c, api.StatusPass, "", format, a...)
}

func warn(c api.DoctorCheck, fix, format string, a ...any) api.DoctorCheck {
	return done(c, api.StatusWarn, fix, format, a...)
}

func fail(c api.DoctorCheck, fix, format string, a ...any) api.DoctorCheck {
	return done(c, api.StatusFail, fix, format, a...)
}

func skip(c api.DoctorCheck, format string, a ...any) api.DoctorCheck {
	return done(c, api.StatusSkip, "", format, a...)
}
