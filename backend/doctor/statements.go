package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"embedlab/backend/broker"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// A client of the SQL Statement Execution API, as the isolation check uses
// it on a real workspace (and on the emulator, which answers the same).

const (
	// statementRowLimit caps each dataset's rows (row_limit: the result says
	// truncated when there were more), statementByteLimit its bytes, so a
	// big dataset cannot run away with the warehouse or this process.
	statementRowLimit  = 5000
	statementByteLimit = 8 << 20
	// firstPoll and maxPoll space the polls of a running statement.
	firstPoll = 100 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// stmtFailure is why a statement gave no rows.
type stmtFailure struct {
	status  int    // the HTTP status of a refused call; 0 when the statement itself ended badly
	state   string // FAILED, CANCELED, CLOSED, or "" when refused
	code    string
	message string
	id      string
}

func (f *stmtFailure) text() string {
	switch {
	case f.status != 0:
		return fmt.Sprintf("%d %s %s", f.status, f.code, f.message)
	case f.code != "":
		return fmt.Sprintf("%s %s: %s", f.state, f.code, f.message)
	}
	return f.state + " " + f.message
}

// statement runs one statement with token and waits for it: sent with
// wait_timeout 0s, so its id is known at once and a stopped run can cancel
// it, then polled until it ends, ctx is done or the statement timeout
// passes (both cancel it).
func (r *run) statement(ctx context.Context, token string, q wire.ExecuteStatementRequest) (*wire.StatementResponse, *stmtFailure, error) {
	q.WaitTimeout, q.OnWaitTimeout = "0s", wire.OnWaitTimeoutContinue
	q.Disposition, q.Format = wire.DispositionInline, wire.FormatJSONArray
	q.RowLimit, q.ByteLimit = statementRowLimit, statementByteLimit
	var a answer
	var err error
	for attempt := 1; ; attempt++ {
		a, err = r.do(ctx, request{method: http.MethodPost, path: wire.PathStatements, bearer: token, json: q})
		if err != nil {
			return nil, nil, err
		}
		busy := a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable
		if !busy || attempt == 5 {
			break
		}
		if err := broker.Sleep(ctx, time.Duration(min(max(a.retryAfter, 1), 5))*time.Second); err != nil {
			return nil, nil, err
		}
	}
	if a.status != http.StatusOK {
		return nil, refusal(a), nil
	}
	var sr wire.StatementResponse
	if err := json.Unmarshal(a.body, &sr); err != nil || sr.StatementID == "" || sr.Status == nil {
		return nil, &stmtFailure{status: a.status, message: "the answer is not a statement (no statement_id or status)"}, nil
	}
	deadline := r.cfg.Now().Add(r.cfg.StatementTimeout)
	wait := firstPoll
	for !wire.StatementDone(sr.Status.State) {
		if r.cfg.Now().After(deadline) {
			r.cancelStatement(ctx, token, sr.StatementID)
			return nil, &stmtFailure{state: wire.StatementCanceled, id: sr.StatementID,
				message: fmt.Sprintf("still %s after %s, so embedlab cancelled it (a dataset this slow needs a LIMIT, or a larger warehouse)", sr.Status.State, r.cfg.StatementTimeout)}, nil
		}
		if err := broker.Sleep(ctx, wait); err != nil {
			r.cancelStatement(ctx, token, sr.StatementID)
			return nil, nil, fmt.Errorf("stopped while statement %s was %s; it was cancelled: %w", sr.StatementID, sr.Status.State, err)
		}
		wait = min(wait*2, maxPoll)
		a, err := r.get(ctx, wire.StatementPath(url.PathEscape(sr.StatementID)), token)
		if err != nil {
			r.cancelStatement(ctx, token, sr.StatementID)
			return nil, nil, err
		}
		if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
			wait = max(wait, time.Duration(min(max(a.retryAfter, 1), 5))*time.Second)
			continue // busy: poll again later, until the statement timeout
		}
		if a.status != http.StatusOK {
			// The statement may still run: it must not be left behind.
			r.cancelStatement(ctx, token, sr.StatementID)
			f := refusal(a)
			f.id = sr.StatementID
			return nil, f, nil
		}
		var next wire.StatementResponse
		if err := json.Unmarshal(a.body, &next); err != nil || next.Status == nil {
			return nil, &stmtFailure{status: a.status, id: sr.StatementID, message: "the poll's answer is not a statement"}, nil
		}
		next.StatementID = sr.StatementID
		sr = next
	}
	if sr.Status.State != wire.StatementSucceeded {
		f := &stmtFailure{state: sr.Status.State, id: sr.StatementID}
		if e := sr.Status.Error; e != nil {
			f.code, f.message = e.ErrorCode, e.Message
		}
		return nil, f, nil
	}
	return &sr, nil, nil
}

// cancelStatement asks the workspace to cancel a statement, even when ctx
// is done (that is when it matters), and counts it.
func (r *run) cancelStatement(ctx context.Context, token, id string) {
	r.cancelled.Add(1)
	_, _ = r.do(context.WithoutCancel(ctx), request{method: http.MethodPost, path: wire.StatementCancelPath(url.PathEscape(id)), bearer: token})
}

func refusal(a answer) *stmtFailure {
	var ae wire.APIError
	_ = json.Unmarshal(a.body, &ae)
	f := &stmtFailure{status: a.status, code: ae.ErrorCode, message: ae.Message}
	if f.code == "" && f.message == "" {
		f.message = said(a)
	}
	return f
}

// lacksPrivilege finds "does not have SELECT on Table 'main.s.t'" (and USE
// CATALOG, USE SCHEMA…) in a Unity Catalog error.
var lacksPrivilege = regexp.MustCompile(`does not have ([A-Z][A-Z_ ]*[A-Z]) (?:privilege )?on ([A-Za-z]+) '([^']+)'`)

// missingGrants reads the grants a failure says the caller lacks: CAN USE
// on the warehouse when the workspace refused the statement with 403,
// and Unity Catalog privileges named in a FAILED statement's error.
func (r *run) missingGrants(f *stmtFailure, wh *wire.Warehouse) []api.MissingGrant {
	principal := r.cfg.ClientID
	switch {
	case f.status == http.StatusForbidden && strings.Contains(f.message, "required scopes"):
		return nil // the token, not a grant
	case f.status == http.StatusForbidden:
		name, owner := r.warehouseID, "its owner"
		if wh != nil {
			name = fmt.Sprintf("%s (%s)", wh.Name, wh.ID)
			if wh.CreatorName != "" {
				owner = "its owner " + wh.CreatorName
			}
		}
		return []api.MissingGrant{{Privilege: "CAN USE", Securable: "SQL warehouse " + name, Principal: principal,
			GrantedBy: owner + ", or a workspace admin (anyone with CAN MANAGE on the warehouse)",
			How:       fmt.Sprintf("SQL Warehouses → %s → Permissions → add %s with Can use", name, principal)}}
	}
	var out []api.MissingGrant
	for _, m := range lacksPrivilege.FindAllStringSubmatch(f.message, -1) {
		priv, kind, obj := m[1], strings.ToLower(m[2]), m[3]
		g := api.MissingGrant{Privilege: priv, Securable: kind + " " + obj, Principal: principal}
		switch kind {
		case "table", "view":
			g.GrantedBy = "the " + kind + "'s owner, or a metastore admin (Catalog Explorer shows the owner); the schema's or catalog's owner may grant too"
			g.How = fmt.Sprintf("GRANT %s ON TABLE %s TO `%s` (it also needs USE CATALOG and USE SCHEMA on the catalog and schema)", priv, obj, principal)
		case "schema":
			g.GrantedBy = "the schema's owner, its catalog's owner, or a metastore admin"
			g.How = fmt.Sprintf("GRANT %s ON SCHEMA %s TO `%s`", priv, obj, principal)
		case "catalog":
			g.GrantedBy = "the catalog's owner, or a metastore admin"
			g.How = fmt.Sprintf("GRANT %s ON CATALOG %s TO `%s`", priv, obj, principal)
		default:
			g.GrantedBy = "its owner, or a metastore admin"
			g.How = fmt.Sprintf("GRANT %s ON %s %s TO `%s`", priv, strings.ToUpper(kind), obj, principal)
		}
		out = append(out, g)
	}
	return out
}
