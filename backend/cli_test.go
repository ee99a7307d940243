//go:build !noemulator

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"embedlab/backend/apps"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
)

// cli runs one embedlab command and returns its output and exit code.
func cli(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut testkit.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	if err != nil {
		code = exitCode(err)
		errOut.Write([]byte(err.Error()))
	}
	return out.String(), errOut.String(), code
}

func TestTokenAndCallCommands(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	sps := em.ServicePrincipals()
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "DATABRICKS_CLIENT_ID": sps[0].ID, "DATABRICKS_CLIENT_SECRET": sps[0].Secret,
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "none")}

	out, errs, code := cli(t, env, "token")
	var tok apps.CLIToken
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now()) {
		t.Fatalf("token: %d %s %s", code, out, errs)
	}
	if _, c, err := claims.Decode(tok.AccessToken); err != nil || c.Subject != sps[0].ID {
		t.Fatalf("token claims: %v %+v", err, c)
	}

	whoami := em.AppURL("sales-api") + "/api/whoami"
	if out, errs, code := cli(t, env, "call", whoami); code != exitOK || !strings.Contains(out, sps[0].ID) {
		t.Fatalf("call: %d %s %s", code, out, errs)
	}
	noAccess := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "DATABRICKS_CLIENT_ID": sps[1].ID, "DATABRICKS_CLIENT_SECRET": sps[1].Secret}
	if _, errs, code := cli(t, noAccess, "call", whoami); code != exitAnswer || !strings.Contains(errs, "lacks CAN USE on sales-api") || !strings.Contains(errs, "fix:") {
		t.Fatalf("no CAN USE: %d %s", code, errs)
	}
	if _, errs, code := cli(t, env, "call", "-source", "none", whoami); code != exitAnswer || !strings.Contains(errs, "401") {
		t.Fatalf("no token: %d %s", code, errs)
	}
	if _, errs, code := cli(t, env, "call", "https://example.com/api/x"); code != exitUsage || !strings.Contains(errs, "only to apps") {
		t.Fatalf("foreign URL: %d %s", code, errs)
	}
	bad := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "DATABRICKS_CLIENT_ID": sps[0].ID, "DATABRICKS_CLIENT_SECRET": "wrong"}
	if _, errs, code := cli(t, bad, "call", whoami); code != exitNoToken || !strings.Contains(errs, "invalid_client") || !strings.Contains(errs, "fix:") {
		t.Fatalf("wrong secret: %d %s", code, errs)
	}
	if _, errs, code := cli(t, env, "call", "-apps-proxy", "localhost:1", "http://sales-api-1.localhost:1/api/whoami"); code != exitNoConnect {
		t.Fatalf("unreachable: %d %s", code, errs)
	}
	if _, errs, code := cli(t, env, "token", "-profile", "nope"); code != exitNoToken || !strings.Contains(errs, "databricks auth login") {
		t.Fatalf("missing profile: %d %s", code, errs)
	}
	if _, _, code := cli(t, env, "call", "-bogus"); code != exitUsage {
		t.Fatalf("bad flag: %d", code)
	}
}

// The CLI's own U2M sign-in: the public client databricks-cli, the browser
// to the workspace, and the code back on a local port.
func TestTokenCommandU2M(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	out, errOut, err := cliU2MCall(t, em, "all-apis sql", em.AppURL("sales-sql")+"/api/whoami")
	if err != nil || !strings.Contains(out, "ada@example.com") || !strings.Contains(errOut, "sql") {
		t.Fatalf("call: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
}

// cliU2MCall runs `embedlab call -source u2m` and signs ada in on the
// workspace's page when the command prints the URL, as a person would.
func cliU2MCall(t *testing.T, em *emulator.Emulator, scopes, appURL string) (stdout, stderr string, err error) {
	t.Helper()
	return cliU2MCallAs(t, em, testkit.WorkspaceAda.Email, testkit.WorkspaceAda.Password, scopes, appURL)
}

// cliU2MCallAs is cliU2MCall signing in as another workspace user (a
// workshop participant's own).
func cliU2MCallAs(t *testing.T, em *emulator.Emulator, user, password, scopes, appURL string) (stdout, stderr string, err error) {
	t.Helper()
	port := freePort(t)
	if err := em.AllowRedirectURI("databricks-cli", "http://localhost:"+strconv.Itoa(port)); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL()}
	var out, errOut testkit.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"call", "-source", "u2m", "-scopes", scopes, "-callback-port", strconv.Itoa(port), "-v", appURL},
			func(k string) string { return env[k] }, &out, &errOut)
	}()
	urlRE := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/oidc/v1/authorize\?\S+)`)
	var authURL string
	for deadline := time.Now().Add(10 * time.Second); authURL == ""; time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(errOut.String()); m != nil {
			authURL = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no sign-in URL printed: %s", errOut.String())
		}
	}
	b := testkit.NewClient(t, "")
	page := b.Do(http.MethodGet, authURL, nil).Body
	f := url.Values{"username": {user}, "password": {password}, "action": {"allow"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(page), -1) {
		f.Set(m[1], m[2])
	}
	res, err := b.HTTP.PostForm(strings.SplitN(authURL, "?", 2)[0], f)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if !strings.HasPrefix(back, "http://localhost:"+strconv.Itoa(port)) {
		t.Fatalf("redirected to %q", back)
	}
	if r := b.Do(http.MethodGet, back, nil); !strings.Contains(string(r.Body), "Signed in") {
		t.Fatalf("callback page: %s", r.Body)
	}
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not finish after the sign-in")
	}
	return out.String(), errOut.String(), err
}
