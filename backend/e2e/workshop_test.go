package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/lab"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// labTimeout bounds the browser session of the fault lab's and the
// workshop's tests, which go through many pages.
const labTimeout = 150 * time.Second

// toggle flips a fault lab toggle with its button and waits for the page
// to show the new state.
func (s *stack) toggle(t *testing.T, id string, on bool) {
	t.Helper()
	s.open(t, "/lab")
	s.wait(t, "the toggles", `document.querySelectorAll('#lab .toggle').length >= 8`, 20*time.Second)
	if err := s.click(`button[data-toggle="` + id + `"]`); err != nil {
		t.Fatal(err)
	}
	want := "false"
	if on {
		want = "true"
	}
	s.wait(t, id+" on="+want, `document.querySelector('#toggle-`+id+`').dataset.on === '`+want+`'`, 10*time.Second)
}

func TestFaultLabTogglesAreNamedOnTheDashboard(t *testing.T) {
	s := newStack(t, options{timeout: labTimeout})
	s.loginAs(t, testkit.Admin) // the toggles need the role trainer
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	// Working first: the token is cached, so each toggle must drop it.
	s.open(t, "/?viewer=viewer-emea")
	s.waitFrame(t, "dashboard-frame-main", "rows", ready, 30*time.Second)

	for _, c := range []struct{ toggle, code, words string }{
		{lab.RevokeSecret, api.CodeBadSecret, "refused the service principal's secret"},
		{lab.NoCanRun, api.CodeNoCanRun, "may not run this dashboard"},
		{lab.BlockOrigin, api.CodeOriginNotAllowed, "does not allow embedding from this origin"},
	} {
		s.toggle(t, c.toggle, true)
		if c.toggle == lab.BlockOrigin {
			browsertest.Screenshot(t, s.ctx, "app-lab-origin-blocked")
		}
		s.open(t, "/?viewer=viewer-emea")
		s.wait(t, "the diagnosis "+c.code, `(function(){var t=document.querySelector('#trouble');
			return !!t && t.dataset.code==='`+c.code+`' && t.innerText.indexOf("`+c.words+`")>=0;})()`, 30*time.Second)
		if c.toggle == lab.BlockOrigin {
			browsertest.Screenshot(t, s.ctx, "app-dashboard-origin-blocked")
		}
		s.toggle(t, c.toggle, false)
	}
	// Reset everything: the dashboard works again.
	s.toggle(t, lab.NoCanRun, true)
	if err := s.click(`#lab-reset`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "every toggle off", `document.querySelectorAll('#lab .toggle[data-on="true"]').length === 0 && !!document.querySelector('#lab-notice')`, 10*time.Second)
	s.open(t, "/?viewer=viewer-emea")
	s.waitFrame(t, "dashboard-frame-main", "rows after reset", ready, 30*time.Second)
}

// signOut signs out with the top bar's button, as a person would.
func (s *stack) signOut(t *testing.T) {
	t.Helper()
	if err := s.click(`#sign-out`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the login page", `location.pathname === '/login'`, 10*time.Second)
}

// terminal makes the requests a participant's curl would.
type terminal struct {
	t        *testing.T
	instance string
}

func (c terminal) do(method, path string, form url.Values, user, pass, bearer string) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.instance+path, body)
	req.Header.Set("User-Agent", "curl/8.5.0")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// exercise presses a button of an exercise and waits for its state.
func (s *stack) exercise(t *testing.T, id, button, state string) string {
	t.Helper()
	if err := s.click(`#ex-` + id + ` button.` + button); err != nil {
		t.Fatal(err)
	}
	s.wait(t, id+" "+state, `(function(){var e=document.querySelector('#ex-`+id+`');return !!e && e.dataset.state==='`+state+`' && !e.querySelector('button.check').disabled;})()`, 15*time.Second)
	return s.eval(t, `document.querySelector('#ex-`+id+`').innerText`)
}

func TestWorkshopExercisesTurnGreenAndTheTrainerSeesThem(t *testing.T) {
	s := newStack(t, options{timeout: labTimeout})
	dash, embedder, _, _ := s.em.Embedding()
	term := terminal{t: t, instance: s.em.URL()}
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.open(t, "/workshop")
	s.wait(t, "the exercises", `document.querySelectorAll('#workshop .exercise').length >= 6`, 20*time.Second)
	got := s.eval(t, `document.querySelector('#ex-sp-token').innerText`)
	if !strings.Contains(got, "curl -s -u") || !strings.Contains(got, s.em.URL()+"/oidc/v1/token") && !strings.Contains(got, "I="+s.em.URL()) {
		t.Fatalf("the commands are not templated with the emulator's URL:\n%s", got)
	}
	// ada's own service principal, as her exercise shows it: not the app's.
	sp, secret := regexp.MustCompile(`SP=(\S+)`).FindStringSubmatch(got), regexp.MustCompile(`SECRET=(\S+)`).FindStringSubmatch(got)
	if sp == nil || secret == nil || sp[1] == embedder {
		t.Fatalf("the exercise does not show ada's own service principal:\n%s", got)
	}

	// 1. The service principal token: a wrong secret stays red with a hint.
	s.exercise(t, "sp-token", "start", api.ExerciseStarted)
	tokenForm := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	if st, _ := term.do(http.MethodPost, "/oidc/v1/token", tokenForm, sp[1], "not-the-secret-at-all", ""); st != 401 {
		t.Fatalf("wrong secret: %d", st)
	}
	if got := s.exercise(t, "sp-token", "check", api.ExerciseFailed); !strings.Contains(got, "401 invalid_client") {
		t.Fatalf("red without the 401 hint:\n%s", got)
	}
	st, body := term.do(http.MethodPost, "/oidc/v1/token", tokenForm, sp[1], secret[1], "")
	if st != 200 {
		t.Fatalf("token: %d %s", st, body)
	}
	at := jsonField(t, body, "access_token")
	if got := s.exercise(t, "sp-token", "check", api.ExercisePassed); !strings.Contains(got, "Checkpoint met") {
		t.Fatalf("not green:\n%s", got)
	}

	// 2. tokeninfo for a new viewer: a bundled viewer stays red with its hint.
	s.exercise(t, "tokeninfo-new-viewer", "start", api.ExerciseStarted)
	info := "/api/2.0/lakeview/dashboards/" + dash + "/published/tokeninfo?"
	if st, _ := term.do(http.MethodGet, info+"external_viewer_id=viewer-emea&external_value=EMEA", nil, "", "", at); st != 200 {
		t.Fatalf("bundled viewer: %d", st)
	}
	if got := s.exercise(t, "tokeninfo-new-viewer", "check", api.ExerciseFailed); !strings.Contains(got, "but for a bundled viewer") {
		t.Fatalf("red without the bundled-viewer hint:\n%s", got)
	}
	st, infoBody := term.do(http.MethodGet, info+"external_viewer_id=partner-ada&external_value=APAC", nil, "", "", at)
	if st != 200 {
		t.Fatalf("tokeninfo: %d %s", st, infoBody)
	}
	s.exercise(t, "tokeninfo-new-viewer", "check", api.ExercisePassed)

	// 3. The scoped exchange: a field left out stays red; the three fields
	// the official SDKs send (and nothing else) pass.
	s.exercise(t, "scoped-token", "start", api.ExerciseStarted)
	st, infoBody = term.do(http.MethodGet, info+"external_viewer_id=partner-ada&external_value=APAC", nil, "", "", at)
	if st != 200 {
		t.Fatal(infoBody)
	}
	ex := url.Values{"grant_type": {"client_credentials"}}
	for _, k := range []string{"authorization_details", "scope"} {
		ex.Set(k, jsonField(t, infoBody, k))
	}
	if st, _ := term.do(http.MethodPost, "/oidc/v1/token", ex, sp[1], secret[1], ""); st != 400 {
		t.Fatalf("exchange without custom_claim: %d", st)
	}
	if got := s.exercise(t, "scoped-token", "check", api.ExerciseFailed); !strings.Contains(got, "authorization_details, custom_claim and scope") {
		t.Fatalf("red without a useful hint:\n%s", got)
	}
	ex.Set("custom_claim", jsonField(t, infoBody, "custom_claim"))
	if st, b := term.do(http.MethodPost, "/oidc/v1/token", ex, sp[1], secret[1], ""); st != 200 {
		t.Fatalf("exchange: %d %s", st, b)
	}
	s.exercise(t, "scoped-token", "check", api.ExercisePassed)
	s.wait(t, "3 done", `document.querySelector('#progress').innerText.indexOf('3 of')===0`, 5*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-workshop")

	// The trainer sees ada's progress and the request log.
	s.open(t, "/lab")
	s.wait(t, "the toggles", `document.querySelectorAll('#lab .toggle').length >= 8`, 20*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-lab")
	s.signOut(t)
	s.loginAs(t, testkit.Admin)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.open(t, "/trainer")
	s.wait(t, "ada's row", `(function(){var r=document.querySelector('#participants tr[data-user="ada"]');
		return !!r && r.querySelectorAll('td.passed').length===3;})()`, 20*time.Second)
	s.wait(t, "the request log", `document.querySelectorAll('#request-log tr[data-seq]').length > 5`, 20*time.Second)
	term.do(http.MethodGet, "/api/2.0/lakeview/dashboards/"+dash+"/published/tokeninfo?external_viewer_id=live-check&external_value=EMEA", nil, "", "", at)
	s.wait(t, "a new line in the live log", `document.querySelector('#request-log').innerText.indexOf('/tokeninfo')>=0 && document.querySelector('#request-log tbody tr').innerText.indexOf('tokeninfo')>=0`, 10*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-trainer")

	// ada may not open the trainer view's API: the page names the role.
	// What she may not do is hidden: no Fault lab link, no toggle buttons,
	// no workspace reset (the server's identities on Call an app are greyed
	// out: backend/server and TestCallAnAppThroughTheAPI).
	s.signOut(t)
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	if n := s.eval(t, `String(document.querySelectorAll('.topbar nav a[href="/lab"]').length)`); n != "0" {
		t.Errorf("ada's top bar links the fault lab (%s links)", n)
	}
	s.open(t, "/trainer")
	s.wait(t, "the refusal", `!!document.querySelector('#trouble') && document.querySelector('#trouble').innerText.indexOf('needs the role trainer')>=0`, 20*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-trainer-refused")
	s.open(t, "/lab")
	s.wait(t, "the read-only lab", `!!document.querySelector('#lab-readonly') && document.querySelectorAll('#lab .toggle').length >= 8 &&
		document.querySelectorAll('button[data-toggle], #lab-reset').length === 0`, 20*time.Second)
	s.open(t, "/workshop")
	s.wait(t, "the workshop without the workspace reset", `!!document.querySelector('#workshop-reset-progress') && !document.querySelector('#workshop-reset')`, 20*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-workshop-participant")

	// Sign out everywhere from the top bar: back to the login page, and the
	// session is over (the page's own fetch is refused).
	if err := s.click(`#sign-out-everywhere`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the login page", `location.pathname === '/login'`, 20*time.Second)
	s.wait(t, "the session refused", `(function(){ if (window.__st === undefined) { window.__st = 0; fetch('/api/session').then(function(r){ window.__st = r.status; }); } return window.__st === 401; })()`, 10*time.Second)
}

func jsonField(t *testing.T, body, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	switch v := m[key].(type) {
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// The last exercise as a participant does it: a viewers file with a viewer
// of their own (what EMBEDLAB_VIEWERS_FILE gives at a restart), then compare
// mode in the browser; checking before the load stays red with its hint.
func TestOwnViewerExerciseInCompareMode(t *testing.T) {
	own := filepath.Join(t.TempDir(), "viewers-ada.json")
	if err := os.WriteFile(own, []byte(`{"viewers": [
		{"id": "viewer-emea", "display_name": "Europe, Middle East & Africa (EMEA)", "external_value": "EMEA", "users": ["ada"]},
		{"id": "partner-ada", "display_name": "Partner (ada)", "external_value": "APAC", "users": ["ada"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStack(t, options{timeout: labTimeout, env: map[string]string{"EMBEDLAB_VIEWERS_FILE": own}})
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the dashboard page", `!!document.querySelector('#viewers')`, 30*time.Second)
	s.open(t, "/workshop")
	s.wait(t, "the exercises", `!!document.querySelector('#ex-own-viewer button.start')`, 20*time.Second)
	s.exercise(t, "own-viewer", "start", api.ExerciseStarted)
	if got := s.exercise(t, "own-viewer", "check", api.ExerciseFailed); !strings.Contains(got, "No dashboard was loaded for a viewer of your own") {
		t.Fatalf("checked before the load: %s", got)
	}

	s.open(t, "/compare?a=viewer-emea&b=partner-ada")
	a := s.waitFrame(t, "dashboard-frame-a", "EMEA rows", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
	b := s.waitFrame(t, "dashboard-frame-b", "the partner's rows", func(st frameState) bool { return ready(st) && st.Viewer == "partner-ada" }, 30*time.Second)
	if a.Revenue == b.Revenue {
		t.Fatalf("the partner (APAC) sees EMEA's total %s", a.Revenue)
	}
	browsertest.Screenshot(t, s.ctx, "app-compare-own-viewer")

	s.open(t, "/workshop")
	s.wait(t, "the exercises", `!!document.querySelector('#ex-own-viewer button.check')`, 20*time.Second)
	if got := s.exercise(t, "own-viewer", "check", api.ExercisePassed); !strings.Contains(got, "partner-ada") {
		t.Errorf("the checkpoint does not name the viewer: %s", got)
	}
}
