package doctor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// The isolation check on a real workspace: each dataset's SQL, read from
// the dashboard's definition (Lakeview API), runs once per viewer through
// the SQL Statement Execution API on the dashboard's warehouse, with the
// viewer's external_value bound as a named parameter where the dataset
// uses __aibi_external_value. The emulator answers the same APIs, so this
// path runs in tests exactly as it does on Databricks.

// paramExternalValue is the named parameter __aibi_external_value becomes:
// the workspace binds it, so a viewer's value is a value, never SQL text.
const paramExternalValue = "embedlab_external_value"

// statementsAtOnce is how many of one dataset's statements (one per
// viewer) run at the same time: enough to keep many viewers quick, few
// enough for a small warehouse.
const statementsAtOnce = 4

// via is how this run executes the datasets.
func (r *run) via() string {
	switch r.o.Via {
	case ViaStatements, ViaEmbedQuery:
		return r.o.Via
	}
	if r.cfg.Emulated {
		return ViaEmbedQuery
	}
	return ViaStatements
}

// runsAs says plainly whose permissions the statements use, and what that
// means next to the embedded dashboard.
func (r *run) runsAs() string {
	s := fmt.Sprintf("These queries run with the permissions of the caller, service principal %s (the token embedlab signs in with), "+
		"not with the dashboard publisher's. ", r.cfg.ClientID)
	switch {
	case r.published != nil && r.published.EmbedCredentials:
		s += "The embedded dashboard is published with the publisher's credentials, so there its queries run as the publisher: " +
			"a grant the publisher has and this principal lacks fails here but not on the page, and a row filter or column mask " +
			"that depends on current_user() or group membership sees this principal here and the publisher there. " +
			"What this check proves is the part that is the same in both: the filter on __aibi_external_value."
	case r.published != nil:
		s += "The embedded dashboard is published without embedded credentials, so there too its queries run as this service principal: " +
			"the same permissions, the same rows."
	default:
		s += "How the dashboard was published is not known (see the credentials check); with the publisher's credentials the page " +
			"runs its queries as the publisher instead."
	}
	return s
}

// isolationStatements fills rep with the statements' results.
func (r *run) isolationStatements(ctx context.Context, rep *api.IsolationReport, vs []viewers.Viewer, values, tokens []string) {
	rep.RunsAs = r.runsAs()
	rep.WarehouseID = r.warehouseID
	if r.warehouseID == "" {
		rep.Status, rep.Reason = api.StatusSkip, "skipped: the dashboard names no SQL warehouse (warehouse_id in GET "+
			wire.LakeviewDashboardPath(r.cfg.DashboardID)+"): choose one in the dashboard's editor and publish again"
		return
	}
	wh, whFail := r.warehouse(ctx)
	if whFail != "" {
		rep.Status, rep.Reason = api.StatusFail, whFail
		rep.Fix = "point the dashboard at a SQL warehouse that exists (the dashboard's editor → warehouse), and publish again"
		return
	}
	seen := map[string]bool{}
	addGrants := func(f *stmtFailure) {
		for _, g := range r.missingGrants(f, wh) {
			if k := g.Privilege + " " + g.Securable; !seen[k] {
				seen[k] = true
				rep.MissingGrants = append(rep.MissingGrants, g)
			}
		}
	}
	for _, ds := range r.def.Datasets {
		if ctx.Err() != nil {
			break
		}
		stmt, n := bindExternalValue(ds.SQL(), paramExternalValue)
		row := api.IsolationDataset{Name: ds.Name, DisplayName: ds.Label(), UsesExternalValue: n > 0}
		cells := make([]cell, len(vs))
		ids := make([]string, len(vs))
		switch {
		case hasMarker(ds.SQL(), paramExternalValue):
			for i := range cells {
				cells[i].err = "the dataset already has a :" + paramExternalValue + " parameter of its own: embedlab cannot bind the viewer's value beside it"
			}
		case n == 0:
			// The statement does not depend on the viewer: one run stands for all.
			c, id, f := r.datasetCell(ctx, ds, stmt, nil)
			if f != nil {
				addGrants(f)
			}
			for i := range cells {
				cells[i], ids[i] = c, id
			}
		default:
			// The viewers' statements run side by side, a few at a time,
			// so that many viewers do not make a long wait.
			fails := make([]*stmtFailure, len(vs))
			var wg sync.WaitGroup
			sem := make(chan struct{}, statementsAtOnce)
			for i := range vs {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					v := values[i]
					cells[i], ids[i], fails[i] = r.datasetCell(ctx, ds, stmt, []wire.StatementParameter{{Name: paramExternalValue, Value: &v, Type: wire.ParameterTypeString}})
				}()
			}
			wg.Wait()
			for _, f := range fails {
				if f != nil {
					addGrants(f)
				}
			}
		}
		row.Verdict, row.Status, row.Reason = judge(ds.Name, n > 0, vs, values, cells)
		for i, c := range cells {
			row.Cells = append(row.Cells, api.IsolationCell{Rows: c.rows, Truncated: c.truncated, Fingerprint: c.fingerprint(), Error: c.err, StatementID: ids[i]})
		}
		for i := range cells {
			row.Cells[i].Shared = shared(i, values, cells)
		}
		rep.Datasets = append(rep.Datasets, row)
	}
	if ctx.Err() == nil {
		rep.Probes = r.statementProbes(ctx, vs, tokens)
	}
	r.summarize(rep)
	rep.Cancelled = int(r.cancelled.Load())
	if ctx.Err() != nil {
		rep.Status = api.StatusFail
		rep.Reason = fmt.Sprintf("stopped before it finished (%v), %s cancelled on the warehouse: %s", ctx.Err(), plural(rep.Cancelled, "statement"), rep.Reason)
		rep.Fix = "run it again to the end: an interrupted check proves nothing"
		return
	}
	leaked := slices.ContainsFunc(rep.Probes, func(p api.IsolationProbe) bool { return p.Status == api.StatusFail })
	switch {
	case leaked:
		rep.Fix = "a viewer's scoped token must not run SQL: it is in the viewer's browser. Check the scopes tokeninfo grants (no sql, no all-apis)"
	case len(rep.MissingGrants) > 0:
		var how []string
		for _, g := range rep.MissingGrants {
			how = append(how, fmt.Sprintf("%s on %s for %s: ask %s (%s)", g.Privilege, g.Securable, g.Principal, g.GrantedBy, g.How))
		}
		rep.Fix = "the check could not read the data, so it proves nothing yet. Missing: " + strings.Join(how, "; ")
	}
}

// datasetCell runs one statement and reads its rows into a cell.
func (r *run) datasetCell(ctx context.Context, ds wire.SerializedDataset, stmt string, params []wire.StatementParameter) (cell, string, *stmtFailure) {
	sr, f, err := r.statement(ctx, r.spToken, wire.ExecuteStatementRequest{Statement: stmt, WarehouseID: r.warehouseID, Parameters: params,
		Catalog: ds.Catalog, Schema: ds.Schema})
	switch {
	case err != nil:
		return cell{err: err.Error()}, "", nil
	case f != nil:
		return cell{err: f.text()}, f.id, f
	}
	c := cell{set: map[string]bool{}}
	if sr.Manifest != nil {
		c.truncated = sr.Manifest.Truncated || sr.Manifest.TotalChunkCount > 1
	}
	if sr.Result != nil {
		c.truncated = c.truncated || sr.Result.NextChunkIndex > 0 || sr.Result.NextChunkInternalLink != ""
		for _, row := range sr.Result.DataArray {
			b, _ := json.Marshal(row)
			sum := sha256.Sum256(b)
			h := hex.EncodeToString(sum[:12])
			c.hashes = append(c.hashes, h)
			c.set[h] = true
		}
	}
	c.rows = len(c.hashes)
	slices.Sort(c.hashes)
	return c, sr.StatementID, nil
}

// warehouse reads the dashboard's warehouse; a non-empty string says why
// the check cannot go on. A refusal to read it is not fatal: the
// statements then say what is missing.
func (r *run) warehouse(ctx context.Context) (*wire.Warehouse, string) {
	a, err := r.get(ctx, wire.WarehousePath(url.PathEscape(r.warehouseID)), r.spToken)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the dashboard's SQL warehouse %s could not be read: %v", r.warehouseID, err)
	case a.status == http.StatusNotFound:
		return nil, fmt.Sprintf("the dashboard's SQL warehouse %s does not exist (%s)", r.warehouseID, said(a))
	case a.status != http.StatusOK:
		return nil, ""
	}
	var wh wire.Warehouse
	if json.Unmarshal(a.body, &wh) != nil {
		return nil, ""
	}
	return &wh, ""
}

// statementProbes checks that what must not run SQL cannot: no token, and
// a viewer's scoped token (it is in the viewer's browser, so if it could
// run statements, any viewer could read any table the principal can).
func (r *run) statementProbes(ctx context.Context, vs []viewers.Viewer, tokens []string) []api.IsolationProbe {
	viewerTok := ""
	for _, t := range tokens {
		if t != "" {
			viewerTok = t
			break
		}
	}
	stmt, _ := bindExternalValue(r.def.Datasets[0].SQL(), paramExternalValue)
	other := "embedlab-probe"
	q := wire.ExecuteStatementRequest{Statement: stmt, WarehouseID: r.warehouseID,
		Parameters: []wire.StatementParameter{{Name: paramExternalValue, Value: &other, Type: wire.ParameterTypeString}}}
	probe := func(id, title, token, why string) api.IsolationProbe {
		p := api.IsolationProbe{ID: id, Title: title}
		if why != "" {
			p.Status, p.Reason = api.StatusSkip, "skipped: "+why
			return p
		}
		sr, f, err := r.statement(ctx, token, q)
		switch {
		case err != nil:
			p.Status, p.Reason = api.StatusWarn, "could not be sent: "+err.Error()
		case f != nil && f.status != 0:
			p.HTTPStatus = f.status
			p.Status, p.Reason = api.StatusPass, "refused, nothing returned: "+f.text()
		case f != nil:
			p.HTTPStatus = http.StatusOK
			p.Status, p.Reason = api.StatusFail, "the workspace accepted the statement ("+f.text()+"): this token may run SQL"
		default:
			p.HTTPStatus = http.StatusOK
			n := 0
			if sr.Result != nil {
				n = len(sr.Result.DataArray)
			}
			p.Status, p.Reason = api.StatusFail, fmt.Sprintf("the statement ran and returned %s: this token may run SQL on the warehouse", plural(n, "row"))
		}
		return p
	}
	why := ""
	if viewerTok == "" {
		why = "no viewer's token to send"
	}
	return []api.IsolationProbe{
		probe("none", "No token at all, on the SQL Statement Execution API", "", ""),
		probe("viewer_sql", "A viewer's scoped token, on the SQL Statement Execution API", viewerTok, why),
	}
}
