package e2e

import (
	"strings"
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

// Token federation on the Call an app page: an identity provider's token
// exchanged first is accepted (200); the same token sent as is gets the
// 401, and the page explains the exchange.
func TestCallAnAppWithTokenFederation(t *testing.T) {
	s := newStack(t, options{})
	// federated signs in as u and picks sales-api and the federated
	// source on Call an app.
	federated := func(u testkit.User) {
		s.loginAs(t, u)
		s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
		s.open(t, "/call-app")
		s.wait(t, "the federation sources", `!!document.getElementById('source-federated') && !document.getElementById('source-federated').disabled`, 20*time.Second)
		for _, sel := range []string{`button[data-app="sales-api"]`, `#source-federated`} {
			if err := s.click(sel); err != nil {
				t.Fatal(err)
			}
		}
		s.wait(t, "the identity picker", `!!document.getElementById('identity')`, 5*time.Second)
	}

	// Ada's token from the identity provider, exchanged (account-wide).
	federated(testkit.Ada)
	if got := s.send(t, "200"); !strings.Contains(got, "the app answered") {
		t.Errorf("federated: %s", got)
	}
	if body := s.eval(t, `document.getElementById('result-body').innerText`); !strings.Contains(body, "ada@example.com") {
		t.Errorf("whoami does not name ada: %s", body)
	}
	if iss := s.eval(t, `document.querySelector('#result-claims [data-claim="iss"] td.value').innerText`); iss != s.em.URL()+"/oidc" {
		t.Errorf("the exchanged token's issuer: %q", iss)
	}
	if info := s.eval(t, `document.getElementById('call-result').innerText`); !strings.Contains(info, "token federation, account-wide") {
		t.Errorf("the answer does not say where the token came from: %s", info)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-federated-200")

	// The same identity provider token sent as is: 401, with the exchange
	// named as the fix.
	if err := s.click(`#source-idp-direct`); err != nil {
		t.Fatal(err)
	}
	got := s.send(t, "401")
	for _, want := range []string{"IDP_TOKEN_NOT_EXCHANGED", "identity provider " + s.em.IdPURL(), "Exchange it at /oidc/v1/token (token federation) first"} {
		if !strings.Contains(got, want) {
			t.Errorf("idp-direct: %q missing from %s", want, got)
		}
	}
	if iss := s.eval(t, `document.querySelector('#result-claims [data-claim="iss"] td.value').innerText`); iss != s.em.IdPURL() {
		t.Errorf("the IdP token's issuer: %q", iss)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-idp-direct-401")

	// ada may use her own identity only: the picker offers no other.
	if n := s.eval(t, `String(document.querySelectorAll('#identity option').length)`); n != "1" {
		t.Errorf("ada's identity picker offers %s identities, want her own only", n)
	}

	// A CI workload, exchanged for the embedder service principal
	// (workload identity federation): another identity than one's own, so
	// it needs the role server-identities (admin).
	s.signOut(t)
	federated(testkit.Admin)
	s.eval(t, `(function(){var e=document.getElementById('identity');e.value='embedlab-ci-main';e.dispatchEvent(new Event('change',{bubbles:true}));return ''})()`)
	s.wait(t, "the workload's description", `document.getElementById('identity-description').innerText.indexOf('workload identity federation') >= 0`, 5*time.Second)
	if got := s.send(t, "200"); !strings.Contains(got, "the app answered") {
		t.Errorf("workload: %s", got)
	}
	if body := s.eval(t, `document.getElementById('result-body').innerText`); !strings.Contains(body, testkit.EmbedderID) {
		t.Errorf("whoami does not name the service principal: %s", body)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-federated-workload-200")
}
