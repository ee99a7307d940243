package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// scopedToken runs the three steps for one viewer and returns the token.
func scopedToken(t *testing.T, em *emulator.Emulator, viewer, value string) string {
	t.Helper()
	info := tokenInfo(t, em, spToken(t, em), viewer, value)
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, info.ExchangeForm())
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("step 3: %d %s", r.status, r.body)
	}
	return tr.AccessToken
}

func renderURL(em *emulator.Emulator, dash, page string) string {
	u := em.URL() + "/embed/api/dashboards/" + dash + "/render"
	if page != "" {
		u += "?page=" + page
	}
	return u
}

func render(t *testing.T, em *emulator.Emulator, token, page string) emulator.RenderResponse {
	t.Helper()
	r := get(t, renderURL(em, testkit.DashboardID, page), token)
	if r.status != http.StatusOK {
		t.Fatalf("render: %d %s", r.status, r.body)
	}
	var rr emulator.RenderResponse
	r.json(t, &rr)
	return rr
}

var counterRe = regexp.MustCompile(`data-widget="total_revenue"[^>]*data-state="(empty)"|data-widget="total_revenue".*?data-value="([^"]*)"`)

// counter reads the total revenue tile: its value, or "empty" with no rows.
func counter(t *testing.T, html string) string {
	t.Helper()
	m := counterRe.FindStringSubmatch(html)
	if m != nil && m[1] != "" {
		return m[1]
	}
	if m == nil {
		t.Fatalf("no total_revenue counter in %.300s", html)
	}
	return m[2]
}

func TestEmbedPageHeadersAndErrors(t *testing.T) {
	em := start(t)
	r := get(t, em.URL()+"/embed/dashboardsv3/"+testkit.DashboardID+"?o="+testkit.WorkspaceID, "")
	csp := r.header.Get("Content-Security-Policy")
	if r.status != 200 || !strings.Contains(csp, "frame-ancestors http://localhost:3000 http://127.0.0.1:3000") {
		t.Fatalf("page: %d CSP %q", r.status, csp)
	}
	if !strings.Contains(string(r.body), `data-dashboard="`+testkit.DashboardID+`"`) || !strings.Contains(string(r.body), "/embed/static/embed.js") {
		t.Fatalf("page body: %s", r.body)
	}
	// The origins a test adds appear in the CSP at once.
	if err := em.Update(func(s *emulator.State) { s.EmbeddingOrigins = append(s.EmbeddingOrigins, "https://app.example.com") }); err != nil {
		t.Fatal(err)
	}
	r = get(t, em.URL()+"/embed/dashboardsv3/"+testkit.DashboardID+"/pages/details?o="+testkit.WorkspaceID, "")
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "https://app.example.com") {
		t.Fatalf("CSP after update: %q", r.header.Get("Content-Security-Policy"))
	}

	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/embed/dashboardsv3/" + testkit.DashboardID + "?o=999", 400, "use ?o=" + testkit.WorkspaceID},
		{"/embed/dashboardsv3/" + testkit.DashboardID, 400, "use ?o=" + testkit.WorkspaceID},
		{"/embed/dashboardsv3/01f0000000000000000000000000dead?o=" + testkit.WorkspaceID, 404, "does not exist or is not published"},
		{"/embed/dashboardsv3/" + testkit.DraftDashboardID + "?o=" + testkit.WorkspaceID, 404, "does not exist or is not published"},
		{"/embed/dashboardsv3/" + testkit.DashboardID + "/pages/nope?o=" + testkit.WorkspaceID, 404, `has no page &#34;nope&#34;`},
	} {
		r := get(t, em.URL()+c.path, "")
		if r.status != c.status || !strings.Contains(string(r.body), c.want) || r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %s", c.path, r.status, r.body)
		}
	}
}

func TestRowsAreFilteredPerViewer(t *testing.T) {
	em := start(t)
	emea := render(t, em, scopedToken(t, em, "viewer-emea", "EMEA"), "")
	apac := render(t, em, scopedToken(t, em, "viewer-apac", "APAC"), "")
	if emea.ExternalViewerID != "viewer-emea" || apac.ExternalViewerID != "viewer-apac" || len(emea.Pages) < 2 {
		t.Fatalf("emea %+v / apac %+v", emea.ExternalViewerID, apac.ExternalViewerID)
	}
	ce, ca := counter(t, string(emea.HTML)), counter(t, string(apac.HTML))
	if ce == ca || ce == "empty" || ca == "empty" {
		t.Fatalf("total revenue EMEA %s, APAC %s: want two different non-zero totals", ce, ca)
	}
	// The table shows only the viewer's region's countries.
	if !strings.Contains(string(emea.HTML), "Germany") && !strings.Contains(string(emea.HTML), "France") {
		t.Errorf("EMEA sees no European country")
	}
	if strings.Contains(string(emea.HTML), "Japan") || strings.Contains(string(apac.HTML), "Germany") {
		t.Errorf("a viewer sees another region's country")
	}
	// The second page renders too, for the same token.
	second := emea.Pages[1].Name
	p2 := render(t, em, scopedToken(t, em, "viewer-emea", "EMEA"), second)
	if p2.Page != second || !strings.Contains(string(p2.HTML), `data-page="`+second+`"`) {
		t.Fatalf("page %s: %.200s", second, p2.HTML)
	}
	// Each load is in the audit log with the viewer id.
	loads := 0
	for _, a := range em.Audit(0) {
		if a.Action == "dashboard_loaded" {
			loads++
			if a.ExternalViewerID == "" || a.DashboardID != testkit.DashboardID {
				t.Errorf("audit line %+v", a)
			}
		}
	}
	if loads != 3 {
		t.Fatalf("%d dashboard_loaded audit lines, want 3", loads)
	}
}

func TestInjectionValuesMatchNoRow(t *testing.T) {
	em := start(t)
	for _, v := range []string{"x' OR '1'='1", "EMEA' --", "EMEA\" OR 1=1 --", "%", "EMEA;DROP TABLE sales"} {
		rr := render(t, em, scopedToken(t, em, "viewer-x", v), "")
		if got := counter(t, string(rr.HTML)); got != "empty" {
			t.Errorf("external_value %q: total revenue %s, want no rows", v, got)
		}
	}
	// The data is still there afterwards.
	if got := counter(t, string(render(t, em, scopedToken(t, em, "viewer-emea", "EMEA"), "").HTML)); got == "empty" {
		t.Fatalf("EMEA total after injection attempts = %q", got)
	}
}

func TestQueryAPIRefusesWrongTokens(t *testing.T) {
	em := start(t)
	good := scopedToken(t, em, "viewer-emea", "EMEA")
	broad := spToken(t, em)

	// A token for the other (published) dashboard: publish the draft and get one.
	if err := em.Update(func(s *emulator.State) { s.Dashboards[1].Published = true }); err != nil {
		t.Fatal(err)
	}
	info := tokenInfo(t, em, broad, "viewer-emea", "EMEA")
	_ = info
	otherInfoResp := get(t, tokenInfoURL(em, testkit.DraftDashboardID, "viewer-emea", "EMEA"), broad)
	var other wire.TokenInfo
	otherInfoResp.json(t, &other)
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, other.ExchangeForm())
	var foreign wire.TokenResponse
	r.json(t, &foreign)
	if foreign.AccessToken == "" {
		t.Fatalf("token for %s: %d %s", testkit.DraftDashboardID, r.status, r.body)
	}

	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	for _, c := range []struct {
		name, token string
		status      int
		want        string
	}{
		{"missing", "", 401, ""},
		{"malformed", "not-a-jwt", 401, ""},
		{"bad signature", tampered, 401, ""},
		{"all-apis", broad, 403, "does not have required scopes: dashboards.lakeview-embedded:read, dashboards.query-execution"},
		{"foreign dashboard", foreign.AccessToken, 403, "was issued for dashboard " + testkit.DraftDashboardID},
	} {
		r := get(t, renderURL(em, testkit.DashboardID, ""), c.token)
		var ae wire.APIError
		r.json(t, &ae)
		if r.status != c.status || !strings.Contains(ae.Message, c.want) || strings.Contains(string(r.body), "dash-widget") {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}

	// CAN RUN removed after the token was issued: the load is refused.
	if err := em.Update(func(s *emulator.State) { s.Dashboards[0].CanRun = nil }); err != nil {
		t.Fatal(err)
	}
	if r := get(t, renderURL(em, testkit.DashboardID, ""), good); r.status != 403 {
		t.Errorf("no CAN RUN: %d %s", r.status, r.body)
	}
}

func TestQueryAPIRefusesExpiredToken(t *testing.T) {
	em := start(t)
	if err := em.SetTokenLifetime(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	tok := scopedToken(t, em, "viewer-emea", "EMEA")
	render(t, em, tok, "")
	if err := em.SetClockSkew(31 * time.Second); err != nil {
		t.Fatal(err)
	}
	r := get(t, renderURL(em, testkit.DashboardID, ""), tok)
	var ae wire.APIError
	r.json(t, &ae)
	if r.status != 401 || !strings.Contains(ae.Message, "expired") {
		t.Fatalf("expired: %d %s", r.status, r.body)
	}
}

func TestDashboardLoadsAreRateLimited(t *testing.T) {
	em := start(t)
	tok := scopedToken(t, em, "viewer-emea", "EMEA")
	if err := em.SetRateLimit(2); err != nil {
		t.Fatal(err)
	}
	var limited response
	for i := 0; i < 10 && limited.status == 0; i++ {
		if r := get(t, renderURL(em, testkit.DashboardID, ""), tok); r.status == http.StatusTooManyRequests {
			limited = r
		} else if r.status != 200 {
			t.Fatalf("load %d: %d %s", i, r.status, r.body)
		}
	}
	if limited.status != 429 || limited.header.Get("Retry-After") == "" || !strings.Contains(string(limited.body), "per second") {
		t.Fatalf("10 loads at 2/s: no 429 with Retry-After (last %d %s)", limited.status, limited.body)
	}
	if err := em.SetRateLimit(0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if r := get(t, renderURL(em, testkit.DashboardID, ""), tok); r.status != 200 {
			t.Fatalf("limit off, load %d: %d", i, r.status)
		}
	}
}

const tinyDashboard = `{
  "datasets": [{"name": "d", "displayName": "D", "queryLines": ["SELECT region, SUM(amount) AS total FROM sales WHERE region = __aibi_external_value GROUP BY region"]}],
  "pages": [{"name": "only", "displayName": "Only page", "layout": [
    {"widget": {"name": "t", "queries": [{"name": "main_query", "query": {"datasetName": "d",
      "fields": [{"name": "region", "expression": "` + "`region`" + `"}, {"name": "total", "expression": "` + "`total`" + `"}], "disaggregated": true}}],
      "spec": {"version": 1, "widgetType": "table", "encodings": {"columns": [{"fieldName": "region", "displayName": "Region"}, {"fieldName": "total", "displayName": "Total"}]},
      "frame": {"showTitle": true, "title": "Tiny"}}},
     "position": {"x": 0, "y": 0, "width": 6, "height": 4}},
    {"widget": {"name": "m", "spec": {"version": 1, "widgetType": "choropleth-map", "frame": {"showTitle": true, "title": "A map"}}},
     "position": {"x": 0, "y": 4, "width": 6, "height": 4}}
  ]}]
}`

func TestDashboardFileFromOptionsAndState(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tiny.lvdash.json")
	if err := os.WriteFile(good, []byte(tinyDashboard), 0o600); err != nil {
		t.Fatal(err)
	}
	em := testkit.Emulator(t, emulator.Options{DashboardFile: good})
	rr := render(t, em, scopedToken(t, em, "viewer-amer", "AMER"), "")
	html := string(rr.HTML)
	if rr.Page != "only" || !strings.Contains(html, "Tiny") || !strings.Contains(html, "AMER") || strings.Contains(html, "EMEA") {
		t.Fatalf("tiny dashboard: %s", html)
	}
	if !strings.Contains(html, `data-widget-type="choropleth-map"`) || !strings.Contains(html, "Unsupported widget: choropleth-map") {
		t.Errorf("the unsupported widget is not a labelled placeholder: %s", html)
	}

	// A broken file stops the start, naming the file and the path inside it.
	bad := filepath.Join(dir, "bad.lvdash.json")
	broken := strings.Replace(tinyDashboard, `"datasetName": "d"`, `"datasetName": "nope"`, 1)
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := emulator.New(emulator.Options{DashboardFile: bad})
	if err == nil || !strings.Contains(err.Error(), "bad.lvdash.json") || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "pages[0]") {
		t.Fatalf("broken file: err = %v", err)
	}

	// The state file may name a file of its own, relative to itself.
	b, err := os.ReadFile("workspace.json")
	if err != nil {
		t.Fatal(err)
	}
	st := strings.Replace(string(b), `"published": true`, `"published": true, "file": "bad.lvdash.json"`, 1)
	statePath := filepath.Join(dir, "state.json")
	if err := os.WriteFile(statePath, []byte(st), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := emulator.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.New(emulator.Options{State: s}); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad.lvdash.json")) {
		t.Fatalf("state with a broken dashboard file: err = %v", err)
	}
}

// A client that leaves while its dashboard renders (a page navigating away)
// is logged as 499, not as a failure of the workspace.
func TestRenderAbandonedByTheClientIsNoServerError(t *testing.T) {
	em := start(t)
	tok := scopedToken(t, em, "viewer-emea", "EMEA")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, renderURL(em, testkit.DashboardID, ""), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	em.Handler().ServeHTTP(rec, req)
	if rec.Code != 499 || !strings.Contains(rec.Body.String(), "CANCELLED") {
		t.Fatalf("abandoned render: %d %s", rec.Code, rec.Body)
	}
	for _, r := range em.Requests(0) {
		if r.Status == http.StatusInternalServerError {
			t.Fatalf("the request log holds a 500: %+v", r)
		}
	}
}
