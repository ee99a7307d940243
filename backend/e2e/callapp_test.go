package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

// resultJS reads the answer panel: status, reason and the diagnosis text.
const resultJS = `(function(){var r=document.getElementById('call-result');if(!r)return '';
return r.getAttribute('data-status')+'|'+(document.getElementById('diagnosis').getAttribute('data-reason')||'')+'|'+document.getElementById('diagnosis').innerText;})()`

func (s *stack) send(t *testing.T, wantStatus string) string {
	t.Helper()
	before := s.eval(t, resultJS)
	if err := s.click(`#send`); err != nil {
		t.Fatal(err)
	}
	prev, _ := json.Marshal(before)
	s.wait(t, "the answer "+wantStatus, `(function(){var v=`+resultJS+`;return v!==`+string(prev)+`&&v.split('|')[0]==='`+wantStatus+`';})()`, 20*time.Second)
	return s.eval(t, resultJS)
}

func TestCallAnAppWithEachSourceAndU2MSignIn(t *testing.T) {
	s := newStack(t, options{})
	s.loginAs(t, testkit.Admin) // the server's identities need the role server-identities
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.open(t, "/call-app")
	s.wait(t, "the sources", `document.querySelectorAll('#sources .source').length >= 5`, 20*time.Second)

	// M2M, the embedder service principal, which has CAN USE on sales-api.
	if err := s.click(`button[data-app="sales-api"]`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "200"); !strings.Contains(got, "the app answered") {
		t.Errorf("m2m: %s", got)
	}
	if body := s.eval(t, `document.getElementById('result-body').innerText`); !strings.Contains(body, testkit.EmbedderID) {
		t.Errorf("whoami body does not name the service principal: %s", body)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-m2m-200")

	// A principal without CAN USE: 403, and the page says which row and the fix.
	if err := s.click(`#source-m2m-no-access`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "403"); !strings.Contains(got, "NO_CAN_USE") || !strings.Contains(got, "CAN USE on sales-api") {
		t.Errorf("no access: %s", got)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-no-can-use-403")

	// U2M with the sql scope: the workspace's own sign-in page, then back.
	if err := s.click(`#source-u2m`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the scope list", `!!document.getElementById('scope-sql')`, 5*time.Second)
	if err := chromedp.Do(s.ctx, chromedp.Click(chromedp.ID("scope-sql")), chromedp.Click(chromedp.ID("u2m-sign-in"))); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the workspace's sign-in page", `location.href.indexOf('`+s.em.URL()+`/oidc/v1/authorize') === 0 && !!document.getElementById('username')`, 20*time.Second)
	if scopes := s.eval(t, `document.getElementById('scopes').innerText`); !strings.Contains(scopes, "sql") {
		t.Errorf("the consent page does not list sql: %s", scopes)
	}
	browsertest.Screenshot(t, s.ctx, "emulator-authorize-consent")
	s.allowAtWorkspace(t, testkit.WorkspaceAda)
	s.wait(t, "back on Call an app, signed in", `location.pathname === '/call-app' && !!document.getElementById('u2m-status')`, 30*time.Second)
	if st := s.eval(t, `document.getElementById('u2m-status').innerText`); !strings.Contains(st, "sql") {
		t.Errorf("u2m status: %s", st)
	}
	if err := s.click(`button[data-app="sales-sql"]`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "200"); !strings.Contains(got, "the app answered") {
		t.Errorf("u2m with sql: %s", got)
	}
	if sc := s.eval(t, `document.querySelector('#result-claims [data-claim="scope"] td.value').innerText`); !strings.Contains(sc, "sql") {
		t.Errorf("the token's scope claim: %s", sc)
	}
	browsertest.Screenshot(t, s.ctx, "app-call-u2m-sql-200")

	// The stopped app: 404 with its own cause.
	if err := s.click(`button[data-app="sales-archive"]`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "404"); !strings.Contains(got, "APP_STOPPED") {
		t.Errorf("stopped app: %s", got)
	}

	// A crafted link cannot put words in the page's mouth: only known OAuth
	// codes are worded, by embedlab (issue 16, F7).
	s.open(t, "/call-app?u2m_error="+url.QueryEscape("Your account is locked: call +1-555-0100"))
	s.wait(t, "the notice in embedlab's words", `(function(){var n=document.getElementById('u2m-notice');
		return !!n && n.innerText.indexOf('555')<0 && n.innerText.indexOf('did not complete')>=0;})()`, 20*time.Second)
	s.open(t, "/call-app?u2m_error=access_denied")
	s.wait(t, "access_denied worded", `(function(){var n=document.getElementById('u2m-notice');
		return !!n && n.innerText.indexOf('declined')>=0;})()`, 20*time.Second)
}
