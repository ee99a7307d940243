//go:build !noemulator

package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/testkit"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// Token federation through the Call an app API of `embedlab serve` with
// the emulator: its identity provider's users and workloads are offered,
// exchanged, or sent as is. Everyone may use their own identity; others'
// need the role server-identities (admin has it; issue 16, F2).
func TestFederationThroughTheAPI(t *testing.T) {
	app, _ := startServe(t, nil)
	b := testkit.SignedIn(t, app, testkit.Admin)

	var ov api.AppsOverview
	body := b.Do(http.MethodGet, api.PathApps, nil).Body
	if err := json.Unmarshal(body, &ov); err != nil {
		t.Fatal(err)
	}
	available := map[string]bool{}
	for _, src := range ov.Sources {
		available[src.ID] = src.Available
	}
	if !available[api.SourceFederated] || !available[api.SourceIdPDirect] {
		t.Fatalf("federation sources: %s", body)
	}
	ids := map[string]bool{}
	for _, id := range ov.Identities {
		ids[id.ID] = true
	}
	for _, want := range []string{"ada@example.com", "linus@example.com", "embedlab-ci-main", "embedlab-ci-branch"} {
		if !ids[want] {
			t.Errorf("identity %s not offered: %s", want, body)
		}
	}
	if strings.Contains(string(body), "demo-pass") || strings.Contains(string(body), "dosedemo0") {
		t.Fatalf("the overview holds a password or secret: %s", body)
	}
	var whoami string
	for _, a := range ov.Apps {
		if a.Name == "sales-api" {
			whoami = a.URL + "/api/whoami"
		}
	}

	call := func(req api.AppCallRequest, wantStatus int) (api.AppCallResult, string) {
		t.Helper()
		req.URL = whoami
		got := b.Do(http.MethodPost, api.PathAppsCall, req)
		var r api.AppCallResult
		_ = json.Unmarshal(got.Body, &r)
		if got.Status != wantStatus {
			t.Fatalf("call %+v: %d %s", req, got.Status, got.Body)
		}
		if strings.Contains(string(got.Body), "eyJ") {
			t.Fatalf("a token reached the browser: %s", got.Body)
		}
		return r, string(got.Body)
	}
	if r, _ := call(api.AppCallRequest{Source: api.SourceFederated}, 200); r.Status != 200 || r.Claims == nil || r.Claims.Subject != "7001" {
		t.Fatalf("federated, first identity: %+v", r)
	}
	if r, _ := call(api.AppCallRequest{Source: api.SourceFederated, Identity: "embedlab-ci-main"}, 200); r.Status != 200 || r.Claims.Subject != testkit.EmbedderID {
		t.Fatalf("federated workload: %+v", r)
	}
	if r, _ := call(api.AppCallRequest{Source: api.SourceIdPDirect, Identity: "ada@example.com"}, 200); r.Status != 401 ||
		r.Diagnosis.Reason != wire.AppsReasonIdPTokenNotExchanged || !strings.Contains(r.Diagnosis.Fix, "token federation") {
		t.Fatalf("idp-direct: %+v", r)
	}
	// Refused exchanges: no call is made; the problem says why and how to
	// fix it (for an unknown user: add the user, not "issuer and audience").
	if _, body := call(api.AppCallRequest{Source: api.SourceFederated, Identity: "linus@example.com"}, http.StatusBadGateway); !strings.Contains(body, "user not found") ||
		!strings.Contains(body, "not a user of this workspace") || strings.Contains(body, "audience") {
		t.Fatalf("linus: %s", body)
	}
	if _, body := call(api.AppCallRequest{Source: api.SourceFederated, Identity: "embedlab-ci-branch"}, http.StatusBadGateway); !strings.Contains(body, "wrong subject") {
		t.Fatalf("branch workload: %s", body)
	}
	if _, body := call(api.AppCallRequest{Source: api.SourceFederated, Identity: "mallory"}, http.StatusBadRequest); !strings.Contains(body, "identity") {
		t.Fatalf("unknown identity: %s", body)
	}

	// ada, without the role: only her own identity is offered and accepted.
	b = testkit.SignedIn(t, app, testkit.Ada)
	body = b.Do(http.MethodGet, api.PathApps, nil).Body
	ov = api.AppsOverview{}
	if err := json.Unmarshal(body, &ov); err != nil || len(ov.Identities) != 1 || ov.Identities[0].ID != "ada@example.com" {
		t.Fatalf("ada's identities: %s", body)
	}
	if r, _ := call(api.AppCallRequest{Source: api.SourceFederated}, 200); r.Status != 200 || r.Claims.Subject != "7001" {
		t.Fatalf("ada as herself: %+v", r)
	}
	for _, id := range []string{"grace@example.com", "embedlab-ci-main"} {
		for _, src := range []string{api.SourceFederated, api.SourceIdPDirect} {
			if _, body := call(api.AppCallRequest{Source: src, Identity: id}, http.StatusForbidden); !strings.Contains(body, "needs the role server-identities") {
				t.Fatalf("ada as %s (%s): %s", id, src, body)
			}
		}
	}
	// nobody has no identity of their own: both sources are greyed out, naming the role.
	b = testkit.SignedIn(t, app, testkit.Nobody)
	body = b.Do(http.MethodGet, api.PathApps, nil).Body
	ov = api.AppsOverview{}
	_ = json.Unmarshal(body, &ov)
	for _, s := range ov.Sources {
		if (s.ID == api.SourceFederated || s.ID == api.SourceIdPDirect) && (s.Available || !strings.Contains(s.Problem, "server-identities")) {
			t.Fatalf("nobody's %s: %+v", s.ID, s)
		}
	}
	if _, body := call(api.AppCallRequest{Source: api.SourceFederated, Identity: "ada@example.com"}, http.StatusForbidden); !strings.Contains(body, "role_required") {
		t.Fatalf("nobody as ada: %s", body)
	}
}
