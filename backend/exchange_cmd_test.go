//go:build !noemulator

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// The tokeninfo, exchange and e-mail viewer exercises done with nothing
// but embedlab (no curl, no jq): `embedlab exchange` as the participant's
// own service principal turns each green, and prints the decoded claims.
func TestExchangeCommandDoesTheExercisesWithoutCurlOrJq(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{})
	_, ws, st := labOn(t, em, filepath.Join(t.TempDir(), "w.db"))
	ctx := context.Background()
	for _, x := range []string{"tokeninfo-new-viewer", "scoped-token", "email-viewer"} {
		if _, err := ws.Start(ctx, "ada", x); err != nil {
			t.Fatal(err)
		}
	}
	me, _, _ := st.Identity(ctx, "ada")
	env := map[string]string{"DATABRICKS_HOST": em.URL(), "DATABRICKS_CLIENT_ID": me.ClientID, "DATABRICKS_CLIENT_SECRET": me.Secret}
	for _, v := range []string{"ada@example.com", "partner-ada"} {
		out, errs, code := cli(t, env, "exchange", "-dashboard", testkit.DashboardID, "-viewer", v, "-value", "APAC")
		if code != exitOK || !strings.Contains(out, `"custom_claim": "urn:aibi:external_data:APAC:`+v) || !strings.Contains(out, `"access_token"`) {
			t.Fatalf("exchange for %s: %d %s %s", v, code, out, errs)
		}
		if strings.Contains(out, me.Secret) {
			t.Fatalf("the secret is printed:\n%s", out)
		}
	}
	for _, x := range []string{"tokeninfo-new-viewer", "scoped-token", "email-viewer"} {
		if got, err := ws.Check(ctx, "ada", x); err != nil || got.Status.State != api.ExercisePassed {
			t.Errorf("%s: %+v %v", x, got.Status, err)
		}
	}
	if _, errs, code := cli(t, env, "exchange", "-dashboard", testkit.DashboardID); code != exitUsage || !strings.Contains(errs, "usage") {
		t.Fatalf("no viewer: %d %s", code, errs)
	}
}
