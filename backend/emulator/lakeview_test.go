package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"embedlab/backend/emulator"
	"embedlab/backend/emulator/dashboard"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// tokenOf is step 1 for any service principal.
func tokenOf(t *testing.T, em *emulator.Emulator, id, secret string) string {
	t.Helper()
	r := postForm(t, em, id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	if tr.AccessToken == "" {
		t.Fatalf("step 1 for %s: %d %s", id, r.status, r.body)
	}
	return tr.AccessToken
}

func TestLakeviewDashboardAPI(t *testing.T) {
	em := start(t)
	sp, other := spToken(t, em), tokenOf(t, em, testkit.NoAccessID, testkit.NoAccessSecret)

	r := get(t, em.URL()+wire.LakeviewDashboardPath(testkit.DashboardID), sp)
	var d wire.LakeviewDashboard
	r.json(t, &d)
	if r.status != 200 || d.DashboardID != testkit.DashboardID || d.SerializedDashboard != string(dashboard.SampleFile()) || d.LifecycleState != "ACTIVE" {
		t.Fatalf("GET dashboard: %d %+v", r.status, d)
	}
	var def wire.SerializedDashboard
	if err := json.Unmarshal([]byte(d.SerializedDashboard), &def); err != nil || len(def.Datasets) != 2 ||
		!strings.Contains(def.Datasets[0].SQL(), "__aibi_external_value") {
		t.Fatalf("serialized_dashboard's datasets: %+v %v", def, err)
	}

	var p wire.PublishedDashboard
	r = get(t, em.URL()+wire.PublishedDashboardPath(testkit.DashboardID), sp)
	r.json(t, &p)
	if r.status != 200 || !p.EmbedCredentials || p.DisplayName != "Regional sales" {
		t.Fatalf("GET published: %d %+v (want embed_credentials true, Lakeview's default)", r.status, p)
	}
	if !strings.Contains(string(r.body), `"embed_credentials":true`) {
		t.Errorf("published answer: %s", r.body)
	}

	for _, tc := range []struct {
		name, path, bearer string
		status             int
		code               string
	}{
		{"draft is readable", wire.LakeviewDashboardPath(testkit.DraftDashboardID), sp, 200, ""},
		{"draft is not published", wire.PublishedDashboardPath(testkit.DraftDashboardID), sp, 404, wire.ErrResourceDoesNotExist},
		{"unknown", wire.LakeviewDashboardPath("0123456789abcdef0123456789abcdef"), sp, 404, wire.ErrResourceDoesNotExist},
		{"no CAN READ", wire.LakeviewDashboardPath(testkit.DashboardID), other, 403, wire.ErrPermissionDenied},
		{"no CAN READ, published", wire.PublishedDashboardPath(testkit.DashboardID), other, 403, wire.ErrPermissionDenied},
		{"no token", wire.LakeviewDashboardPath(testkit.DashboardID), "", 401, wire.ErrUnauthenticated},
		{"a viewer's token", wire.LakeviewDashboardPath(testkit.DashboardID), scopedToken(t, em, "viewer-emea", "EMEA"), 403, wire.ErrPermissionDenied},
	} {
		r := get(t, em.URL()+tc.path, tc.bearer)
		var ae wire.APIError
		_ = json.Unmarshal(r.body, &ae)
		if r.status != tc.status || ae.ErrorCode != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
	}

	// CAN READ alone reads the definition, but runs nothing.
	if err := em.Update(func(s *emulator.State) { s.Dashboards[0].CanRead = []string{testkit.NoAccessID} }); err != nil {
		t.Fatal(err)
	}
	if r := get(t, em.URL()+wire.LakeviewDashboardPath(testkit.DashboardID), other); r.status != 200 {
		t.Errorf("with CAN READ: %d %s", r.status, r.body)
	}
	if r := get(t, tokenInfoURL(em, testkit.DashboardID, "viewer-emea", "EMEA"), other); r.status != 403 {
		t.Errorf("tokeninfo with CAN READ only: %d, want 403", r.status)
	}
}

func TestEmbedDatasetRoute(t *testing.T) {
	em := start(t)
	emea, apac := scopedToken(t, em, "viewer-emea", "EMEA"), scopedToken(t, em, "viewer-apac", "APAC")
	rows := func(token, dataset string) (int, wire.DatasetResult, []byte) {
		r := get(t, em.URL()+wire.EmbedDatasetPath(testkit.DashboardID, dataset), token)
		var res wire.DatasetResult
		if r.status == 200 {
			r.json(t, &res)
		}
		return r.status, res, r.body
	}
	status, res, body := rows(emea, "country_product")
	if status != 200 || res.ExternalViewerID != "viewer-emea" || len(res.Rows) == 0 || res.Columns[0] != "country" {
		t.Fatalf("EMEA: %d %s", status, body)
	}
	for _, row := range res.Rows {
		if c := row[0].(string); !strings.Contains("Germany France United Kingdom Spain", c) {
			t.Fatalf("EMEA sees %s", c)
		}
	}
	if _, a, _ := rows(apac, "country_product"); len(a.Rows) == 0 || a.Rows[0][0] == res.Rows[0][0] {
		t.Errorf("APAC's rows: %v", a.Rows)
	}
	if status, _, body := rows(emea, "no_such_dataset"); status != 404 || !strings.Contains(string(body), wire.ErrResourceDoesNotExist) {
		t.Errorf("unknown dataset: %d %s", status, body)
	}
	if status, _, _ := rows("", "country_product"); status != 401 {
		t.Errorf("no token: %d", status)
	}
	if status, _, _ := rows(spToken(t, em), "country_product"); status != 403 {
		t.Errorf("the service principal's own token: %d", status)
	}

	// The expired-token probe: a valid token comes back expired, nothing else.
	r := sendJSON(t, http.MethodPost, em.URL()+"/emulator/expired-token", `{"token":"`+emea+`"}`)
	var out struct{ Token string }
	r.json(t, &out)
	_, c, err := claims.Decode(out.Token)
	_, orig, _ := claims.Decode(emea)
	if r.status != 200 || err != nil || c.ExpiresAt > time.Now().Unix() || c.CustomClaim != orig.CustomClaim || c.Scope != orig.Scope {
		t.Fatalf("expired copy: %d %+v", r.status, c)
	}
	if status, _, body := rows(out.Token, "country_product"); status != 401 || !strings.Contains(string(body), "expired") {
		t.Errorf("expired token: %d %s", status, body)
	}
	if r := sendJSON(t, http.MethodPost, em.URL()+"/emulator/expired-token", `{"token":"`+out.Token+`"}`); r.status != 400 {
		t.Errorf("an expired token was taken: %d", r.status)
	}

	// Published with the viewer's credentials, queries run as the service
	// principal, which then needs SELECT: dataset and page alike.
	if err := em.Update(func(s *emulator.State) { s.Dashboards[0].EmbedCredentials = emulator.CredentialsViewer }); err != nil {
		t.Fatal(err)
	}
	var p wire.PublishedDashboard
	get(t, em.URL()+wire.PublishedDashboardPath(testkit.DashboardID), spToken(t, em)).json(t, &p)
	if p.EmbedCredentials {
		t.Error("published answer still says embed_credentials true")
	}
	if status, _, body := rows(emea, "country_product"); status != 403 || !strings.Contains(string(body), "SELECT") {
		t.Errorf("without SELECT: %d %s", status, body)
	}
	if r := get(t, em.URL()+"/embed/api/dashboards/"+testkit.DashboardID+"/render", emea); r.status != 403 {
		t.Errorf("render without SELECT: %d", r.status)
	}
	if err := em.Update(func(s *emulator.State) { s.Dashboards[0].SelectGrants = []string{testkit.EmbedderID} }); err != nil {
		t.Fatal(err)
	}
	if status, _, body := rows(emea, "country_product"); status != 200 {
		t.Errorf("with SELECT: %d %s", status, body)
	}
}

func TestSecretsAndDateHeader(t *testing.T) {
	em := start(t)
	expires := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	if err := em.Update(func(s *emulator.State) { s.ServicePrincipals[0].SecretExpireTime = expires }); err != nil {
		t.Fatal(err)
	}
	sp := spToken(t, em)
	var list wire.SCIMListResponse
	r := get(t, em.URL()+wire.PathSCIMServicePrincipals+"?"+url.Values{"filter": {`applicationId eq "` + testkit.EmbedderID + `"`}}.Encode(), sp)
	r.json(t, &list)
	if list.TotalResults != 1 || list.Resources[0].ApplicationID != testkit.EmbedderID || list.Resources[0].ID == "" {
		t.Fatalf("SCIM: %s", r.body)
	}
	var secrets wire.SecretList
	r = get(t, em.URL()+wire.SecretsPath(list.Resources[0].ID), sp)
	r.json(t, &secrets)
	if len(secrets.Secrets) != 1 || secrets.Secrets[0].ExpireTime != expires || secrets.Secrets[0].Status != "ACTIVE" ||
		strings.Contains(string(r.body), testkit.EmbedderSecret) {
		t.Fatalf("secrets: %s", r.body)
	}
	if r := get(t, em.URL()+wire.SecretsPath(list.Resources[0].ID), tokenOf(t, em, testkit.NoAccessID, testkit.NoAccessSecret)); r.status != 403 {
		t.Errorf("another principal's secrets: %d", r.status)
	}

	// Past its expire time the workspace refuses the secret, and says why.
	expired := time.Now().Add(-time.Minute).UTC().Truncate(time.Second).Format(time.RFC3339)
	if err := em.Update(func(s *emulator.State) { s.ServicePrincipals[0].SecretExpireTime = expired }); err != nil {
		t.Fatal(err)
	}
	r = postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "the client secret expired at "+expired) {
		t.Fatalf("expired secret: %d %s", r.status, r.body)
	}

	if err := em.SetClockSkew(-10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	r = get(t, em.URL()+wire.PathOIDCDiscovery, "")
	date, err := http.ParseTime(r.header.Get("Date"))
	if err != nil || time.Since(date) < 9*time.Minute || time.Since(date) > 11*time.Minute {
		t.Errorf("Date %q: want the emulator's clock, 10 minutes behind", r.header.Get("Date"))
	}
}

func TestLakeviewStateIsValidated(t *testing.T) {
	b, err := os.ReadFile("workspace.json")
	if err != nil {
		t.Fatal(err)
	}
	base := string(b)
	for _, tc := range []struct{ from, to, says string }{
		{`"published": true,`, `"published": true, "embed_credentials": "everyone",`, "embed_credentials"},
		{`"published": true,`, `"published": true, "select_grants": ["nobody"],`, "select_grants[0]"},
		{`"published": true,`, `"published": true, "can_read": ["nobody"],`, "can_read[0]"},
		{`"secret": "` + testkit.EmbedderSecret + `"`, `"secret": "` + testkit.EmbedderSecret + `", "secret_expire_time": "soon"`, "secret_expire_time"},
	} {
		_, err := emulator.ParseState("state.json", []byte(strings.Replace(base, tc.from, tc.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v", tc.to, err)
		}
	}
}
