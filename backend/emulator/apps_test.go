package emulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// callApp sends an API request (Accept: application/json) to an app URL.
func callApp(t *testing.T, u, token string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Transport: emulator.AppsTransport(), Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return doWith(t, c, req)
}

// appError decodes the proxy's REST error.
func appError(t *testing.T, r response) wire.APIError {
	t.Helper()
	var ae wire.APIError
	r.json(t, &ae)
	return ae
}

// m2mToken is a service principal's client_credentials token, through the
// oauth2 library as an external program gets it.
func m2mToken(t *testing.T, em *emulator.Emulator, id, secret, scope string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: em.URL() + wire.PathToken, Scopes: strings.Fields(scope)}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestAppURLs(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	if !regexp.MustCompile(`^http://localhost:\d+$`).MatchString(em.AppsURL()) {
		t.Fatalf("AppsURL = %q", em.AppsURL())
	}
	want := "http://sales-api-" + testkit.WorkspaceID + ".localhost:" + strings.TrimPrefix(em.AppsURL(), "http://localhost:")
	if em.AppURL("sales-api") != want {
		t.Fatalf("AppURL = %q, want %q", em.AppURL("sales-api"), want)
	}
	apps := em.Apps()
	if len(apps) != 3 || apps[0].Name != "sales-api" || apps[0].URL != want || apps[1].UserAPIScopes[0] != "sql" || apps[2].Status != emulator.AppStopped {
		t.Fatalf("Apps = %+v", apps)
	}
	if em.AppsURL() == em.URL() {
		t.Fatal("apps share the workspace's origin")
	}
	// The default: the workspace's port plus one, or any port.
	em2 := start(t)
	if em2.AppsURL() == "" || em2.AppURL("x") == "" {
		t.Fatal("no Apps proxy without AppsAddr")
	}
	if r := callApp(t, em2.AppURL("sales-api")+"/api/whoami", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("default Apps proxy: %d %s", r.status, r.body)
	}
}

// Each row of the reference's 401/403/404 table.
func TestAppsFailureTable(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	ada := userToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, "offline_access all-apis").AccessToken
	grace := userToken(t, em, testkit.WorkspaceGrace.Email, testkit.WorkspaceGrace.Password, "all-apis sql").AccessToken
	noAccess := m2mToken(t, em, testkit.NoAccessID, testkit.NoAccessSecret, "all-apis")
	embedToken := scopedToken(t, em, "viewer-emea", "EMEA")

	// A token signed by someone else, with the right kid and issuer.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, real, _ := claims.Decode(ada)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": real.Issuer, "sub": testkit.WorkspaceAda.ID, "scope": "all-apis", "exp": time.Now().Add(time.Hour).Unix()})
	h, _, _ := claims.Decode(ada)
	forged.Header["kid"] = h.Kid
	forgedTok, _ := forged.SignedString(key)

	port := strings.TrimPrefix(em.AppsURL(), "http://localhost:")
	api := em.AppURL("sales-api") + "/api/whoami"
	sqlApp := em.AppURL("sales-sql") + "/api/whoami"
	cases := []struct {
		name, url, token string
		status           int
		code, reason     string
		msg              string
	}{
		{"401 token missing", api, "", 401, wire.ErrUnauthenticated, wire.AppsReasonTokenMissing, "Bearer"},
		{"401 token malformed", api, "not-a-jwt", 401, wire.ErrUnauthenticated, wire.AppsReasonTokenMalformed, "malformed"},
		{"401 token forged", api, forgedTok, 401, wire.ErrUnauthenticated, wire.AppsReasonTokenMalformed, "signature"},
		{"401 lacks the app's scopes (CLI token)", sqlApp, ada, 401, wire.ErrUnauthenticated, wire.AppsReasonMissingAppScopes, "does not have required scopes: sql"},
		{"401 lacks the app's scopes (M2M all-apis)", sqlApp, spToken(t, em), 401, wire.ErrUnauthenticated, wire.AppsReasonMissingAppScopes, "user authorization"},
		{"403 user lacks CAN USE", api, grace, 403, wire.ErrPermissionDenied, wire.AppsReasonNoCanUse, "grace@example.com (7002) does not have CAN USE permission on app sales-api"},
		{"403 service principal lacks CAN USE", api, noAccess, 403, wire.ErrPermissionDenied, wire.AppsReasonNoCanUse, testkit.NoAccessID + " does not have CAN USE"},
		{"403 token scopes insufficient", api, embedToken, 403, wire.ErrPermissionDenied, wire.AppsReasonInsufficientScope, "does not have required scopes: all-apis"},
		{"404 unknown app", "http://no-such-app-" + testkit.WorkspaceID + ".localhost:" + port + "/api/whoami", ada, 404, wire.ErrResourceDoesNotExist, wire.AppsReasonAppNotFound, "does not exist"},
		{"404 other workspace", "http://sales-api-999.localhost:" + port + "/api/whoami", ada, 404, wire.ErrResourceDoesNotExist, wire.AppsReasonAppNotFound, "No app is served"},
		{"404 not an app URL", "http://localhost:" + port + "/api/whoami", ada, 404, wire.ErrResourceDoesNotExist, wire.AppsReasonAppNotFound, "app URLs of workspace " + testkit.WorkspaceID + " look like http://<app-name>-"},
		{"404 stopped app", em.AppURL("sales-archive") + "/api/whoami", ada, 404, wire.ErrResourceDoesNotExist, wire.AppsReasonAppStopped, "not running"},
		{"404 path not under /api/", em.AppURL("sales-api") + "/whoami", ada, 404, wire.ErrNotFound, wire.AppsReasonNotAPIPath, "only an app's /api/ routes"},
		{"404 root path", em.AppURL("sales-api") + "/", ada, 404, wire.ErrNotFound, wire.AppsReasonNotAPIPath, "not under /api/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := callApp(t, tc.url, tc.token)
			ae := appError(t, r)
			if r.status != tc.status || ae.ErrorCode != tc.code || ae.Reason() != tc.reason || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %d %s %s %q, want %d %s %s %q", r.status, ae.ErrorCode, ae.Reason(), ae.Message, tc.status, tc.code, tc.reason, tc.msg)
			}
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", r.header.Get("WWW-Authenticate"))
			}
			if tc.token != "" && strings.Contains(string(r.body), tc.token) {
				t.Error("the answer echoes the token")
			}
		})
	}

	t.Run("401 expired", func(t *testing.T) {
		if err := em.SetClockSkew(2 * time.Hour); err != nil {
			t.Fatal(err)
		}
		defer em.ResetFaults()
		r := callApp(t, api, ada)
		if ae := appError(t, r); r.status != 401 || ae.Reason() != wire.AppsReasonTokenExpired || !strings.Contains(ae.Message, "expired") {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
	})
	t.Run("missing scopes named in the error", func(t *testing.T) {
		r := callApp(t, sqlApp, ada)
		ae := appError(t, r)
		info, ok := ae.Info()
		if !ok || info.Metadata[wire.AppsMetaMissingScopes] != "sql" || info.Metadata[wire.AppsMetaApp] != "sales-sql" {
			t.Fatalf("ErrorInfo = %+v", info)
		}
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="sql"`) {
			t.Fatalf("WWW-Authenticate = %q", ch)
		}
	})
	t.Run("404 route the app does not define", func(t *testing.T) {
		r := callApp(t, em.AppURL("sales-api")+"/api/nothing-here", ada)
		if r.status != 404 || !strings.Contains(string(r.body), "no route") {
			t.Fatalf("undefined route: %d %s", r.status, r.body)
		}
	})
	t.Run("basic credentials are not a bearer token", func(t *testing.T) {
		r := callApp(t, api, "", "Authorization", "Basic "+testkit.EmbedderID)
		if ae := appError(t, r); r.status != 401 || ae.Reason() != wire.AppsReasonTokenMissing {
			t.Fatalf("basic: %d %s", r.status, r.body)
		}
	})
}

// What the app receives: the proxy's identity headers, never the client's,
// and the user's token only with user authorization.
func TestAppsForwardedHeaders(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	tr := userToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, "all-apis sql")
	spoof := []string{"X-Forwarded-Email", "root@example.com", "X-Forwarded-User", "0@0", "X-Forwarded-Access-Token", "forged", "X-Request-Id", "mine"}

	r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tr.AccessToken, spoof...)
	var who emulator.AppWhoAmI
	r.json(t, &who)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if r.status != 200 || who.App != "sales-api" || who.Email != testkit.WorkspaceAda.Email || who.User != testkit.WorkspaceAda.ID+"@"+testkit.WorkspaceID ||
		who.PreferredUsername != "Ada Lovelace" || who.RealIP != "127.0.0.1" || !uuid.MatchString(who.RequestID) ||
		r.header.Get("X-Request-Id") != who.RequestID || who.ForwardedHost != strings.TrimPrefix(em.AppURL("sales-api"), "http://") {
		t.Fatalf("whoami: %d %s", r.status, r.body)
	}
	if who.UserAuthorization || who.AccessTokenForwarded {
		t.Fatalf("an app without user authorization got the token: %s", r.body)
	}

	r = callApp(t, em.AppURL("sales-sql")+"/api/whoami", tr.AccessToken, spoof...)
	who = emulator.AppWhoAmI{}
	r.json(t, &who)
	if r.status != 200 || !who.UserAuthorization || !who.AccessTokenForwarded || !slices.Contains(who.AccessTokenScopes, "sql") || who.Email != testkit.WorkspaceAda.Email {
		t.Fatalf("user authorization whoami: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), tr.AccessToken) || strings.Contains(string(r.body), "forged") {
		t.Fatal("whoami echoes a token")
	}
	if who.RequestID == "mine" {
		t.Fatal("the client chose X-Request-Id")
	}
}

// An external program (M2M) and an app calling another app: a service
// principal's client_credentials token with CAN USE.
func TestAppsM2M(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	tok := m2mToken(t, em, testkit.EmbedderID, testkit.EmbedderSecret, "all-apis")

	r := callApp(t, em.AppURL("sales-api")+"/api/whoami", tok)
	var who emulator.AppWhoAmI
	r.json(t, &who)
	if r.status != 200 || who.Email != testkit.EmbedderID || who.User != testkit.EmbedderID+"@"+testkit.WorkspaceID || who.PreferredUsername != "embedlab-embedder" {
		t.Fatalf("M2M whoami: %d %s", r.status, r.body)
	}

	r = callApp(t, em.AppURL("sales-api")+"/api/sales", tok)
	var all emulator.AppSales
	r.json(t, &all)
	if r.status != 200 || len(all.Rows) != 3 || all.Rows[0].Region != "AMER" || all.Rows[0].Revenue <= 0 || all.RunAs != "app service principal" {
		t.Fatalf("sales: %d %s", r.status, r.body)
	}
	r = callApp(t, em.AppURL("sales-api")+"/api/sales?region=EMEA", tok)
	var emea emulator.AppSales
	r.json(t, &emea)
	if r.status != 200 || emea.Region != "EMEA" || len(emea.Rows) != 12 || emea.Rows[0].Month != "2025-01" || emea.Rows[0].Region != "EMEA" {
		t.Fatalf("sales EMEA: %d %s", r.status, r.body)
	}
	var sum float64
	for _, row := range emea.Rows {
		sum += row.Revenue
	}
	if d := sum - all.Rows[2].Revenue; d > 1 || d < -1 {
		t.Fatalf("EMEA months add up to %.2f, the total says %.2f", sum, all.Rows[2].Revenue)
	}
	r = callApp(t, em.AppURL("sales-api")+"/api/sales?region="+url.QueryEscape("EMEA' OR '1'='1"), tok)
	if r.status != 400 || !strings.Contains(string(r.body), "unknown region") {
		t.Fatalf("bad region: %d %s", r.status, r.body)
	}

	// The app with user authorization accepts a service principal's token
	// that carries its scope.
	sqlTok := m2mToken(t, em, testkit.EmbedderID, testkit.EmbedderSecret, "sql")
	r = callApp(t, em.AppURL("sales-sql")+"/api/sales?region=APAC", sqlTok)
	var apac emulator.AppSales
	r.json(t, &apac)
	if r.status != 200 || apac.RunAs != "user "+testkit.EmbedderID || len(apac.Rows) != 12 {
		t.Fatalf("M2M with sql on the user-authorization app: %d %s", r.status, r.body)
	}
}

// An app with user authorization needs its scopes in the token.
func TestAppsUserAuthorizationScopes(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	cases := []struct {
		scope  string
		app    string
		status int
		reason string
	}{
		{"sql", "sales-sql", 200, ""},
		{"offline_access all-apis sql", "sales-sql", 200, ""},
		{"offline_access all-apis", "sales-sql", 401, wire.AppsReasonMissingAppScopes},
		{"file.files dashboards.genie", "sales-sql", 401, wire.AppsReasonMissingAppScopes},
		{"sql", "sales-api", 403, wire.AppsReasonInsufficientScope},
		{"all-apis", "sales-api", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.app+" with "+tc.scope, func(t *testing.T) {
			tok := userToken(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, tc.scope).AccessToken
			r := callApp(t, em.AppURL(tc.app)+"/api/sales", tok)
			if r.status != tc.status {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if tc.reason != "" {
				if ae := appError(t, r); ae.Reason() != tc.reason {
					t.Fatalf("reason %s, want %s", ae.Reason(), tc.reason)
				}
				return
			}
			var s emulator.AppSales
			r.json(t, &s)
			want := "app service principal"
			if tc.app == "sales-sql" {
				want = "user " + testkit.WorkspaceAda.Email
			}
			if s.RunAs != want || len(s.Rows) != 3 {
				t.Fatalf("sales = %+v", s)
			}
		})
	}
}

// A browser without a token is sent to the login page, and comes back
// signed in to the app.
func TestAppsBrowserSignIn(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	b := newAgent(t)
	appURL := em.AppURL("sales-sql")

	login := location(t, b.open(appURL+"/api/whoami"))
	q := login.Query()
	if login.Scheme+"://"+login.Host+login.Path != em.URL()+wire.PathAuthorize || q.Get("client_id") != "databricks-apps-sales-sql" ||
		q.Get("redirect_uri") != appURL+"/.auth/callback" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "sql" || q.Get("state") == "" {
		t.Fatalf("login redirect = %s", login)
	}
	// An API client without a token gets 401, not a redirect.
	if r := callApp(t, appURL+"/api/whoami", ""); r.status != 401 {
		t.Fatalf("API call without a token: %d", r.status)
	}

	callback := b.signIn(login.String(), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
	if !strings.HasPrefix(callback.String(), appURL+"/.auth/callback?") {
		t.Fatalf("back to %s", callback)
	}
	r := b.open(callback.String())
	if back := location(t, r); back.String() != "/api/whoami" {
		t.Fatalf("after the callback: %s", back)
	}
	for _, e := range em.Requests(0) {
		if e.Path == "/.auth/callback" && strings.Contains(e.Query, callback.Query().Get("code")) {
			t.Fatalf("the request log holds the code: %s", e.Query)
		}
	}
	r = b.open(appURL + "/api/whoami")
	var who emulator.AppWhoAmI
	r.json(t, &who)
	if r.status != 200 || who.Email != testkit.WorkspaceAda.Email || !who.AccessTokenForwarded || !slices.Contains(who.AccessTokenScopes, "sql") {
		t.Fatalf("signed-in whoami: %d %s", r.status, r.body)
	}
	r = b.open(appURL + "/")
	if r.status != 200 || !strings.Contains(string(r.body), "Signed in as <strong>Ada Lovelace</strong>") {
		t.Fatalf("app page: %d %s", r.status, r.body)
	}
	// The session is the app's: another app asks for a sign-in again (the
	// workspace remembers the user, so only consent).
	other := location(t, b.open(em.AppURL("sales-api")+"/"))
	if other.Query().Get("client_id") != "databricks-apps-sales-api" || other.Query().Get("scope") != "iam.current-user:read" {
		t.Fatalf("second app: %s", other)
	}
	if page := b.open(other.String()); !strings.Contains(string(page.body), `id="signed-in"`) {
		t.Fatalf("the workspace forgot the sign-in: %s", page.body)
	}

	t.Run("a user without CAN USE signs in and is refused", func(t *testing.T) {
		gb := newAgent(t)
		login := location(t, gb.open(em.AppURL("sales-api")+"/api/whoami"))
		r := gb.open(gb.signIn(login.String(), testkit.WorkspaceGrace.Email, testkit.WorkspaceGrace.Password).String())
		r = gb.open(em.AppURL("sales-api") + location(t, r).String())
		if ae := appError(t, r); r.status != 403 || ae.Reason() != wire.AppsReasonNoCanUse {
			t.Fatalf("grace: %d %s", r.status, r.body)
		}
	})
	t.Run("a forged callback is refused", func(t *testing.T) {
		r := newAgent(t).open(appURL + "/.auth/callback?code=x&state=y")
		if r.status != 400 || !strings.Contains(string(r.body), "not started in this browser") {
			t.Fatalf("forged callback: %d %s", r.status, r.body)
		}
	})
	t.Run("a denied sign-in ends on the app's error page", func(t *testing.T) {
		db := newAgent(t)
		login := location(t, db.open(appURL+"/"))
		f := formFields(t, db.open(login.String()))
		f.Set("action", "deny")
		back := location(t, db.post(em.URL()+wire.PathAuthorize, f))
		r := db.open(back.String())
		if r.status != 401 || !strings.Contains(string(r.body), "access_denied") {
			t.Fatalf("denied: %d %s", r.status, r.body)
		}
	})
}

// Calls are in the request log (with the app) and the audit log; neither
// holds a token.
func TestAppsLogs(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	tok := m2mToken(t, em, testkit.EmbedderID, testkit.EmbedderSecret, "all-apis")
	noAccess := m2mToken(t, em, testkit.NoAccessID, testkit.NoAccessSecret, "all-apis")
	callApp(t, em.AppURL("sales-api")+"/api/whoami", tok)
	callApp(t, em.AppURL("sales-api")+"/api/whoami", noAccess)
	callApp(t, em.AppURL("sales-archive")+"/api/whoami", tok)

	var calls []emulator.RequestEntry
	for _, e := range em.Requests(0) {
		if e.App != "" {
			calls = append(calls, e)
		}
	}
	if len(calls) != 3 || calls[0].Status != 200 || calls[0].Principal != testkit.EmbedderID || calls[1].Status != 403 || calls[1].Error != wire.AppsReasonNoCanUse ||
		calls[2].App != "sales-archive" || calls[2].Status != 404 || calls[0].Path != "/api/whoami" {
		t.Fatalf("request log: %+v", calls)
	}
	var audit []emulator.AuditEntry
	for _, a := range em.Audit(0) {
		if a.Action == "app_call" {
			audit = append(audit, a)
		}
	}
	if len(audit) != 3 || audit[0].App != "sales-api" || audit[0].Principal != testkit.EmbedderID || audit[0].Status != 200 || audit[0].RequestID == "" ||
		audit[0].TokenID == "" || audit[1].Status != 403 || audit[1].Principal != testkit.NoAccessID || audit[2].Status != 404 {
		t.Fatalf("audit log: %+v", audit)
	}
	b, _ := json.Marshal(map[string]any{"requests": em.Requests(0), "audit": em.Audit(0)})
	if strings.Contains(string(b), tok) || strings.Contains(string(b), noAccess) {
		t.Fatal("a log holds a token")
	}
	// Over HTTP as well.
	r := get(t, em.URL()+"/emulator/audit", "")
	if r.status != 200 || !strings.Contains(string(r.body), `"action":"app_call"`) {
		t.Fatalf("audit over HTTP: %d %s", r.status, r.body)
	}
}

// Update changes apps live: stop one, take CAN USE away, change scopes.
func TestAppsUpdate(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	tok := m2mToken(t, em, testkit.EmbedderID, testkit.EmbedderSecret, "all-apis")
	u := em.AppURL("sales-api") + "/api/whoami"
	if r := callApp(t, u, tok); r.status != 200 {
		t.Fatalf("before: %d", r.status)
	}
	must := func(f func(*emulator.State)) {
		t.Helper()
		if err := em.Update(f); err != nil {
			t.Fatal(err)
		}
	}
	must(func(s *emulator.State) { s.Apps[0].Status = emulator.AppStopped })
	if r := callApp(t, u, tok); r.status != 404 {
		t.Fatalf("stopped: %d", r.status)
	}
	must(func(s *emulator.State) {
		s.Apps[0].Status = emulator.AppRunning
		s.Apps[0].CanUse = []string{testkit.WorkspaceAda.Email}
	})
	if r := callApp(t, u, tok); r.status != 403 {
		t.Fatalf("CAN USE removed: %d", r.status)
	}
	must(func(s *emulator.State) {
		s.Apps[0].CanUse = []string{testkit.EmbedderID}
		s.Apps[0].UserAPIScopes = []string{"file.files"}
	})
	if r := callApp(t, u, tok); r.status != 401 {
		t.Fatalf("user authorization turned on: %d", r.status)
	}
	must(func(s *emulator.State) {
		s.Apps = append(s.Apps, emulator.App{Name: "new-app", Status: emulator.AppRunning, CanUse: []string{testkit.EmbedderID}})
	})
	if r := callApp(t, em.AppURL("new-app")+"/api/whoami", tok); r.status != 200 {
		t.Fatalf("new app: %d %s", r.status, r.body)
	}
	for name, f := range map[string]func(*emulator.State){
		"unknown principal": func(s *emulator.State) { s.Apps[0].CanUse = []string{"nobody@example.com"} },
		"bad name":          func(s *emulator.State) { s.Apps[0].Name = "Sales API" },
		"bad status":        func(s *emulator.State) { s.Apps[0].Status = "running" },
		"bad scope":         func(s *emulator.State) { s.Apps[0].UserAPIScopes = []string{"root"} },
		"duplicate":         func(s *emulator.State) { s.Apps = append(s.Apps, s.Apps[0]) },
	} {
		if err := em.Update(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The oauth2 library's own PKCE helpers and the app URL work together as
// the backend's U2M source will: AuthCodeURL, a browser, Exchange, a call.
func TestAppsU2MEndToEnd(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	cfg := oauth2.Config{
		ClientID:    testkit.CLIClient,
		Endpoint:    oauth2.Endpoint{AuthURL: em.URL() + wire.PathAuthorize, TokenURL: em.URL() + wire.PathToken, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://localhost:8040",
		Scopes:      []string{"offline_access", "sql"},
	}
	verifier := oauth2.GenerateVerifier()
	code := newAgent(t).code(cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)), testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &oauth2.Transport{Source: cfg.TokenSource(context.Background(), tok), Base: emulator.AppsTransport()}}
	res, err := client.Get(em.AppURL("sales-sql") + "/api/sales?region=AMER")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s emulator.AppSales
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil || res.StatusCode != 200 || s.RunAs != "user "+testkit.WorkspaceAda.Email || len(s.Rows) != 12 {
		t.Fatalf("%d %+v %v", res.StatusCode, s, err)
	}
}
