package emulator_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

const warehouseID = "e0e0b1c2d3e4f5a6"

func str(s string) *string { return &s }

// execute sends POST /api/2.0/sql/statements.
func execute(t *testing.T, em *emulator.Emulator, bearer string, q wire.ExecuteStatementRequest) (response, wire.StatementResponse) {
	t.Helper()
	b, _ := json.Marshal(q)
	req, _ := http.NewRequest(http.MethodPost, em.URL()+wire.PathStatements, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	r := do(t, req)
	var sr wire.StatementResponse
	if r.status == http.StatusOK {
		r.json(t, &sr)
	}
	return r, sr
}

func poll(t *testing.T, em *emulator.Emulator, bearer, id string) wire.StatementResponse {
	t.Helper()
	r := get(t, em.URL()+wire.StatementPath(id), bearer)
	if r.status != http.StatusOK {
		t.Fatalf("poll: %d %s", r.status, r.body)
	}
	var sr wire.StatementResponse
	r.json(t, &sr)
	return sr
}

func TestStatementBindsParametersAndReturnsRows(t *testing.T) {
	em := start(t)
	tok := spToken(t, em)
	q := wire.ExecuteStatementRequest{Statement: "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM sales WHERE region = :region GROUP BY region",
		WarehouseID: warehouseID, Parameters: []wire.StatementParameter{{Name: "region", Value: str("EMEA")}},
		WaitTimeout: "10s", Disposition: wire.DispositionInline, Format: wire.FormatJSONArray}
	r, sr := execute(t, em, tok, q)
	if r.status != http.StatusOK || sr.Status == nil || sr.Status.State != wire.StatementSucceeded {
		t.Fatalf("execute: %d %s", r.status, r.body)
	}
	if sr.StatementID == "" || sr.Manifest == nil || sr.Manifest.Schema.ColumnCount != 3 || sr.Manifest.Schema.Columns[1].TypeName != "LONG" {
		t.Fatalf("manifest: %s", r.body)
	}
	if sr.Result == nil || len(sr.Result.DataArray) != 1 || *sr.Result.DataArray[0][0] != "EMEA" {
		t.Fatalf("result: %s", r.body)
	}
	// The same statement and the value of an injection: bound, it matches nothing.
	for _, evil := range []string{"EMEA' OR '1'='1", "x' OR 1=1 --", "EMEA'; DROP TABLE sales; --"} {
		q.Parameters[0].Value = str(evil)
		r, sr := execute(t, em, tok, q)
		if r.status != http.StatusOK || sr.Status.State != wire.StatementSucceeded || len(sr.Result.DataArray) != 0 {
			t.Errorf("value %q: %d %s", evil, r.status, r.body)
		}
	}
	// Row limit: the rows are cut and the manifest says so.
	r, sr = execute(t, em, tok, wire.ExecuteStatementRequest{Statement: "SELECT * FROM sales", WarehouseID: warehouseID, RowLimit: 7})
	if sr.Status.State != wire.StatementSucceeded || len(sr.Result.DataArray) != 7 || !sr.Manifest.Truncated || sr.Manifest.TotalRowCount != 7 {
		t.Errorf("row_limit 7: %s", r.body)
	}
	// Byte limit: cut, and said so.
	r, sr = execute(t, em, tok, wire.ExecuteStatementRequest{Statement: "SELECT region FROM sales", WarehouseID: warehouseID, ByteLimit: 40})
	if sr.Status.State != wire.StatementSucceeded || len(sr.Result.DataArray) != 10 || !sr.Manifest.Truncated || sr.Manifest.TotalByteCount != 40 {
		t.Errorf("byte_limit 40 (ten 4-byte regions): %s", r.body)
	}
	// A marker without its parameter fails as Databricks does.
	r, sr = execute(t, em, tok, wire.ExecuteStatementRequest{Statement: "SELECT * FROM sales WHERE region = :nope", WarehouseID: warehouseID})
	if sr.Status.State != wire.StatementFailed || !strings.Contains(sr.Status.Error.Message, "UNBOUND_SQL_PARAMETER") {
		t.Errorf("unbound marker: %s", r.body)
	}
	// The warehouse is read-only: the sample data cannot be changed.
	for _, stmt := range []string{"DELETE FROM sales", "WITH x AS (SELECT 1) DELETE FROM sales", "PRAGMA writable_schema = 1", "CREATE TABLE t (a)"} {
		r, sr := execute(t, em, tok, wire.ExecuteStatementRequest{Statement: stmt, WarehouseID: warehouseID})
		if sr.Status == nil || sr.Status.State != wire.StatementFailed {
			t.Errorf("%s: %d %s", stmt, r.status, r.body)
		}
	}
	r, sr = execute(t, em, tok, wire.ExecuteStatementRequest{Statement: "SELECT COUNT(*) FROM sales", WarehouseID: warehouseID})
	if sr.Status.State != wire.StatementSucceeded || *sr.Result.DataArray[0][0] == "0" {
		t.Errorf("the data after the refused writes: %s", r.body)
	}
}

func TestStatementRefusals(t *testing.T) {
	em := start(t)
	tok := spToken(t, em)
	ok := wire.ExecuteStatementRequest{Statement: "SELECT 1", WarehouseID: warehouseID}
	for _, tc := range []struct {
		name   string
		bearer string
		q      wire.ExecuteStatementRequest
		status int
		code   string
		says   string
	}{
		{"no token", "", ok, 401, wire.ErrUnauthenticated, "Bearer"},
		{"unknown warehouse", tok, wire.ExecuteStatementRequest{Statement: "SELECT 1", WarehouseID: "nope"}, 404, wire.ErrResourceDoesNotExist, "nope"},
		{"bad wait", tok, wire.ExecuteStatementRequest{Statement: "SELECT 1", WarehouseID: warehouseID, WaitTimeout: "3s"}, 400, wire.ErrInvalidParameterValue, "wait_timeout"},
		{"no warehouse", tok, wire.ExecuteStatementRequest{Statement: "SELECT 1"}, 400, wire.ErrInvalidParameterValue, "warehouse_id"},
		{"CSV inline", tok, wire.ExecuteStatementRequest{Statement: "SELECT 1", WarehouseID: warehouseID, Format: "CSV"}, 400, wire.ErrInvalidParameterValue, "EXTERNAL_LINKS"},
	} {
		r, _ := execute(t, em, tc.bearer, tc.q)
		var ae wire.APIError
		_ = json.Unmarshal(r.body, &ae)
		if r.status != tc.status || ae.ErrorCode != tc.code || !strings.Contains(ae.Message, tc.says) {
			t.Errorf("%s: %d %s, want %d %s saying %q", tc.name, r.status, r.body, tc.status, tc.code, tc.says)
		}
	}
	// A viewer's scoped token has no sql scope: the browser's token runs no SQL.
	r, _ := execute(t, em, scopedToken(t, em, "viewer-emea", "EMEA"), ok)
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "required scopes: sql") {
		t.Errorf("a viewer's token: %d %s", r.status, r.body)
	}
	// No CAN USE on the warehouse: 403 naming it; no SELECT: FAILED naming the table.
	if err := em.Update(func(s *emulator.State) { s.Warehouses[0].CanUse = []string{testkit.WorkspaceAda.Email} }); err != nil {
		t.Fatal(err)
	}
	r, _ = execute(t, em, tok, ok)
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "CAN USE") || !strings.Contains(string(r.body), warehouseID) {
		t.Errorf("no CAN USE: %d %s", r.status, r.body)
	}
	if err := em.Update(func(s *emulator.State) {
		s.Warehouses[0].CanUse = append(s.Warehouses[0].CanUse, testkit.EmbedderID)
		s.Tables[0].Select = []string{testkit.WorkspaceAda.Email}
	}); err != nil {
		t.Fatal(err)
	}
	r, resp := execute(t, em, tok, wire.ExecuteStatementRequest{Statement: "SELECT * FROM sales", WarehouseID: warehouseID})
	if resp.Status == nil || resp.Status.State != wire.StatementFailed || resp.Status.Error.ErrorCode != wire.StatementErrBadRequest ||
		!strings.Contains(resp.Status.Error.Message, "does not have SELECT on Table 'main.embedlab.sales'") {
		t.Errorf("no SELECT: %d %s", r.status, r.body)
	}
	// Another principal's statement cannot be read.
	r, resp = execute(t, em, tok, ok)
	ada := get(t, em.URL()+wire.StatementPath(resp.StatementID), "")
	if ada.status != http.StatusUnauthorized {
		t.Errorf("poll without a token: %d", ada.status)
	}
}

func TestStatementPollAndCancel(t *testing.T) {
	em := start(t)
	tok := spToken(t, em)
	if err := em.SetStatementLatency(600 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	q := wire.ExecuteStatementRequest{Statement: "SELECT COUNT(*) FROM sales", WarehouseID: warehouseID, WaitTimeout: "0s"}
	_, sr := execute(t, em, tok, q)
	if sr.Status.State != wire.StatementPending || sr.Result != nil {
		t.Fatalf("wait_timeout 0s: %+v", sr.Status)
	}
	var seen []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := poll(t, em, tok, sr.StatementID)
		if len(seen) == 0 || seen[len(seen)-1] != p.Status.State {
			seen = append(seen, p.Status.State)
		}
		if wire.StatementDone(p.Status.State) || time.Now().After(deadline) {
			if p.Status.State != wire.StatementSucceeded || p.Result == nil || len(p.Result.DataArray) != 1 {
				t.Fatalf("final: %+v", p)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Contains(seen, wire.StatementRunning) || seen[0] != wire.StatementPending {
		t.Errorf("states seen %v, want PENDING, RUNNING, SUCCEEDED", seen)
	}
	// Cancel a slow one.
	if err := em.SetStatementLatency(time.Minute); err != nil {
		t.Fatal(err)
	}
	_, sr = execute(t, em, tok, q)
	req, _ := http.NewRequest(http.MethodPost, em.URL()+wire.StatementCancelPath(sr.StatementID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if r := do(t, req); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	for time.Now().Before(deadline) && em.Statement(sr.StatementID) != wire.StatementCanceled {
		time.Sleep(20 * time.Millisecond)
	}
	if p := poll(t, em, tok, sr.StatementID); p.Status.State != wire.StatementCanceled {
		t.Errorf("after cancel: %+v", p.Status)
	}
	// wait_timeout with on_wait_timeout CANCEL: answered CANCELED.
	q.WaitTimeout, q.OnWaitTimeout = "5s", wire.OnWaitTimeoutCancel
	start := time.Now()
	_, sr = execute(t, em, tok, q)
	if sr.Status.State != wire.StatementCanceled || time.Since(start) < 5*time.Second {
		t.Errorf("on_wait_timeout CANCEL: %+v after %s", sr.Status, time.Since(start))
	}
	// The warehouse.
	r := get(t, em.URL()+wire.WarehousePath(warehouseID), tok)
	var wh wire.Warehouse
	r.json(t, &wh)
	if wh.ID != warehouseID || wh.State != wire.WarehouseStateRunning || wh.CreatorName != testkit.WorkspaceAda.Email {
		t.Errorf("warehouse: %s", r.body)
	}
}
