package doctor

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// pathExpiredToken is the emulator's fault switch that re-signs a valid
// token as expired; real workspaces have no such thing.
const pathExpiredToken = "/emulator/expired-token"

// cell is what one viewer got from one dataset.
type cell struct {
	rows      int
	truncated bool
	hashes    []string // one per row, sorted
	set       map[string]bool
	err       string
}

func (c cell) fingerprint() string {
	if c.err != "" || c.rows == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join(c.hashes, ",")))
	return hex.EncodeToString(sum[:4])
}

// isolation runs every dataset as each viewer and compares the rows.
func (r *run) isolation(ctx context.Context) *api.IsolationReport {
	rep := &api.IsolationReport{Viewers: []api.IsolationViewer{}, Datasets: []api.IsolationDataset{}, Probes: []api.IsolationProbe{}}
	skipped := func(format string, a ...any) *api.IsolationReport {
		rep.Status, rep.Reason = api.StatusSkip, fmt.Sprintf(format, a...)
		return rep
	}
	vs := r.o.Viewers
	if vs == nil && r.cfg.Viewers != nil {
		vs = r.cfg.Viewers.Viewers()
	}
	via := r.via()
	rep.Method = map[string]string{ViaStatements: api.MethodStatements, ViaEmbedQuery: api.MethodEmbedQuery}[via]
	switch {
	case len(vs) < 2:
		return skipped("skipped: it needs two or more viewers to compare, and this run may act as %d", len(vs))
	case via == ViaEmbedQuery && r.scoped == nil:
		return skipped("skipped: it needs scoped tokens (see the token checks)")
	case via == ViaStatements && r.spToken == "":
		return skipped("skipped: running the datasets' SQL needs the service principal's token (see the secret check)")
	case r.def == nil || len(r.def.Datasets) == 0:
		return skipped("skipped: it needs the dashboard's datasets (see the datasets check)")
	}
	tokens := make([]string, len(vs))
	values := make([]string, len(vs))
	for i, v := range vs {
		rep.Viewers = append(rep.Viewers, api.IsolationViewer{ID: v.ID, DisplayName: v.DisplayName})
		values[i] = v.ExternalValue
		res, err := r.exchange(ctx, v.ID, v.ExternalValue)
		if err != nil {
			rep.Viewers[i].Error = "no token: " + err.Error()
			continue
		}
		tokens[i] = res.Token
	}
	if via == ViaStatements {
		r.isolationStatements(ctx, rep, vs, values, tokens)
		return rep
	}
	for di, ds := range r.def.Datasets {
		uses, _ := scanExternalValue(ds.SQL())
		row := api.IsolationDataset{Name: ds.Name, DisplayName: ds.Label(), UsesExternalValue: uses > 0}
		cells := make([]cell, len(vs))
		for i := range vs {
			if tokens[i] == "" {
				cells[i].err = "no token"
				continue
			}
			a, err := r.query(ctx, tokens[i], r.cfg.DashboardID, ds.Name)
			if di == 0 && err == nil && noQueryAPI(a) {
				return skipped("skipped: this workspace has no dataset query API embedlab can call (real workspaces do not publish the one their embed page uses): " +
					"run the isolation check through the SQL Statement Execution API instead (-via sql, the default on a real workspace)")
			}
			cells[i] = readCell(a, err)
		}
		row.Verdict, row.Status, row.Reason = judge(ds.Name, uses > 0, vs, values, cells)
		for _, c := range cells {
			row.Cells = append(row.Cells, api.IsolationCell{Rows: c.rows, Truncated: c.truncated, Fingerprint: c.fingerprint(), Error: c.err})
		}
		for i := range cells {
			row.Cells[i].Shared = shared(i, values, cells)
		}
		rep.Datasets = append(rep.Datasets, row)
	}
	rep.Probes = r.probes(ctx, vs, tokens, r.def.Datasets[0].Name)
	r.summarize(rep)
	return rep
}

// query runs one dataset with a token, waiting as Retry-After says when
// the workspace's load limit answers 429.
func (r *run) query(ctx context.Context, token, dashboardID, dataset string) (answer, error) {
	path := wire.EmbedDatasetPath(url.PathEscape(dashboardID), url.PathEscape(dataset))
	for attempt := 1; ; attempt++ {
		a, err := r.get(ctx, path, token)
		if err != nil || a.status != http.StatusTooManyRequests || attempt == 8 {
			return a, err
		}
		select {
		case <-time.After(time.Duration(min(max(a.retryAfter, 1), 5)) * time.Second):
		case <-ctx.Done():
			return a, ctx.Err()
		}
	}
}

func readCell(a answer, err error) cell {
	if err != nil {
		return cell{err: err.Error()}
	}
	if a.status != http.StatusOK {
		return cell{err: said(a)}
	}
	var res wire.DatasetResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		return cell{err: "the answer is not a dataset result: " + err.Error()}
	}
	c := cell{rows: len(res.Rows), truncated: res.Truncated, set: map[string]bool{}}
	for _, row := range res.Rows {
		b, _ := json.Marshal(row) // decoded from JSON: it encodes again
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:12])
		c.hashes = append(c.hashes, h)
		c.set[h] = true
	}
	slices.Sort(c.hashes)
	return c
}

// shared counts viewer i's rows that a viewer with another value got too.
func shared(i int, values []string, cells []cell) int {
	n := 0
	for h := range cells[i].set {
		for j := range cells {
			if j != i && values[j] != values[i] && cells[j].set[h] {
				n++
				break
			}
		}
	}
	return n
}

// judge gives one dataset its verdict: the first of error, identical,
// overlap, empty and isolated that applies.
func judge(name string, uses bool, vs []viewers.Viewer, values []string, cells []cell) (verdict, status, reason string) {
	for i, c := range cells {
		if c.err != "" {
			return api.VerdictError, api.StatusFail, fmt.Sprintf("%s: the query failed for %s: %s", name, vs[i].ID, c.err)
		}
	}
	distinct := map[string]bool{}
	for _, v := range values {
		distinct[v] = true
	}
	if len(distinct) < 2 {
		return api.VerdictSkipped, api.StatusSkip, "every compared viewer has the same external_value: nothing to compare"
	}
	var pairs []string
	all := true
	for i := range cells {
		for j := i + 1; j < len(cells); j++ {
			if values[i] == values[j] {
				continue
			}
			same := cells[i].rows > 0 && cells[i].fingerprint() == cells[j].fingerprint()
			if same {
				pairs = append(pairs, vs[i].ID+" and "+vs[j].ID)
			} else {
				all = false
			}
		}
	}
	if len(pairs) > 0 {
		who := "viewers " + strings.Join(pairs, ", ") + " get the same rows though their external_values differ"
		if all {
			who = fmt.Sprintf("every viewer gets the same %s", plural(cells[0].rows, "row"))
		}
		why := "unfiltered: it never uses __aibi_external_value, a leak if its rows are per customer"
		if uses {
			why = "its filter has no effect: a condition that is always true (… OR 1=1), or one that does not compare with the viewer's value"
		}
		return api.VerdictIdentical, api.StatusFail, fmt.Sprintf("%s: %s; %s", name, who, why)
	}
	total := 0
	for i := range cells {
		total += shared(i, values, cells)
	}
	if total > 0 {
		return api.VerdictOverlap, api.StatusWarn, fmt.Sprintf("%s: some rows reach viewers with different external_values "+
			"(a condition such as OR region = 'EMEA' leaks them; rows that truly belong to several viewers are fine)", name)
	}
	var empty []string
	for i, c := range cells {
		if c.rows == 0 {
			empty = append(empty, vs[i].ID)
		}
	}
	switch {
	case len(empty) == len(cells):
		return api.VerdictEmpty, api.StatusWarn, name + ": no viewer gets any row: the filter matches nothing (compare the viewers' external_values with the data: case, spaces)"
	case len(empty) > 0:
		return api.VerdictEmpty, api.StatusWarn, fmt.Sprintf("%s: %s get%s no rows: the external_value matches nothing in this dataset (a typo, or case: 'emea' is not 'EMEA')",
			name, strings.Join(empty, ", "), map[bool]string{true: "s", false: ""}[len(empty) == 1])
	}
	return api.VerdictIsolated, api.StatusPass, name + ": each viewer gets rows of its own"
}

// probes sends tokens that must get nothing at all.
func (r *run) probes(ctx context.Context, vs []viewers.Viewer, tokens []string, dataset string) []api.IsolationProbe {
	var a, b string
	for i, t := range tokens {
		switch {
		case t == "":
		case a == "":
			a = t
		case b == "" && vs[i].ExternalValue != vs[0].ExternalValue:
			b = t
		}
	}
	type probe struct {
		id, title string
		token     func() (string, string) // the token, or why the probe cannot run
		dashboard string
	}
	list := []probe{
		{"none", "No token at all", func() (string, string) { return "", "" }, ""},
		{"service_principal", "The service principal's own all-apis token (no viewer)", func() (string, string) { return r.spToken, "" }, ""},
		{"expired", "A viewer's token, expired", func() (string, string) { return r.expired(ctx, a) }, ""},
		{"forged", "A viewer's claims signed with a key the workspace never published", func() (string, string) { return forge(a) }, ""},
		{"tampered", "A viewer's signature over another viewer's claims", func() (string, string) { return splice(a, b) }, ""},
		{"unsigned", "A viewer's claims with alg none", func() (string, string) { return unsigned(a) }, ""},
		{"other_dashboard", "A viewer's token on another dashboard", func() (string, string) { return a, "" }, otherDashboard(r.cfg.DashboardID)},
	}
	out := make([]api.IsolationProbe, 0, len(list))
	for _, p := range list {
		res := api.IsolationProbe{ID: p.id, Title: p.title}
		tok, why := "", ""
		if a == "" && p.id != "none" {
			why = "no viewer's token to start from"
		} else {
			tok, why = p.token()
		}
		if why != "" {
			res.Status, res.Reason = api.StatusSkip, "skipped: "+why
			out = append(out, res)
			continue
		}
		dash := r.cfg.DashboardID
		if p.dashboard != "" {
			dash = p.dashboard
		}
		ans, err := r.query(ctx, tok, dash, dataset)
		res.HTTPStatus = ans.status
		switch {
		case err != nil:
			res.Status, res.Reason = api.StatusWarn, "could not be sent: "+err.Error()
		case ans.status >= 200 && ans.status < 300:
			c := readCell(ans, nil)
			res.Status, res.Reason = api.StatusFail, fmt.Sprintf("answered %d with %s: the query API must refuse this token", ans.status, plural(c.rows, "row"))
		case strings.Contains(string(ans.body), `"rows"`):
			res.Status, res.Reason = api.StatusFail, fmt.Sprintf("refused with %d, but the answer carries rows", ans.status)
		default:
			res.Status, res.Reason = api.StatusPass, "refused, nothing returned: "+said(ans)
		}
		out = append(out, res)
	}
	return out
}

// expired asks the emulator's fault switch for an expired copy of a token.
func (r *run) expired(ctx context.Context, token string) (string, string) {
	if !r.cfg.Emulated {
		return "", "a real workspace mints no expired token on request (its tokens expire after an hour); the emulator runs this probe"
	}
	ans, err := r.do(ctx, request{method: http.MethodPost, path: pathExpiredToken, json: map[string]string{"token": token}})
	if err != nil || ans.status != http.StatusOK {
		return "", "the emulator did not make an expired token: " + errText(ans, err)
	}
	var out struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(ans.body, &out) != nil || out.Token == "" {
		return "", "the emulator's answer has no token"
	}
	return out.Token, ""
}

// forge signs a token's header and claims with a key of our own, under the
// same kid: a workspace that skipped the signature would take it.
func forge(token string) (string, string) {
	h, _, err := claims.Decode(token)
	if err != nil {
		return "", err.Error()
	}
	var m jwt.MapClaims
	if err := json.Unmarshal(part(token, 1), &m); err != nil {
		return "", "the token's claims do not decode"
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err.Error()
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, m)
	t.Header["typ"], t.Header["kid"] = "at+jwt", h.Kid
	s, err := t.SignedString(key)
	if err != nil {
		return "", err.Error()
	}
	return s, ""
}

// splice puts b's claims under a's header and signature.
func splice(a, b string) (string, string) {
	if b == "" {
		return "", "it needs two viewers with different external_values"
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if len(pa) != 3 || len(pb) != 3 {
		return "", "the tokens are not JWTs"
	}
	return pa[0] + "." + pb[1] + "." + pa[2], ""
}

// unsigned sends a token's claims with alg none and no signature.
func unsigned(token string) (string, string) {
	p := strings.Split(token, ".")
	if len(p) != 3 {
		return "", "the token is not a JWT"
	}
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
	return h + "." + p[1] + ".", ""
}

func part(token string, i int) []byte {
	p := strings.Split(token, ".")
	if len(p) != 3 {
		return nil
	}
	b, _ := base64.RawURLEncoding.DecodeString(p[i])
	return b
}

// otherDashboard is an id that is not this dashboard's.
func otherDashboard(id string) string {
	other := "0123456789abcdef0123456789abcdef"
	if id == other {
		return "fedcba9876543210fedcba9876543210"
	}
	return other
}

// summarize sets the isolation check's status, reason and fix.
func (r *run) summarize(rep *api.IsolationReport) {
	counts := map[string][]string{}
	status := api.StatusPass
	worse := func(s string) {
		if rank(s) > rank(status) {
			status = s
		}
	}
	for _, d := range rep.Datasets {
		counts[d.Verdict] = append(counts[d.Verdict], d.Name)
		worse(d.Status)
	}
	var refused, leaked []string
	for _, p := range rep.Probes {
		switch p.Status {
		case api.StatusPass:
			refused = append(refused, p.ID)
		case api.StatusFail:
			leaked = append(leaked, p.ID)
		}
		worse(p.Status)
	}
	var parts []string
	for _, v := range []string{api.VerdictIdentical, api.VerdictError, api.VerdictOverlap, api.VerdictEmpty, api.VerdictIsolated, api.VerdictSkipped} {
		if names := counts[v]; len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", v, strings.Join(names, ", ")))
		}
	}
	noun := "foreign or expired tokens"
	if rep.Method == api.MethodStatements {
		noun = "tokens that must run no SQL"
	}
	probes := fmt.Sprintf("%d of %d %s refused", len(refused), len(rep.Probes), noun)
	if len(leaked) > 0 {
		probes = "tokens that must get nothing got rows: " + strings.Join(leaked, ", ")
	}
	rep.Status = status
	rep.Reason = fmt.Sprintf("%s × %s: %s; %s", plural(len(rep.Datasets), "dataset"), plural(len(rep.Viewers), "viewer"), strings.Join(parts, "; "), probes)
	switch {
	case len(leaked) > 0:
		rep.Fix = "the query API must check every token's signature, expiry, scopes and dashboard before it runs a query"
	case len(counts[api.VerdictIdentical]) > 0:
		rep.Fix = "make every per-customer dataset filter on __aibi_external_value, with no branch (OR …) that lets other rows through"
	case len(counts[api.VerdictError]) > 0:
		rep.Fix = "see why the queries failed in the table"
	case status == api.StatusWarn:
		rep.Fix = "look at the datasets marked overlap or empty in the table"
	}
}

func rank(s string) int {
	switch s {
	case api.StatusFail:
		return 3
	case api.StatusWarn:
		return 2
	case api.StatusPass:
		return 1
	}
	return 0
}
