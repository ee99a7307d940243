package appsetup_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/appsetup"
	"embedlab/backend/config"
	"embedlab/shared/wire"
)

// Against a real workspace, the federated source takes the identity
// provider token from DATABRICKS_OIDC_TOKEN (or its file), as the SDKs'
// env-oidc and file-oidc do, for the service principal DATABRICKS_CLIENT_ID
// when set; without one, the page says where to put it.
func TestFederationFromTheEnvironment(t *testing.T) {
	cfg := &config.Config{InstanceURL: "https://adb-123.4.azuredatabricks.net", Port: 3000}
	setup := func(env map[string]string) (n int, label, desc, problem, fix string) {
		t.Helper()
		env["DATABRICKS_CONFIG_FILE"] = filepath.Join(t.TempDir(), "cfg")
		a, err := appsetup.Setup(context.Background(), cfg, nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Federation) > 0 {
			label, desc = a.Federation[0].Label, a.Federation[0].Description
		}
		return len(a.Federation), label, desc, a.FederationProblem, a.FederationFix
	}
	if n, _, _, problem, fix := setup(map[string]string{}); n != 0 || problem == "" || !strings.Contains(fix, wire.EnvOIDCToken) {
		t.Errorf("no token: %d %q %q", n, problem, fix)
	}
	if n, label, desc, _, _ := setup(map[string]string{wire.EnvOIDCToken: "eyJ.x.y"}); n != 1 || !strings.Contains(label, "$"+wire.EnvOIDCToken) || !strings.Contains(desc, "account-wide") {
		t.Errorf("env-oidc: %d %q %q", n, label, desc)
	}
	if n, label, desc, _, _ := setup(map[string]string{wire.EnvOIDCTokenFile: "/var/run/token", "DATABRICKS_CLIENT_ID": "sp-1"}); n != 1 ||
		!strings.Contains(label, "/var/run/token") || !strings.Contains(desc, "client_id sp-1") {
		t.Errorf("file-oidc: %d %q %q", n, label, desc)
	}
}
