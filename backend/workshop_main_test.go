//go:build !noemulator

package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/lab"
	"embedlab/backend/testkit"
	"embedlab/backend/workshop"
	"embedlab/shared/api"
)

// labOn wires the fault lab and the workshop on em as serve does, for the
// embedder and its dashboard, with the progress in file; the store closes
// when the test ends, if the test has not closed it (a restart) before.
func labOn(t *testing.T, em *emulator.Emulator, file string) (*lab.Lab, *workshop.Service, *workshop.Store) {
	t.Helper()
	l, ws, st, err := lab.Wire(em, lab.Options{ClientID: testkit.EmbedderID, DashboardID: testkit.DashboardID, ProgressFile: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return l, ws, st
}

// A participant does the app-403 exercise in a terminal: curl for the 403,
// then embedlab's CLI (its run function) for the fix. A 200 for another
// caller first leaves it red with the second step's hint.
func TestAppExerciseWithTheCLI(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	sps := em.ServicePrincipals()
	progress := filepath.Join(t.TempDir(), "workshop.db")
	_, ws, st := labOn(t, em, progress)
	ctx := context.Background()
	if _, err := ws.Start(ctx, "grace", "app-403"); err != nil {
		t.Fatal(err)
	}
	// grace's own service principal, made when she started.
	me, ok, err := st.Identity(ctx, "grace")
	if err != nil || !ok {
		t.Fatalf("grace has no identities: %v", err)
	}
	whoami := em.AppURL("sales-api") + "/api/whoami"
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "DATABRICKS_CLIENT_ID": me.ClientID, "DATABRICKS_CLIENT_SECRET": me.Secret,
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "none")}
	noAccess := map[string]string{"DATABRICKS_HOST": em.URL(), "EMBEDLAB_APPS_PROXY": em.AppsURL(), "DATABRICKS_CLIENT_ID": sps[1].ID, "DATABRICKS_CLIENT_SECRET": sps[1].Secret,
		"DATABRICKS_CONFIG_FILE": filepath.Join(t.TempDir(), "none")}

	// The wrong way: a 403 for a principal that is not grace's (the demo
	// one without CAN USE), then a 200 for hers: the 403 is not hers.
	if _, errs, code := cli(t, noAccess, "call", whoami); code != exitAnswer || !strings.Contains(errs, "403") {
		t.Fatalf("no CAN USE: %d %s", code, errs)
	}
	if out, errs, code := cli(t, env, "call", whoami); code != exitOK {
		t.Fatalf("call: %d %s %s", code, out, errs)
	}
	x, err := ws.Check(ctx, "grace", "app-403")
	if err != nil || x.Status.State != api.ExerciseFailed || !strings.Contains(x.Status.Hint, "First make it fail") {
		t.Fatalf("another caller's 403 counted: %+v %v", x.Status, err)
	}

	// The right way: a token with only sql (curl), then the CLI's all-apis token.
	res, err := http.Post(em.URL()+"/oidc/v1/token", "application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"grant_type": {"client_credentials"}, "scope": {"sql"}, "client_id": {me.ClientID}, "client_secret": {me.Secret}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tok := strings.Split(strings.Split(string(b), `"access_token":"`)[1], `"`)[0]
	req, _ := http.NewRequest(http.MethodGet, whoami, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err = (&http.Client{Transport: emulator.AppsTransport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("sql-only token: %d, want 403", res.StatusCode)
	}
	if out, errs, code := cli(t, env, "call", whoami); code != exitOK {
		t.Fatalf("call: %d %s %s", code, out, errs)
	}
	x, err = ws.Check(ctx, "grace", "app-403")
	if err != nil || x.Status.State != api.ExercisePassed || len(x.Status.Evidence) != 2 {
		t.Fatalf("not green: %+v %v", x.Status, err)
	}
	st.Close()

	// A restart: a new service on the same file keeps grace's progress.
	_, ws2, _ := labOn(t, em, progress)
	ov, err := ws2.Overview(ctx, "grace")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ov.Exercises {
		if e.ID == "app-403" && e.Status.State != api.ExercisePassed {
			t.Fatalf("after a restart: %+v", e.Status)
		}
	}
}

// The custom-scope exercise done in a terminal: a U2M sign-in without sql
// gets 401 from sales-sql and stays red with the near-miss hint; signing in
// again with sql turns it green.
func TestU2MExerciseWithTheCLI(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	_, ws, st := labOn(t, em, filepath.Join(t.TempDir(), "workshop.db"))
	ctx := context.Background()
	if _, err := ws.Start(ctx, "ada", "u2m-sql"); err != nil {
		t.Fatal(err)
	}
	me, _, err := st.Identity(ctx, "ada") // the participant's own workspace user
	if err != nil || me.UserName == "" {
		t.Fatalf("no identities: %+v %v", me, err)
	}
	// The workspace's demo user ada@example.com is nobody's in the room:
	// her sign-in with sql does not count for the participant ada.
	if _, _, err := cliU2MCall(t, em, "all-apis sql", em.AppURL("sales-sql")+"/api/whoami"); err != nil {
		t.Fatal(err)
	}
	if x, err := ws.Check(ctx, "ada", "u2m-sql"); err != nil || x.Status.State != api.ExerciseFailed {
		t.Fatalf("the demo user's calls counted: %+v %v", x.Status, err)
	}
	app := em.AppURL("sales-sql") + "/api/whoami"
	if _, errs, err := cliU2MCallAs(t, em, me.UserName, me.Password, "all-apis", app); exitCode(err) != exitAnswer || !strings.Contains(errs, "401") {
		t.Fatalf("without sql: %v %s", err, errs)
	}
	x, err := ws.Check(ctx, "ada", "u2m-sql")
	if err != nil || x.Status.State != api.ExerciseFailed || !strings.Contains(x.Status.Hint, "sql") {
		t.Fatalf("a token without sql counted: %+v %v", x.Status, err)
	}
	if out, errs, err := cliU2MCallAs(t, em, me.UserName, me.Password, "all-apis sql", app); err != nil {
		t.Fatalf("with sql: %v %s %s", err, out, errs)
	}
	x, err = ws.Check(ctx, "ada", "u2m-sql")
	if err != nil || x.Status.State != api.ExercisePassed {
		t.Fatalf("not green after the right sign-in: %+v %v", x.Status, err)
	}
}
