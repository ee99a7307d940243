package emulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"embedlab/shared/wire"
)

// Admin paths: the fault switch and the logs.
const (
	pathFaults        = "/emulator/faults"
	pathClock         = "/emulator/clock"
	pathTokenLifetime = "/emulator/token-lifetime"
	pathRateLimit     = "/emulator/rate-limit"
	pathRotateKeys    = "/emulator/rotate-keys"
	pathRequestLog    = "/emulator/requests"
	pathAuditLog      = "/emulator/audit"
)

// Options configure an Emulator.
type Options struct {
	// State is the workspace to emulate; nil means the bundled demo.
	State *State
	// BaseURL is the emulator's public URL (the INSTANCE_URL clients use).
	// Empty means http://<listen address>.
	BaseURL string
	// Logger receives start-up and error lines; nil means slog.Default().
	Logger *slog.Logger
	// DashboardFile, when set, is the .lvdash.json of every dashboard whose
	// state names no file of its own.
	DashboardFile string
	// AppsAddr is where Start listens for the Apps proxy, the origin of the
	// Databricks Apps. Empty means the workspace's host with the next port
	// (127.0.0.1:8000 → 127.0.0.1:8001), or any free port when that one is
	// taken or the workspace's port is 0.
	AppsAddr string
	// AppsBaseURL is the Apps proxy's public URL, e.g. http://localhost:8001;
	// an app is served at its host prefixed with "<app-name>-<workspace-id>.".
	// Empty means http://localhost:<apps port>.
	AppsBaseURL string
	// IdPAddr is where Start listens for the emulated identity provider of
	// token federation, on its own origin (idp.go). Empty means the
	// workspace's host two ports up (127.0.0.1:8000 → 127.0.0.1:8002), or
	// any free port when that one is taken or the workspace's port is 0.
	IdPAddr string
	// PublicHost, for a classroom, is the host name or address other
	// machines reach this one by: the workspace's, the Apps proxy's and
	// the identity provider's URLs name it (with the ports Start listened
	// on), and each app gets its own port as well, so app URLs need no
	// DNS (room.go). Empty: URLs from the listen addresses, as before.
	PublicHost string
	// AdminKey is what the state-changing /emulator/* routes require
	// (adminkey.go); empty means a random one, read with AdminKey.
	AdminKey string
}

// Emulator is an emulated workspace. Create it with New, serve its Handler.
type Emulator struct {
	mu      sync.RWMutex // guards state, baseURL and appsURL
	state   *State
	baseURL string
	appsURL string

	log      *slog.Logger
	keys     *keyring
	clock    clock
	lifetime atomic.Int64  // seconds
	limiter  *rate.Limiter // tokeninfo calls
	// embedLimiter counts dashboard loads: the workspace allows 20 per second.
	embedLimiter *rate.Limiter
	renderers    map[string]renderer // by dashboard id
	closers      []func() error
	faults       faultQueue
	grants       grantStore
	requests     *ring[RequestEntry]
	audit        *ring[AuditEntry]
	handler      http.Handler
	appsHandler  http.Handler
	sampleDB     *sql.DB // the sample data, shared by dashboards and apps
	u2m          u2mStore
	idp          *idp           // the external identity provider (idp.go)
	fed          issuerKeys     // identity providers' keys (federation.go)
	lab          labSwitches    // the fault lab's switches (lab.go)
	statements   statementStore // the SQL Statement Execution API (statements.go)
	owners       sync.Map       // principal → workshop participant (participants.go)
	partMu       sync.Mutex     // guards participants; taken after mu, never before
	participants map[string]participantGrant
	down         downSwitch // the fault lab's "workspace down" (down.go)
	adminKey     string     // guards the state-changing admin routes (adminkey.go)

	srv     *http.Server
	appsSrv *http.Server
	appPort appPorts // a classroom's port-form app URLs (room.go)
}

// New builds an emulator; it does not listen yet.
func New(opts Options) (*Emulator, error) {
	st := opts.State
	if st == nil {
		st = DefaultState()
	} else if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("emulator state:\n%w", err)
	}
	adminKey := opts.AdminKey
	if adminKey == "" {
		k, err := newAdminKey()
		if err != nil {
			return nil, err
		}
		adminKey = k
	} else if err := checkAdminKey(adminKey); err != nil {
		return nil, err
	}
	keys, err := newKeyring()
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		state:        st,
		baseURL:      strings.TrimRight(opts.BaseURL, "/"),
		appsURL:      strings.TrimRight(opts.AppsBaseURL, "/"),
		log:          opts.Logger,
		keys:         keys,
		limiter:      rate.NewLimiter(limitOf(st.RateLimitPerSecond), burstOf(st.RateLimitPerSecond)),
		embedLimiter: rate.NewLimiter(limitOf(st.RateLimitPerSecond), burstOf(st.RateLimitPerSecond)),
		requests:     newRing[RequestEntry](20000), // a room of 30 participants' exercises
		audit:        newRing[AuditEntry](20000),
		participants: map[string]participantGrant{},
		adminKey:     adminKey,
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.audit.stamp = func(a *AuditEntry) { a.Owner = e.owner(a.Principal, a.ClientID) }
	e.lifetime.Store(int64(st.TokenLifetimeSeconds))
	if err := e.loadDashboards(opts.DashboardFile); err != nil {
		e.close()
		return nil, err
	}
	if e.idp, err = newIdP(e, ""); err != nil {
		e.close()
		return nil, err
	}
	e.handler = e.routes()
	e.appsHandler = e.appsRoutes()
	return e, nil
}

func limitOf(perSec float64) rate.Limit {
	if perSec <= 0 {
		return rate.Inf
	}
	return rate.Limit(perSec)
}

func burstOf(perSec float64) int {
	if perSec < 1 {
		return 1
	}
	return int(perSec)
}

// routes is the emulator's route table.
func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.handleIndex)
	mux.HandleFunc("GET "+wire.PathDatabricksConfig, e.handleDatabricksConfig)
	mux.HandleFunc("GET "+wire.PathOIDCDiscovery, e.handleDiscovery)
	mux.HandleFunc("GET "+wire.PathOpenIDDiscovery, e.handleDiscovery)
	mux.HandleFunc("GET "+wire.PathKeys, e.handleKeys)
	mux.HandleFunc("POST "+wire.PathToken, e.handleToken)
	mux.HandleFunc("GET "+wire.PathAuthorize, e.handleAuthorize)
	mux.HandleFunc("POST "+wire.PathAuthorize, e.handleAuthorizeForm)
	mux.HandleFunc("GET "+wire.TokenInfoPath("{id}"), e.handleTokenInfo)

	mux.HandleFunc("GET "+pathEmbedPage+"{id}", e.handleEmbedPage)
	mux.HandleFunc("GET "+pathEmbedPage+"{id}/pages/{page}", e.handleEmbedPage)
	mux.HandleFunc("GET "+pathEmbedStatic+"{file}", e.handleEmbedStatic)
	mux.HandleFunc("GET "+pathEmbedAPI+"{id}/render", e.handleEmbedRender)
	e.lakeviewRoutes(mux)  // Lakeview API, dataset query, secrets, expired-token probe (lakeview.go)
	e.statementRoutes(mux) // SQL statements and warehouses, statement latency switch (statements.go)

	mux.HandleFunc("GET "+pathFaults, e.handleGetFaults)
	// What changes the shared workspace needs the admin key (adminkey.go).
	mux.HandleFunc("POST "+pathFaults, e.requireAdmin(e.handleAddFault))
	mux.HandleFunc("DELETE "+pathFaults, e.requireAdmin(e.handleResetFaults))
	mux.HandleFunc("PUT "+pathClock, e.requireAdmin(e.handleSetClock))
	mux.HandleFunc("PUT "+pathTokenLifetime, e.requireAdmin(e.handleSetLifetime))
	mux.HandleFunc("PUT "+pathRateLimit, e.requireAdmin(e.handleSetRateLimit))
	mux.HandleFunc("POST "+pathRotateKeys, e.requireAdmin(e.handleRotateKeys))
	mux.HandleFunc("GET "+pathRequestLog, e.handleRequestLog)
	mux.HandleFunc("GET "+pathAuditLog, e.handleAuditLog)

	mux.HandleFunc("/", e.handleNotFound)
	return e.workspaceDate(e.recoverPanics(e.logRequests(mux)))
}

// Handler serves the emulated workspace.
func (e *Emulator) Handler() http.Handler { return e.handler }

// URL is the emulator's public URL, the INSTANCE_URL clients use.
func (e *Emulator) URL() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.baseURL
}

// SetURL sets the public URL, for a handler served by something else
// (httptest) whose address is known only after it starts.
func (e *Emulator) SetURL(u string) {
	e.mu.Lock()
	e.baseURL = strings.TrimRight(u, "/")
	e.mu.Unlock()
}

// WorkspaceID is the emulated workspace's id.
func (e *Emulator) WorkspaceID() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.state.WorkspaceID
}

// Start listens on addr (e.g. "127.0.0.1:8000", or ":0" for any port) and
// serves in the background until Shutdown.
func Start(opts Options, addr string) (*Emulator, error) {
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("emulator: listen on %s: %w (is another emulator running? set another address)", addr, err)
	}
	appsLn, err := listenBeside("Apps proxy", opts.AppsAddr, addr, ln.Addr().(*net.TCPAddr), 1)
	if err != nil {
		ln.Close()
		e.close()
		return nil, err
	}
	idpLn, err := listenBeside("identity provider", opts.IdPAddr, addr, ln.Addr().(*net.TCPAddr), 2)
	if err != nil {
		ln.Close()
		appsLn.Close()
		e.close()
		return nil, err
	}
	if opts.PublicHost != "" {
		if err := e.servePublic(opts.PublicHost, ln, appsLn, idpLn); err != nil {
			ln.Close()
			appsLn.Close()
			idpLn.Close()
			e.close()
			return nil, err
		}
	}
	if e.URL() == "" {
		e.SetURL("http://" + ln.Addr().String())
	}
	if e.IdPURL() == "" {
		e.SetIdPURL("http://" + idpLn.Addr().String())
	}
	if e.AppsURL() == "" {
		e.SetAppsURL(fmt.Sprintf("http://localhost:%d", appsLn.Addr().(*net.TCPAddr).Port))
	}
	e.srv = e.server(e.handler, ln, "emulator")
	e.down.addr = ln.Addr().String() // where SetDown(false) listens again
	e.appsSrv = e.server(e.appsHandler, appsLn, "emulator apps proxy")
	e.idp.srv = e.server(e.idp.handler, idpLn, "emulator identity provider")
	return e, nil
}

// server serves h on ln in the background.
func (e *Emulator) server(h http.Handler, ln net.Listener, name string) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      150 * time.Second, // above the longest injected delay
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error(name+" stopped", "err", err)
		}
	}()
	return srv
}

// Shutdown stops a started emulator, letting requests in flight finish.
func (e *Emulator) Shutdown(ctx context.Context) error {
	defer e.close()
	var errs []error
	for _, srv := range append([]*http.Server{e.srv, e.appsSrv, e.idp.srv}, e.appPort.servers()...) {
		if srv != nil {
			errs = append(errs, srv.Shutdown(ctx))
		}
	}
	return errors.Join(errs...)
}

func (e *Emulator) close() {
	for _, c := range e.closers {
		_ = c()
	}
	e.closers = nil
}

func (e *Emulator) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				e.log.Error("emulator handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(v))
				apiError(w, r, http.StatusInternalServerError, wire.ErrInternal, "the emulator failed on this request; see its log")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (e *Emulator) handleNotFound(w http.ResponseWriter, r *http.Request) {
	apiError(w, r, http.StatusNotFound, wire.ErrNotFound, fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
}

func (e *Emulator) handleIndex(w http.ResponseWriter, r *http.Request) {
	base := e.URL()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, `embedlab workspace emulator (workspace %s)

This server stands in for a Databricks workspace at %s.
  discovery   %s%s
  keys        %s%s
  authorize   GET  %s%s   (authorization code + PKCE S256, login and consent page)
  token       POST %s%s
  tokeninfo   GET  %s%s
  sql         POST %s%s   (SQL Statement Execution API; GET/cancel %s/{id}, warehouses %s)
  faults      GET|POST|DELETE %s%s   (and PUT %s, %s, %s; POST %s; changes need Authorization: Bearer <admin key>)
  logs        GET  %s%s, %s%s
  apps        %s   (Databricks Apps, e.g. %s/api/whoami)
`, e.WorkspaceID(), base,
		base, wire.PathOIDCDiscovery, base, wire.PathKeys, base, wire.PathAuthorize, base, wire.PathToken,
		base, wire.TokenInfoPath("{dashboard_id}")+"?external_viewer_id=...&external_value=...",
		base, wire.PathStatements, wire.PathStatements, wire.WarehousePath("{id}"),
		base, pathFaults, pathClock, pathTokenLifetime, pathRateLimit, pathRotateKeys,
		base, pathRequestLog, base, pathAuditLog, e.AppsURL(), e.AppURL("sales-api"))
}
