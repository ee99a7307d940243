package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

func TestFaultSwitchOverHTTP(t *testing.T) {
	em := start(t)
	broad := spToken(t, em)

	r := adminJSON(t, em, http.MethodPost, em.URL()+"/emulator/faults", `{"endpoint":"tokeninfo","status":503,"count":2,"retry_after_seconds":3}`)
	if r.status != http.StatusCreated {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	for i := 0; i < 2; i++ {
		r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), broad)
		var ae wire.APIError
		r.json(t, &ae)
		if r.status != 503 || ae.ErrorCode != "TEMPORARILY_UNAVAILABLE" || r.header.Get("Retry-After") != "3" {
			t.Fatalf("call %d: %d %s Retry-After=%q", i, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	if r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), broad); r.status != 200 {
		t.Fatalf("after the faults: %d %s", r.status, r.body)
	}

	// Token endpoint faults answer in the OAuth style.
	adminJSON(t, em, http.MethodPost, em.URL()+"/emulator/faults", `{"endpoint":"token","status":500,"count":1}`)
	r = postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var oe wire.OAuthError
	r.json(t, &oe)
	if r.status != 500 || oe.Code != "server_error" {
		t.Fatalf("token fault: %d %s", r.status, r.body)
	}
	// A 429 fault is the workspace's rate-limit answer.
	adminJSON(t, em, http.MethodPost, em.URL()+"/emulator/faults", `{"endpoint":"token","status":429,"count":1}`)
	r = postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("429 fault: %d %s", r.status, r.body)
	}

	// GET lists pending faults; DELETE clears them.
	adminJSON(t, em, http.MethodPost, em.URL()+"/emulator/faults", `{"endpoint":"token","status":502,"count":5}`)
	var fs emulator.FaultState
	get(t, em.URL()+"/emulator/faults", "").json(t, &fs)
	if len(fs.Pending) != 1 || fs.Pending[0].Count != 5 {
		t.Fatalf("pending = %+v", fs.Pending)
	}
	req, _ := http.NewRequest(http.MethodDelete, em.URL()+"/emulator/faults", nil)
	req.Header.Set("Authorization", "Bearer "+em.AdminKey())
	do(t, req).json(t, &fs)
	if len(fs.Pending) != 0 {
		t.Fatalf("after reset: %+v", fs)
	}
	spToken(t, em)
}

func TestFaultSwitchRefusesBadInput(t *testing.T) {
	em := start(t)
	cases := []struct{ name, method, path, contentType, body, want string }{
		{"form post", "POST", "/emulator/faults", "application/x-www-form-urlencoded", "endpoint=token", "Content-Type must be application/json"},
		{"broken JSON", "POST", "/emulator/faults", "application/json", `{"endpoint":`, "not the expected JSON"},
		{"unknown field", "POST", "/emulator/faults", "application/json", `{"endpoint":"token","count":1,"status":500,"colour":"red"}`, "unknown field"},
		{"unknown endpoint", "POST", "/emulator/faults", "application/json", `{"endpoint":"keys","count":1,"status":500}`, `endpoint "keys"`},
		{"no count", "POST", "/emulator/faults", "application/json", `{"endpoint":"token","status":500}`, "count 0"},
		{"success status", "POST", "/emulator/faults", "application/json", `{"endpoint":"token","count":1,"status":200}`, "status 200"},
		{"nothing to do", "POST", "/emulator/faults", "application/json", `{"endpoint":"token","count":1}`, "needs a status"},
		{"skew too large", "PUT", "/emulator/clock", "application/json", `{"skew_seconds":999999}`, "within a day"},
		{"lifetime too short", "PUT", "/emulator/token-lifetime", "application/json", `{"seconds":1}`, "between 10s and 24h"},
		{"rate missing", "PUT", "/emulator/rate-limit", "application/json", `{}`, "per_second is required"},
		{"rate negative", "PUT", "/emulator/rate-limit", "application/json", `{"per_second":-1}`, "between 0"},
		{"huge body", "POST", "/emulator/faults", "application/json", `{"endpoint":"` + strings.Repeat("x", 100<<10) + `"}`, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, em.URL()+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("Authorization", "Bearer "+em.AdminKey())
			r := do(t, req)
			var ae wire.APIError
			r.json(t, &ae)
			if r.status < 400 || r.status > 499 || !strings.Contains(ae.Message, tc.want) {
				t.Fatalf("got %d %+v, want a 4xx containing %q", r.status, ae, tc.want)
			}
		})
	}
	var fs emulator.FaultState
	get(t, em.URL()+"/emulator/faults", "").json(t, &fs)
	if len(fs.Pending) != 0 || fs.ClockSkewSeconds != 0 || fs.TokenLifetimeSeconds != 3600 {
		t.Fatalf("refused input changed the state: %+v", fs)
	}
}

func TestDelayFaultStallsTheCall(t *testing.T) {
	em := start(t)
	if err := em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, DelayMS: 300, Count: 1}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	spToken(t, em) // a delay without a status still succeeds
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Fatalf("delayed call returned after %s", d)
	}
}

// A client that gives up on a delayed token call frees it: the emulator
// then shuts down at once instead of sleeping out the delay.
func TestDelayFaultEndsWhenTheClientLeaves(t *testing.T) {
	em := start(t)
	if err := em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, DelayMS: 60000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, em.URL()+wire.PathToken,
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testkit.EmbedderID, testkit.EmbedderSecret)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the delayed call answered %d", res.StatusCode)
	}
	began := time.Now()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := em.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v after %s", err, time.Since(began))
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("shutdown took %s: the abandoned call was still sleeping", d)
	}
}

func TestClockSkewAndLifetimeOverHTTP(t *testing.T) {
	em := start(t)
	if r := adminJSON(t, em, http.MethodPut, em.URL()+"/emulator/token-lifetime", `{"seconds":120}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := adminJSON(t, em, http.MethodPut, em.URL()+"/emulator/clock", `{"skew_seconds":600}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	c := verifyWithJWKS(t, em, tr.AccessToken)
	if tr.ExpiresIn != 120 || c.ExpiresAt-c.IssuedAt != 120 {
		t.Fatalf("expires_in %d, exp-iat %d; want 120", tr.ExpiresIn, c.ExpiresAt-c.IssuedAt)
	}
	if skew := c.IssuedAt - time.Now().Unix(); skew < 590 || skew > 610 {
		t.Fatalf("iat is %d s from now, want about 600", skew)
	}
}

func TestRateLimitOnTokenInfo(t *testing.T) {
	em := start(t)
	broad := spToken(t, em)
	if r := adminJSON(t, em, http.MethodPut, em.URL()+"/emulator/rate-limit", `{"per_second":2}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var limited *response
	for i := 0; i < 10 && limited == nil; i++ {
		if r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), broad); r.status == http.StatusTooManyRequests {
			limited = &r
		} else if r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	if limited == nil {
		t.Fatal("10 calls at once passed a limit of 2 per second")
	}
	var ae wire.APIError
	limited.json(t, &ae)
	if ae.ErrorCode != "REQUEST_LIMIT_EXCEEDED" || limited.header.Get("Retry-After") == "" {
		t.Fatalf("429 answer: %+v Retry-After=%q", ae, limited.header.Get("Retry-After"))
	}
	// Off again: no call is limited.
	adminJSON(t, em, http.MethodPut, em.URL()+"/emulator/rate-limit", `{"per_second":0}`)
	for i := 0; i < 50; i++ {
		if r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), broad); r.status != 200 {
			t.Fatalf("with the limit off, call %d: %d", i, r.status)
		}
	}
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	em := start(t)
	before := spToken(t, em)
	r := adminJSON(t, em, http.MethodPost, em.URL()+"/emulator/rotate-keys", `{}`)
	var rot map[string]string
	r.json(t, &rot)
	after := spToken(t, em)
	var set wire.JWKS
	get(t, em.URL()+wire.PathKeys, "").json(t, &set)
	if len(set.Keys) != 2 || set.Keys[0].Kid != rot["kid"] {
		t.Fatalf("JWKS after rotation = %+v, new kid %q", set, rot["kid"])
	}
	for _, tok := range []string{before, after} {
		verifyWithJWKS(t, em, tok)
		if r := get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), tok); r.status != 200 {
			t.Fatalf("token refused after rotation: %d %s", r.status, r.body)
		}
	}
	// Two rotations retire the first key: its tokens are refused.
	em.RotateKeys()
	r = get(t, tokenInfoURL(em, testkit.DashboardID, "v1", "EMEA"), before)
	if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "does not publish") {
		t.Fatalf("token of a retired key: %d %s", r.status, r.body)
	}
}

func TestRequestLogRedactsCredentials(t *testing.T) {
	em := start(t)
	broad := spToken(t, em)
	tokenInfo(t, em, broad, "viewer-emea", "EMEA")
	postForm(t, em, testkit.EmbedderID, "dose-wrong-secret-value", url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})

	var page struct {
		Entries []emulator.RequestEntry `json:"entries"`
		Next    int64                   `json:"next"`
	}
	r := get(t, em.URL()+"/emulator/requests?since=0", "")
	r.json(t, &page)
	if len(page.Entries) != 3 {
		t.Fatalf("%d entries, want 3: %s", len(page.Entries), r.body)
	}
	ti := page.Entries[1]
	if ti.Method != "GET" || !strings.HasSuffix(ti.Path, "/published/tokeninfo") || ti.Status != 200 || ti.Principal != testkit.EmbedderID ||
		ti.Authorization != "Bearer "+broad[:4]+"…"+broad[len(broad)-4:] {
		t.Fatalf("tokeninfo entry = %+v", ti)
	}
	if bad := page.Entries[2]; bad.Status != 401 || bad.Error != "invalid_client" || bad.Authorization != "Basic ****" {
		t.Fatalf("failed login entry = %+v", bad)
	}
	for _, secret := range []string{broad, testkit.EmbedderSecret, "dose-wrong-secret-value"} {
		if strings.Contains(string(r.body), secret) {
			t.Fatalf("request log holds a credential")
		}
	}
	// Paging: nothing after the last sequence number.
	get(t, em.URL()+"/emulator/requests?since="+jsonNumber(page.Next), "").json(t, &page)
	if len(page.Entries) != 0 {
		t.Fatalf("entries after next: %+v", page.Entries)
	}
	if r := get(t, em.URL()+"/emulator/requests?since=-1", ""); r.status != 400 {
		t.Fatalf("since=-1: %d", r.status)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUnknownPathsAnswerJSON404(t *testing.T) {
	em := start(t)
	for _, p := range []string{"/api/2.0/nothing", "/oidc/v1/unknown", "/api/2.0/lakeview/dashboards//published/tokeninfo"} {
		r := get(t, em.URL()+p, "")
		var ae wire.APIError
		r.json(t, &ae)
		if r.status != 404 || ae.ErrorCode == "" {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	if r := get(t, em.URL()+"/", ""); r.status != 200 || !strings.Contains(string(r.body), "workspace emulator") {
		t.Fatalf("index: %d", r.status)
	}
}

func TestOversizedHeaderIsRefused(t *testing.T) {
	em := start(t)
	req, _ := http.NewRequest(http.MethodGet, em.URL()+wire.PathKeys, nil)
	req.Header.Set("X-Pad", strings.Repeat("a", 64<<10))
	if r := do(t, req); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KB header: %d", r.status)
	}
}
