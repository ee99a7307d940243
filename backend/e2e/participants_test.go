package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// Two participants, each in their own browser context (own cookies), in
// one room: each page shows that participant's own service principal and
// secret; one's token turns only their own checkpoint green; the other's
// wrong attempt shows only on the other's page; the trainer's grid shows
// both as they are.
func TestTwoParticipantsInTwoBrowserContexts(t *testing.T) {
	a := newStack(t, options{timeout: labTimeout})
	ctxB, cancel := chromedp.NewContext(a.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	b := *a
	b.ctx = ctxB
	b.watch = watchLeaks(t, ctxB, b.secret) // the second browser's; a's watch reads the logs
	term := terminal{t: t, instance: a.em.URL()}

	creds := map[string][2]string{}
	for _, p := range []struct {
		s *stack
		u testkit.User
	}{{a, testkit.Ada}, {&b, testkit.Grace}} {
		p.s.loginAs(t, p.u)
		p.s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
		p.s.open(t, "/workshop")
		p.s.wait(t, "the exercises", `!!document.querySelector('#ex-sp-token button.start')`, 20*time.Second)
		p.s.exercise(t, "sp-token", "start", api.ExerciseStarted)
		text := p.s.eval(t, `document.querySelector('#ex-sp-token').innerText`)
		sp, sec := regexp.MustCompile(`SP=(\S+)`).FindStringSubmatch(text), regexp.MustCompile(`SECRET=(\S+)`).FindStringSubmatch(text)
		if sp == nil || sec == nil {
			t.Fatalf("%s's exercise shows no credentials:\n%s", p.u.Name, text)
		}
		creds[p.u.Name] = [2]string{sp[1], sec[1]}
	}
	if creds["ada"][0] == creds["grace"][0] || creds["ada"][1] == creds["grace"][1] {
		t.Fatalf("ada and grace share a service principal: %v", creds)
	}
	if strings.Contains(a.eval(t, `document.body.innerText`), creds["grace"][1]) {
		t.Fatal("ada's page shows grace's secret")
	}

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	if st, body := term.do(http.MethodPost, "/oidc/v1/token", form, creds["ada"][0], creds["ada"][1], ""); st != 200 {
		t.Fatalf("ada's token: %d %s", st, body)
	}
	if got := b.exercise(t, "sp-token", "check", api.ExerciseFailed); !strings.Contains(got, "No token was issued to "+creds["grace"][0]) {
		t.Fatalf("grace's check after ada's token:\n%s", got)
	}
	if st, _ := term.do(http.MethodPost, "/oidc/v1/token", form, creds["grace"][0], "not-graces-secret-at-all", ""); st != 401 {
		t.Fatalf("wrong secret: %d", st)
	}
	if got := a.exercise(t, "sp-token", "check", api.ExercisePassed); strings.Contains(got, "401") {
		t.Fatalf("ada's page shows grace's attempt:\n%s", got)
	}
	// Her state stays "failed": wait for the new hint, not the state.
	if err := b.click(`#ex-sp-token button.check`); err != nil {
		t.Fatal(err)
	}
	b.wait(t, "grace's hint for her own 401", `document.querySelector('#ex-sp-token .hint').innerText.indexOf('401 invalid_client')>=0`, 15*time.Second)

	// The trainer (in grace's browser, after she leaves) sees both.
	b.signOut(t)
	b.loginAs(t, testkit.Admin)
	b.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	b.open(t, "/trainer")
	b.wait(t, "ada green, grace red after 2 checks", `(function(){
		var a=document.querySelector('#participants tr[data-user="ada"] td.cell[data-exercise="sp-token"]');
		var g=document.querySelector('#participants tr[data-user="grace"] td.cell[data-exercise="sp-token"]');
		return !!a && !!g && a.classList.contains('passed') && g.classList.contains('failed') && g.dataset.attempts==='2' && g.title.indexOf('401')>=0;})()`, 20*time.Second)
	browsertest.Screenshot(t, b.ctx, "app-trainer-grid")
}
