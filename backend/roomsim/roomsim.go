// Package roomsim simulates a classroom: participants who sign in to
// embedlab, read their own values from their exercises, and do every
// exercise at once as a person at a terminal would (the emulator's HTTP
// endpoints, the Apps proxy, the U2M sign-in form), pressing Start and
// Check through the app's API. It counts wrong credits (a checkpoint met
// before the participant did anything) and errors, and reads the trainer
// grid meanwhile. The load test and `make bench` share it.
package roomsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"embedlab/shared/api"
)

// Login is one participant's (or the trainer's) name and password.
type Login struct{ Name, Password string }

// Options configure a run.
type Options struct {
	AppURL       string
	Participants []Login
	Trainer      Login
	// Transport reaches the app, the workspace and its apps; nil is the
	// default transport.
	Transport http.RoundTripper
	// GridEvery is how often the trainer's grid is read while the
	// participants work (0: 500 ms).
	GridEvery time.Duration
}

// Result is what a run saw.
type Result struct {
	Participants int
	// Passed counts exercises that went green after their own calls.
	Passed int
	// WrongCredits counts checks that were green before the participant
	// had made any call for the exercise (another's calls counted).
	WrongCredits int
	// Errors are unexpected answers and exercises that stayed red.
	Errors []string
	// Retries counts 429 answers waited out (the workspace's rate limit).
	Retries  int64
	Duration time.Duration
	// GridReads are the trainer grid's read times during the run.
	GridReads []time.Duration
	// Grid is the trainer's grid at the end.
	Grid api.Trainer
}

// Exercises the simulation does, in order.
var Exercises = []string{"sp-token", "tokeninfo-new-viewer", "scoped-token", "email-viewer", "app-403", "u2m-sql", "own-viewer"}

// Run has every participant do every exercise at once, and the trainer
// read the grid meanwhile.
func Run(ctx context.Context, o Options) Result {
	if o.GridEvery == 0 {
		o.GridEvery = 500 * time.Millisecond
	}
	res := Result{Participants: len(o.Participants)}
	var mu sync.Mutex
	var retries atomic.Int64
	fail := func(who, format string, a ...any) {
		mu.Lock()
		res.Errors = append(res.Errors, who+": "+fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	start := time.Now()
	done := make(chan struct{})
	var gridWG sync.WaitGroup
	gridWG.Add(1)
	go func() { // the trainer's page, polling
		defer gridWG.Done()
		tr, err := signIn(ctx, o, o.Trainer, &retries)
		if err != nil {
			fail("trainer", "%v", err)
			return
		}
		for {
			select {
			case <-done:
				return
			case <-time.After(o.GridEvery):
			}
			t0 := time.Now()
			var g api.Trainer
			if err := tr.api(http.MethodGet, api.PathTrainer, nil, &g); err != nil {
				fail("trainer", "grid: %v", err)
				return
			}
			mu.Lock()
			res.GridReads = append(res.GridReads, time.Since(t0))
			mu.Unlock()
		}
	}()
	var wg sync.WaitGroup
	for _, l := range o.Participants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := signIn(ctx, o, l, &retries)
			if err != nil {
				fail(l.Name, "%v", err)
				return
			}
			passed, wrong := p.doAll(fail)
			mu.Lock()
			res.Passed += passed
			res.WrongCredits += wrong
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Duration = time.Since(start)
	close(done)
	gridWG.Wait()
	if tr, err := signIn(ctx, o, o.Trainer, &retries); err == nil {
		if err := tr.api(http.MethodGet, api.PathTrainer, nil, &res.Grid); err != nil {
			fail("trainer", "final grid: %v", err)
		}
	} else {
		fail("trainer", "%v", err)
	}
	res.Retries = retries.Load()
	return res
}

// participant is one simulated person: a browser (cookies) and a terminal.
type participant struct {
	ctx     context.Context
	name    string
	app     string
	c       *http.Client
	csrf    string
	retries *atomic.Int64

	// What their exercises show them.
	instance, clientID, secret, dashboardID string
	wsUser, wsPassword                      string
	apps                                    map[string]string
}

func signIn(ctx context.Context, o Options, l Login, retries *atomic.Int64) (*participant, error) {
	jar, _ := cookiejar.New(nil)
	p := &participant{ctx: ctx, name: l.Name, app: o.AppURL, retries: retries, apps: map[string]string{},
		c: &http.Client{Jar: jar, Transport: o.Transport, Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var s api.Session
	// The simulation's participants all come from one address, where a
	// room's come from one each: the login throttle, which holds room per
	// address for attempts in flight, may ask some to wait. They do, as a
	// person would.
	for attempt := 0; ; attempt++ {
		err := p.api(http.MethodPost, api.PathSession, api.LoginRequest{Name: l.Name, Password: l.Password}, &s)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), ": 429 ") || attempt >= 30 {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		retries.Add(1)
		time.Sleep(time.Second)
	}
	p.csrf = s.CSRFToken
	return p, nil
}

// api calls embedlab's API.
func (p *participant) api(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(p.ctx, method, p.app+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if p.csrf != "" {
		req.Header.Set(api.HeaderCSRF, p.csrf)
	}
	res, err := p.c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

var (
	reInstance = regexp.MustCompile(`\bI=(\S+)`)
	reSP       = regexp.MustCompile(`\bSP=(\S+)`)
	reSecret   = regexp.MustCompile(`\bSECRET=(\S+)`)
	reDash     = regexp.MustCompile(`\bD=(\S+)`)
	reWsUser   = regexp.MustCompile(`your own workspace user \((\S+) / (\S+),`)
)

// learn reads the participant's own values from their exercises, as a
// person reads the page.
func (p *participant) learn() error {
	var w api.Workshop
	if err := p.api(http.MethodGet, api.PathWorkshop, nil, &w); err != nil {
		return err
	}
	var text strings.Builder
	for _, x := range w.Exercises {
		text.WriteString(x.Goal + "\n")
		for _, c := range x.Commands {
			text.WriteString(c.Shell + "\n")
		}
	}
	t := text.String()
	for _, f := range []struct {
		re  *regexp.Regexp
		dst []*string
	}{{reInstance, []*string{&p.instance}}, {reSP, []*string{&p.clientID}}, {reSecret, []*string{&p.secret}},
		{reDash, []*string{&p.dashboardID}}, {reWsUser, []*string{&p.wsUser, &p.wsPassword}}} {
		m := f.re.FindStringSubmatch(t)
		if m == nil {
			return fmt.Errorf("the exercises do not show %s", f.re)
		}
		for i, d := range f.dst {
			*d = m[i+1]
		}
	}
	var ov api.AppsOverview
	if err := p.api(http.MethodGet, api.PathApps, nil, &ov); err != nil {
		return err
	}
	for _, a := range ov.Apps {
		p.apps[a.Name] = a.URL
	}
	return nil
}

// doAll does every exercise: Start, a Check that must stay red (nothing of
// theirs yet, while the others work), their calls, a Check that must pass.
func (p *participant) doAll(fail func(who, format string, a ...any)) (passed, wrong int) {
	if err := p.learn(); err != nil {
		fail(p.name, "%v", err)
		return
	}
	for _, id := range Exercises {
		var x api.Exercise
		if err := p.api(http.MethodPost, api.PathWorkshopStart, api.ExerciseRef{ID: id}, &x); err != nil {
			fail(p.name, "%s: start: %v", id, err)
			continue
		}
		if err := p.api(http.MethodPost, api.PathWorkshopCheck, api.ExerciseRef{ID: id}, &x); err != nil {
			fail(p.name, "%s: check: %v", id, err)
			continue
		}
		if x.Status.State == api.ExercisePassed {
			wrong++
			fail(p.name, "%s: green before any call of theirs: %v", id, x.Status.Evidence)
		}
		if err := p.do(id); err != nil {
			fail(p.name, "%s: %v", id, err)
			continue
		}
		if err := p.api(http.MethodPost, api.PathWorkshopCheck, api.ExerciseRef{ID: id}, &x); err != nil {
			fail(p.name, "%s: check: %v", id, err)
			continue
		}
		if x.Status.State != api.ExercisePassed {
			fail(p.name, "%s: still %s after their calls: %s (hint %q; seen %v)", id, x.Status.State, x.Status.Message, x.Status.Hint, x.Status.Evidence)
			continue
		}
		passed++
	}
	return passed, wrong
}

// do makes the calls exercise id asks for.
func (p *participant) do(id string) error {
	partner := "partner-" + p.name
	switch id {
	case "sp-token":
		_, err := p.spToken("all-apis")
		return err
	case "tokeninfo-new-viewer":
		at, err := p.spToken("all-apis")
		if err != nil {
			return err
		}
		_, err = p.tokenInfo(at, partner, "EMEA")
		return err
	case "scoped-token":
		_, err := p.scoped(partner, "APAC")
		return err
	case "email-viewer":
		if _, err := p.scoped(p.name+"@example.com", "EMEA"); err != nil {
			return err
		}
		_, err := p.scoped(partner, "EMEA")
		return err
	case "app-403":
		sql, err := p.spToken("sql")
		if err != nil {
			return err
		}
		if st, _, err := p.send(http.MethodGet, p.apps["sales-api"]+"/api/whoami", nil, sql, "", ""); err != nil || st != http.StatusForbidden {
			return fmt.Errorf("sales-api with an sql-only token: %d %v (want 403)", st, err)
		}
		all, err := p.spToken("all-apis")
		if err != nil {
			return err
		}
		if st, b, err := p.send(http.MethodGet, p.apps["sales-api"]+"/api/whoami", nil, all, "", ""); err != nil || st != http.StatusOK {
			return fmt.Errorf("sales-api with all-apis: %d %v %s", st, err, b)
		}
		return nil
	case "u2m-sql":
		tok, err := p.u2m("all-apis sql offline_access")
		if err != nil {
			return err
		}
		if st, b, err := p.send(http.MethodGet, p.apps["sales-sql"]+"/api/whoami", nil, tok, "", ""); err != nil || st != http.StatusOK {
			return fmt.Errorf("sales-sql with a sql-scoped user token: %d %v %s", st, err, b)
		}
		return nil
	case "own-viewer":
		vt, err := p.scoped(partner, "APAC")
		if err != nil {
			return err
		}
		u := p.instance + "/embed/api/dashboards/" + url.PathEscape(p.dashboardID) + "/render?page=overview"
		if st, b, err := p.send(http.MethodGet, u, nil, vt, "", ""); err != nil || st != http.StatusOK {
			return fmt.Errorf("dashboard load for %s: %d %v %s", partner, st, err, b)
		}
		return nil
	}
	return fmt.Errorf("no simulation for exercise %s", id)
}

// send makes one request as curl would, waiting out 429s as a person
// re-running the command would.
func (p *participant) send(method, u string, form url.Values, bearer, user, pass string) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(p.ctx, method, u, body)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("User-Agent", "curl/8.5.0")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := p.c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests && attempt < 20 {
			p.retries.Add(1)
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		return res.StatusCode, b, nil
	}
}

func (p *participant) token(form url.Values, user, pass string) (string, error) {
	st, b, err := p.send(http.MethodPost, p.instance+"/oidc/v1/token", form, "", user, pass)
	if err != nil || st != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %d %v %s", st, err, b)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: no access_token in %s", b)
	}
	return tr.AccessToken, nil
}

func (p *participant) spToken(scope string) (string, error) {
	return p.token(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, p.clientID, p.secret)
}

func (p *participant) tokenInfo(at, viewer, value string) (map[string]json.RawMessage, error) {
	u := p.instance + "/api/2.0/lakeview/dashboards/" + url.PathEscape(p.dashboardID) + "/published/tokeninfo?" +
		url.Values{"external_viewer_id": {viewer}, "external_value": {value}}.Encode()
	st, b, err := p.send(http.MethodGet, u, nil, at, "", "")
	if err != nil || st != http.StatusOK {
		return nil, fmt.Errorf("tokeninfo: %d %v %s", st, err, b)
	}
	var info map[string]json.RawMessage
	return info, json.Unmarshal(b, &info)
}

// scoped is steps 1 to 3 for one viewer: every tokeninfo field sent back
// as it came, as Databricks' sample apps do.
func (p *participant) scoped(viewer, value string) (string, error) {
	at, err := p.spToken("all-apis")
	if err != nil {
		return "", err
	}
	info, err := p.tokenInfo(at, viewer, value)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range info {
			if !yield(k) {
				return
			}
		}
	}) {
		var s string
		if json.Unmarshal(info[k], &s) == nil {
			form.Set(k, s)
		} else {
			form.Set(k, string(info[k]))
		}
	}
	return p.token(form, p.clientID, p.secret)
}

var hidden = regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]*)"`)

// u2m signs in as the participant's workspace user with the Databricks
// CLI's client (authorization code + PKCE), as `embedlab call -source
// u2m` does, and returns the access token.
func (p *participant) u2m(scopes string) (string, error) {
	verifier := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))[:64]
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:8020"
	q := url.Values{"client_id": {"databricks-cli"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {scopes},
		"state": {rand.Text()}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	authURL := p.instance + "/oidc/v1/authorize"
	st, page, err := p.send(http.MethodGet, authURL+"?"+q.Encode(), nil, "", "", "")
	if err != nil || st != http.StatusOK {
		return "", fmt.Errorf("authorize page: %d %v", st, err)
	}
	f := url.Values{"username": {p.wsUser}, "password": {p.wsPassword}, "action": {"allow"}}
	for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
		f.Set(m[1], m[2])
	}
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodPost, authURL, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := p.c.Do(req)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		return "", fmt.Errorf("sign-in as %s: %d, redirected to %q", p.wsUser, res.StatusCode, res.Header.Get("Location"))
	}
	return p.token(url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {"databricks-cli"}, "code_verifier": {verifier}}, "", "")
}

// GridErrors compares the trainer's grid with what the participants did:
// every one listed, every simulated exercise passed, nobody stuck.
func GridErrors(g api.Trainer, participants []Login) []string {
	var errs []string
	by := map[string]api.Participant{}
	for _, p := range g.Participants {
		by[p.User] = p
	}
	for _, l := range participants {
		pt, ok := by[l.Name]
		if !ok {
			errs = append(errs, l.Name+" is not in the grid")
			continue
		}
		for _, id := range Exercises {
			if c := pt.Cells[id]; c.State != api.ExercisePassed || c.Attempts != 2 {
				errs = append(errs, fmt.Sprintf("%s/%s: grid shows %s after %d checks (want passed after 2)", l.Name, id, c.State, c.Attempts))
			}
		}
		if pt.Stuck != "" {
			errs = append(errs, l.Name+" shown stuck on "+pt.Stuck)
		}
	}
	sort.Strings(errs)
	return errs
}
