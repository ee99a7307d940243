package emulator

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"embedlab/backend/emulator/dashboard"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// The sample app behind every app of the state: what a small Databricks App
// does with what the proxy forwards. It sees only the request the proxy
// hands it, as a real app would.
//
//	GET /               a page for a signed-in browser
//	GET /api/whoami     what the app received: the X-Forwarded-* identity
//	                    and whether a user token came with it (never the token)
//	GET /api/sales      revenue per region, or per month with ?region=

// AppWhoAmI is the sample app's GET /api/whoami answer.
type AppWhoAmI struct {
	App               string `json:"app"`
	Email             string `json:"x_forwarded_email"`
	User              string `json:"x_forwarded_user"`
	PreferredUsername string `json:"x_forwarded_preferred_username"`
	RequestID         string `json:"x_request_id"`
	RealIP            string `json:"x_real_ip"`
	ForwardedHost     string `json:"x_forwarded_host,omitempty"`
	// UserAuthorization says whether the app uses user authorization.
	UserAuthorization bool `json:"user_authorization"`
	// AccessTokenForwarded says whether X-Forwarded-Access-Token was present;
	// the token itself is never echoed.
	AccessTokenForwarded bool `json:"access_token_forwarded"`
	// AccessTokenScopes are the forwarded token's scopes, read from its claims.
	AccessTokenScopes []string `json:"access_token_scopes,omitempty"`
}

// AppSales is the sample app's GET /api/sales answer.
type AppSales struct {
	App string `json:"app"`
	// Region is the ?region= asked for; empty means every region.
	Region string `json:"region,omitempty"`
	// RunAs says whose identity ran the query: "user <email>" with user
	// authorization, else "app service principal".
	RunAs string     `json:"run_as"`
	Rows  []SalesRow `json:"rows"`
}

// SalesRow is one row of AppSales: a region's total, or one month of it.
type SalesRow struct {
	Region  string  `json:"region"`
	Month   string  `json:"month,omitempty"`
	Orders  int64   `json:"orders"`
	Units   int64   `json:"units"`
	Revenue float64 `json:"revenue"`
}

// appError is the sample app's own error body.
type appError struct {
	Error string `json:"error"`
}

type sampleApp struct {
	e   *Emulator
	app App
}

func (e *Emulator) sampleApp(app App) http.Handler { return sampleApp{e, app} }

func (a sampleApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		a.index(w, r)
	case "/api/whoami":
		if a.onlyGet(w, r) {
			a.whoami(w, r)
		}
	case "/api/sales":
		if a.onlyGet(w, r) {
			a.sales(w, r)
		}
	default:
		writeJSON(w, http.StatusNotFound, appError{fmt.Sprintf("app %s has no route %s %s (it has GET /api/whoami and GET /api/sales)", a.app.Name, r.Method, r.URL.Path)})
	}
}

func (a sampleApp) onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, appError{r.Method + " is not allowed here: use GET"})
	return false
}

func (a sampleApp) whoami(w http.ResponseWriter, r *http.Request) {
	h := r.Header
	res := AppWhoAmI{
		App: a.app.Name, Email: h.Get(wire.HeaderForwardedEmail), User: h.Get(wire.HeaderForwardedUser),
		PreferredUsername: h.Get(wire.HeaderForwardedPreferredUsername), RequestID: h.Get(wire.HeaderRequestID),
		RealIP: h.Get(wire.HeaderRealIP), ForwardedHost: h.Get(wire.HeaderForwardedHost),
		UserAuthorization: a.app.userAuthorization(),
	}
	if tok := h.Get(wire.HeaderForwardedAccessToken); tok != "" {
		res.AccessTokenForwarded = true
		if _, c, err := claims.Decode(tok); err == nil {
			res.AccessTokenScopes = c.Scopes()
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (a sampleApp) sales(w http.ResponseWriter, r *http.Request) {
	region := r.URL.Query().Get("region")
	if region != "" && !slices.Contains(dashboard.SampleExternalValues(), region) {
		writeJSON(w, http.StatusBadRequest, appError{fmt.Sprintf("unknown region %q: the sample data has %v", region, dashboard.SampleExternalValues())})
		return
	}
	runAs := "app service principal"
	if a.app.userAuthorization() {
		if r.Header.Get(wire.HeaderForwardedAccessToken) == "" {
			writeJSON(w, http.StatusUnauthorized, appError{"this app runs queries as the user, but no X-Forwarded-Access-Token came with the request"})
			return
		}
		runAs = "user " + r.Header.Get(wire.HeaderForwardedEmail)
	}
	rows, err := a.query(r.Context(), region)
	if err != nil {
		a.e.log.Error("emulator: sample app query", "app", a.app.Name, "err", err)
		writeJSON(w, http.StatusInternalServerError, appError{"the query failed"})
		return
	}
	writeJSON(w, http.StatusOK, AppSales{App: a.app.Name, Region: region, RunAs: runAs, Rows: rows})
}

func (a sampleApp) query(ctx context.Context, region string) ([]SalesRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	q := `SELECT region, '' AS month, COUNT(*), SUM(units), ROUND(SUM(amount), 2) FROM sales GROUP BY region ORDER BY region`
	var args []any
	if region != "" {
		q = `SELECT region, month, COUNT(*), SUM(units), ROUND(SUM(amount), 2) FROM sales WHERE region = ? GROUP BY region, month ORDER BY month`
		args = append(args, region)
	}
	rs, err := a.e.sampleDB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []SalesRow{}
	for rs.Next() {
		var row SalesRow
		if err := rs.Scan(&row.Region, &row.Month, &row.Orders, &row.Units, &row.Revenue); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

var appIndexTmpl = template.Must(template.New("app-index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.App}}</title><style>` + loginCSS + `</style></head>
<body data-page="app-index" data-app="{{.App}}"><main><h1>{{.App}}</h1><p class="sub">{{.Description}}</p>
<p id="signed-in">Signed in as <strong>{{.Name}}</strong> ({{.Email}}).</p>
<p>Routes: <a href="/api/whoami">/api/whoami</a>, <a href="/api/sales">/api/sales</a>, <a href="/api/sales?region=EMEA">/api/sales?region=EMEA</a></p></main></body></html>
`))

func (a sampleApp) index(w http.ResponseWriter, r *http.Request) {
	a.e.pageHeaders(w, "'none'")
	_ = appIndexTmpl.Execute(w, map[string]string{
		"App": a.app.Name, "Description": a.app.Description,
		"Name": r.Header.Get(wire.HeaderForwardedPreferredUsername), "Email": r.Header.Get(wire.HeaderForwardedEmail),
	})
}
