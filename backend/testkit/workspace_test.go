package testkit_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

func TestWorkspaceIdentitiesAreTheBundledOnes(t *testing.T) {
	st := testkit.Emulator(t, emulator.Options{}).Snapshot()
	if st.WorkspaceID != testkit.WorkspaceID {
		t.Errorf("workspace id %s, testkit says %s", st.WorkspaceID, testkit.WorkspaceID)
	}
	for _, u := range []testkit.WorkspaceUser{testkit.WorkspaceAda, testkit.WorkspaceGrace} {
		if !slices.ContainsFunc(st.Users, func(w emulator.User) bool {
			return w.ID == u.ID && w.UserName == u.Email && w.Password == u.Password
		}) {
			t.Errorf("the bundled workspace has no user %+v", u)
		}
	}
	if st.IdentityProvider == nil {
		t.Fatal("the bundled workspace has no identity provider")
	}
	for _, u := range []testkit.WorkspaceUser{testkit.WorkspaceAda, testkit.WorkspaceGrace, testkit.IdPLinus} {
		if !slices.ContainsFunc(st.IdentityProvider.Users, func(i emulator.IdPUser) bool { return i.Email == u.Email && i.Password == u.Password }) {
			t.Errorf("the identity provider has no user %+v", u)
		}
	}
	if slices.ContainsFunc(st.Users, func(w emulator.User) bool { return w.UserName == testkit.IdPLinus.Email }) {
		t.Error("IdPLinus is a user of the workspace")
	}
	for _, w := range []testkit.Workload{testkit.CIMain, testkit.CIBranch} {
		if !slices.ContainsFunc(st.IdentityProvider.Workloads, func(i emulator.IdPWorkload) bool {
			return i.ClientID == w.ClientID && i.Secret == w.Secret && i.Subject == w.Subject
		}) {
			t.Errorf("the identity provider has no workload %+v", w)
		}
	}
	if !slices.ContainsFunc(st.OAuthClients, func(c emulator.OAuthClient) bool {
		return c.ClientID == testkit.CLIClient && len(c.RedirectURIs) > 0 && c.RedirectURIs[0] == testkit.CLIRedirect
	}) {
		t.Errorf("the bundled workspace has no client %s redirecting first to %s", testkit.CLIClient, testkit.CLIRedirect)
	}
}

// ExchangeCalls counts the token endpoint's calls, refused ones too, and
// tokeninfo's, and no other route's.
func TestExchangeCallsCountsTokenAndTokenInfo(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	get := func(u string, auth func(*http.Request)) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		auth(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	get(em.URL()+wire.PathOIDCDiscovery, func(*http.Request) {})
	if n := testkit.ExchangeCalls(em); n != 0 {
		t.Fatalf("after discovery: %d calls, want 0", n)
	}
	for _, secret := range []string{testkit.EmbedderSecret, "dosewrongwrongwrongwrong"} {
		req, _ := http.NewRequest(http.MethodPost, em.URL()+wire.PathToken,
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testkit.EmbedderID, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	get(em.URL()+wire.TokenInfoPath(testkit.DashboardID), func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") })
	if n := testkit.ExchangeCalls(em); n != 3 {
		t.Fatalf("after two token calls and a tokeninfo: %d calls, want 3", n)
	}
}
