package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"embedlab/backend/emulator/dashboard"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// The SQL Statement Execution API and GET warehouse, on the sample data,
// as a workspace answers them: a statement runs in the background as the
// token's principal (PENDING while the warehouse "starts", RUNNING, then
// SUCCEEDED, FAILED or CANCELED), the caller waits up to wait_timeout and
// polls after that, and may cancel. Unity Catalog's grants are the state's
// warehouses[].can_use (CAN USE, checked when the statement is sent: 403
// PERMISSION_DENIED) and tables[].select (SELECT, checked as the statement
// runs: it FAILS with [INSUFFICIENT_PERMISSIONS], as a real one does).
// Parameters are bound, never pasted into the SQL. The warehouse is
// read-only: the embed page's data cannot be changed through it.

const (
	pathStatementLatency = "/emulator/statement-latency"

	// statementTimeout stops a statement that runs longer, as a warehouse's
	// STATEMENT_TIMEOUT does (real default: 2 days).
	statementTimeout = 2 * time.Minute
	// resultTTL is how long a result stays available; then CLOSED.
	resultTTL = time.Hour
	// maxStatements bounds the statements kept; finished ones go first.
	maxStatements = 1000
	// maxInlineBytes is the INLINE disposition's limit: 25 MiB.
	maxInlineBytes = 25 << 20
	// maxLatency bounds the statement-latency switch.
	maxLatency = 5 * time.Minute
)

func (e *Emulator) statementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+wire.PathStatements, e.handleExecuteStatement)
	mux.HandleFunc("GET "+wire.StatementPath("{id}"), e.handleGetStatement)
	mux.HandleFunc("POST "+wire.StatementCancelPath("{id}"), e.handleCancelStatement)
	mux.HandleFunc("GET "+wire.WarehousePath("{id}"), e.handleGetWarehouse)
	mux.HandleFunc("PUT "+pathStatementLatency, e.requireAdmin(e.handleSetStatementLatency)) // shared: admin key
	mux.HandleFunc("GET "+pathStatementLatency, e.handleGetStatementLatency)
}

// statement is one statement and its state.
type statement struct {
	id        string
	principal string // the token's subject: only it may read or cancel
	mu        sync.Mutex
	state     string
	err       *wire.ServiceError
	result    *dashboard.StatementResult
	finished  time.Time
	cancel    context.CancelFunc
	canceled  bool // a cancel was asked for
	done      chan struct{}
}

type statementStore struct {
	mu      sync.Mutex
	m       map[string]*statement
	order   []string
	latency time.Duration // every statement runs at least this long (tests, workshops)
}

func (s *statementStore) add(st *statement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*statement{}
	}
	s.m[st.id] = st
	s.order = append(s.order, st.id)
	for len(s.order) > maxStatements {
		i := slices.IndexFunc(s.order, func(id string) bool { return s.m[id].isDone() })
		if i < 0 {
			i = 0 // all running: the oldest goes
		}
		delete(s.m, s.order[i])
		s.order = slices.Delete(s.order, i, i+1)
	}
}

func (s *statementStore) get(id string) (*statement, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[id]
	return st, ok
}

func (s *statementStore) setLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

func (s *statementStore) getLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

func (st *statement) isDone() bool {
	select {
	case <-st.done:
		return true
	default:
		return false
	}
}

func (st *statement) set(state string) {
	st.mu.Lock()
	if !wire.StatementDone(st.state) {
		st.state = state
	}
	st.mu.Unlock()
}

func (st *statement) finish(state string, res *dashboard.StatementResult, err *wire.ServiceError) {
	st.mu.Lock()
	st.state, st.result, st.err, st.finished = state, res, err, time.Now()
	st.mu.Unlock()
	close(st.done)
}

// response is the statement as GET answers it.
func (st *statement) response() wire.StatementResponse {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := wire.StatementResponse{StatementID: st.id, Status: &wire.StatementStatus{State: st.state, Error: st.err}}
	if st.state == wire.StatementSucceeded && time.Since(st.finished) > resultTTL {
		st.state, st.result = wire.StatementClosed, nil
		out.Status.State = st.state
	}
	if st.state != wire.StatementSucceeded || st.result == nil {
		return out
	}
	r := st.result
	cols := make([]wire.ColumnInfo, len(r.Columns))
	for i, c := range r.Columns {
		cols[i] = wire.ColumnInfo{Name: c.Name, Position: i, TypeName: c.TypeName, TypeText: c.TypeName}
	}
	out.Manifest = &wire.ResultManifest{Format: wire.FormatJSONArray, Schema: &wire.ResultSchema{ColumnCount: len(cols), Columns: cols},
		TotalChunkCount: 1, TotalRowCount: int64(len(r.Rows)), TotalByteCount: r.Bytes, Truncated: r.Truncated}
	out.Result = &wire.ResultData{RowCount: int64(len(r.Rows)), ByteCount: r.Bytes, DataArray: r.Rows}
	return out
}

// sqlCaller verifies the bearer token of a SQL API call: it must carry
// all-apis or sql. It returns the claims and the names grants use.
func (e *Emulator) sqlCaller(w http.ResponseWriter, r *http.Request) (*claims.Claims, []string, bool) {
	c, ok := e.bearer(w, r)
	if !ok {
		return nil, nil, false
	}
	if !c.HasScope(wire.ScopeAllAPIs) && !c.HasScope(wire.ScopeSQL) {
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied, "Provided OAuth token does not have required scopes: "+wire.ScopeSQL)
		return nil, nil, false
	}
	names := e.callerOf(c, "").names
	if len(names) == 0 {
		names = []string{c.Subject}
	}
	return c, names, true
}

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// parseWait reads wait_timeout: "" (10s), "0s", or "5s" to "50s".
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 10 * time.Second, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "s"))
	if err != nil || !strings.HasSuffix(s, "s") || (n != 0 && (n < 5 || n > 50)) {
		return 0, fmt.Errorf("wait_timeout %q: must be 0s, or between 5s and 50s", s)
	}
	return time.Duration(n) * time.Second, nil
}

// validateStatement checks a request the way the API does, before it runs.
func validateStatement(q *wire.ExecuteStatementRequest) (time.Duration, error) {
	wait, err := parseWait(q.WaitTimeout)
	switch {
	case err != nil:
		return 0, err
	case strings.TrimSpace(q.Statement) == "":
		return 0, errors.New("statement: must not be empty")
	case q.WarehouseID == "":
		return 0, errors.New("warehouse_id: must be set to the id of the SQL warehouse to run on")
	case q.OnWaitTimeout != "" && q.OnWaitTimeout != wire.OnWaitTimeoutContinue && q.OnWaitTimeout != wire.OnWaitTimeoutCancel:
		return 0, fmt.Errorf("on_wait_timeout %q: must be CONTINUE or CANCEL", q.OnWaitTimeout)
	case q.Disposition != "" && q.Disposition != wire.DispositionInline:
		return 0, fmt.Errorf("disposition %q: the emulator returns INLINE results only", q.Disposition)
	case q.Format != "" && q.Format != wire.FormatJSONArray:
		return 0, fmt.Errorf("format %q: ARROW_STREAM and CSV need the EXTERNAL_LINKS disposition; INLINE results are JSON_ARRAY", q.Format)
	case q.RowLimit < 0 || q.ByteLimit < 0:
		return 0, errors.New("row_limit and byte_limit: must not be negative")
	}
	seen := map[string]bool{}
	for i, p := range q.Parameters {
		switch {
		case !paramName.MatchString(p.Name):
			return 0, fmt.Errorf("parameters[%d].name %q: must be a parameter name such as region (letters, digits, _)", i, p.Name)
		case seen[p.Name]:
			return 0, fmt.Errorf("parameters[%d].name %q: given twice", i, p.Name)
		case p.Type != "" && !strings.EqualFold(p.Type, wire.ParameterTypeString):
			return 0, fmt.Errorf("parameters[%d].type %q: the emulator binds STRING parameters only", i, p.Type)
		}
		seen[p.Name] = true
	}
	return wait, nil
}

// handleExecuteStatement is POST /api/2.0/sql/statements.
func (e *Emulator) handleExecuteStatement(w http.ResponseWriter, r *http.Request) {
	c, names, ok := e.sqlCaller(w, r)
	if !ok {
		return
	}
	var q wire.ExecuteStatementRequest
	if !readJSON(w, r, &q) {
		return
	}
	wait, err := validateStatement(&q)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	e.mu.RLock()
	wh, found := e.state.warehouse(q.WarehouseID)
	e.mu.RUnlock()
	switch {
	case !found:
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("SQL warehouse %s does not exist.", q.WarehouseID))
		return
	case !wh.canUse(names...):
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied,
			fmt.Sprintf("%s does not have CAN USE permission on SQL warehouse %s (%s).", names[0], wh.Name, wh.ID))
		return
	}
	params := map[string]*string{}
	for _, p := range q.Parameters {
		params[p.Name] = p.Value
	}
	limit := int(min(q.RowLimit, 1<<30))
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	st := &statement{id: statementID(), principal: c.Subject, state: wire.StatementPending, cancel: cancel, done: make(chan struct{})}
	e.statements.add(st)
	go e.runStatement(ctx, st, dashboard.Statement{SQL: q.Statement, Params: params, RowLimit: limit, ByteLimit: q.ByteLimit, MaxBytes: maxInlineBytes,
		CanRead: func(table string) bool {
			e.mu.RLock()
			defer e.mu.RUnlock()
			return e.state.canSelect(table, names...)
		}}, names[0])
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-st.done:
		case <-timer.C:
			if q.OnWaitTimeout == wire.OnWaitTimeoutCancel {
				st.requestCancel()
				<-st.done
			}
		case <-r.Context().Done():
			return // the caller went away; the statement runs on, as on a warehouse
		}
	}
	writeJSON(w, http.StatusOK, st.response())
}

// runStatement waits out the latency switch (half PENDING, half RUNNING),
// then runs the SQL, and records how it ended.
func (e *Emulator) runStatement(ctx context.Context, st *statement, q dashboard.Statement, principal string) {
	defer st.cancel()
	half := e.statements.getLatency() / 2
	sleep := func(d time.Duration) bool {
		if d <= 0 {
			return ctx.Err() == nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ended := func() {
		st.mu.Lock()
		canceled := st.canceled
		st.mu.Unlock()
		if canceled {
			st.finish(wire.StatementCanceled, nil, nil)
			return
		}
		st.finish(wire.StatementFailed, nil, &wire.ServiceError{ErrorCode: wire.StatementErrDeadline,
			Message: fmt.Sprintf("The statement ran longer than this warehouse's STATEMENT_TIMEOUT of %s and was stopped.", statementTimeout)})
	}
	if !sleep(half) {
		ended()
		return
	}
	st.set(wire.StatementRunning)
	if !sleep(half) {
		ended()
		return
	}
	res, err := dashboard.RunStatement(ctx, e.sampleDB, q)
	if ctx.Err() != nil {
		ended()
		return
	}
	if err != nil {
		st.finish(wire.StatementFailed, nil, sqlError(err, principal, e))
		return
	}
	st.finish(wire.StatementSucceeded, res, nil)
}

// sqlError words a failed statement as a warehouse does: the SQL error
// class in brackets, then the message and the SQLSTATE.
func sqlError(err error, principal string, e *Emulator) *wire.ServiceError {
	var denied *dashboard.DeniedError
	var unbound *dashboard.UnboundError
	switch {
	case errors.As(err, &denied) && len(denied.Tables) > 0:
		var lines []string
		e.mu.RLock()
		for _, t := range denied.Tables {
			full := t
			if tt, ok := e.state.table(t); ok {
				full = tt.fullName()
			}
			lines = append(lines, fmt.Sprintf("User %s does not have SELECT on Table '%s'.", principal, full))
		}
		e.mu.RUnlock()
		return &wire.ServiceError{ErrorCode: wire.StatementErrBadRequest,
			Message: "[INSUFFICIENT_PERMISSIONS] Insufficient privileges:\n" + strings.Join(lines, "\n") + " SQLSTATE: 42501"}
	case errors.As(err, &denied):
		return &wire.ServiceError{ErrorCode: wire.StatementErrBadRequest,
			Message: fmt.Sprintf("[NOT_SUPPORTED_IN_EMULATOR] The emulator's warehouse is read-only: %s is refused; only queries run here. SQLSTATE: 0A000", denied.Write)}
	case errors.As(err, &unbound):
		return &wire.ServiceError{ErrorCode: wire.StatementErrBadRequest,
			Message: fmt.Sprintf("[UNBOUND_SQL_PARAMETER] Found the unbound parameter: %s. Please, fix `args` and provide a mapping of the parameter to a SQL literal. SQLSTATE: 42P02", unbound.Name)}
	case errors.Is(err, dashboard.ErrTooLarge):
		return &wire.ServiceError{ErrorCode: wire.StatementErrBadRequest,
			Message: "The result is larger than the 25 MiB an INLINE result may hold: set row_limit or byte_limit, or use EXTERNAL_LINKS."}
	}
	return &wire.ServiceError{ErrorCode: wire.StatementErrBadRequest, Message: "[SQL_ERROR] " + err.Error()}
}

func (st *statement) requestCancel() {
	st.mu.Lock()
	if !wire.StatementDone(st.state) {
		st.canceled = true
	}
	st.mu.Unlock()
	st.cancel()
}

// ownStatement finds a statement of the caller's, answering 404 itself for
// an unknown one or another principal's (their ids are not to be probed).
func (e *Emulator) ownStatement(w http.ResponseWriter, r *http.Request) (*statement, bool) {
	c, _, ok := e.sqlCaller(w, r)
	if !ok {
		return nil, false
	}
	id := r.PathValue("id")
	st, found := e.statements.get(id)
	if !found || st.principal != c.Subject {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("Statement %s does not exist.", id))
		return nil, false
	}
	return st, true
}

// handleGetStatement is GET /api/2.0/sql/statements/{id}: the poll.
func (e *Emulator) handleGetStatement(w http.ResponseWriter, r *http.Request) {
	if st, ok := e.ownStatement(w, r); ok {
		writeJSON(w, http.StatusOK, st.response())
	}
}

// handleCancelStatement is POST /api/2.0/sql/statements/{id}/cancel: an
// empty answer; the statement shows CANCELED on the next poll.
func (e *Emulator) handleCancelStatement(w http.ResponseWriter, r *http.Request) {
	if st, ok := e.ownStatement(w, r); ok {
		st.requestCancel()
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

// handleGetWarehouse is GET /api/2.0/sql/warehouses/{id}.
func (e *Emulator) handleGetWarehouse(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := e.sqlCaller(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	e.mu.RLock()
	wh, found := e.state.warehouse(id)
	e.mu.RUnlock()
	if !found {
		apiError(w, r, http.StatusNotFound, wire.ErrResourceDoesNotExist, fmt.Sprintf("SQL warehouse %s does not exist.", id))
		return
	}
	writeJSON(w, http.StatusOK, wire.Warehouse{ID: wh.ID, Name: wh.Name, State: wire.WarehouseStateRunning, ClusterSize: "2X-Small",
		CreatorName: wh.CreatorName, WarehouseType: "PRO", EnableServerlessCompute: true})
}

// SetStatementLatency makes every statement sent from now on take at least
// d: half of it PENDING, half RUNNING. Tests and workshops use it to watch
// polling and cancelling.
func (e *Emulator) SetStatementLatency(d time.Duration) error {
	if d < 0 || d > maxLatency {
		return fmt.Errorf("latency %s: must be between 0 and %s", d, maxLatency)
	}
	e.statements.setLatency(d)
	return nil
}

// Statement reports a statement's state, for tests: "" when unknown.
func (e *Emulator) Statement(id string) string {
	st, ok := e.statements.get(id)
	if !ok {
		return ""
	}
	return st.response().Status.State
}

type latencyBody struct {
	MS int64 `json:"ms"`
}

func (e *Emulator) handleSetStatementLatency(w http.ResponseWriter, r *http.Request) {
	var body latencyBody
	if !readJSON(w, r, &body) {
		return
	}
	if err := e.SetStatementLatency(time.Duration(body.MS) * time.Millisecond); err != nil {
		apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, err.Error())
		return
	}
	e.handleGetStatementLatency(w, r)
}

func (e *Emulator) handleGetStatementLatency(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, latencyBody{MS: e.statements.getLatency().Milliseconds()})
}

// statementID is shaped like a workspace's: a UUID-like hex string.
func statementID() string {
	h := randomID()
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
