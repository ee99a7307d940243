package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestNoSettingsMeansEmulator(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Emulated || c.Port != 3000 || c.EmulatorAddr != "127.0.0.1:8000" {
		t.Fatalf("%+v", c)
	}
}

func TestRealWorkspace(t *testing.T) {
	sampleApp := map[string]string{
		"INSTANCE_URL": "https://adb-123.4.azuredatabricks.net/", "WORKSPACE_ID": "123", "DASHBOARD_ID": "01ef",
		"SERVICE_PRINCIPAL_ID": "sp", "SERVICE_PRINCIPAL_SECRET": "dose0123456789abcdef", "PORT": "8080",
	}
	databricksTools := map[string]string{
		"DATABRICKS_HOST": "adb-123.4.azuredatabricks.net", "WORKSPACE_ID": "123", "DASHBOARD_ID": "01ef",
		"DATABRICKS_CLIENT_ID": "sp", "DATABRICKS_CLIENT_SECRET": "dose0123456789abcdef",
	}
	for name, m := range map[string]map[string]string{"sample app names": sampleApp, "Databricks tools names": databricksTools} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(env(m))
			if err != nil {
				t.Fatal(err)
			}
			if c.Emulated || c.InstanceURL != "https://adb-123.4.azuredatabricks.net" || c.ClientID != "sp" || c.ClientSecret == "" {
				t.Fatalf("%+v", c)
			}
			if s := c.String(); strings.Contains(s, "dose0123") || strings.Contains(s, "cdef") || !strings.Contains(s, "client_secret=<set>") {
				t.Fatalf("String() leaks or hides too much: %s", s)
			}
		})
	}
}

func TestProblemsAreListedOnePerLine(t *testing.T) {
	_, err := Load(env(map[string]string{
		"INSTANCE_URL": "https://a.example.com/some/path", "DATABRICKS_HOST": "https://b.example.com",
		"WORKSPACE_ID": "ws", "PORT": "http",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`PORT="http"`, "INSTANCE_URL and DATABRICKS_HOST are both set and differ", "DASHBOARD_ID is not set",
		"SERVICE_PRINCIPAL_ID (or DATABRICKS_CLIENT_ID) is not set", "SERVICE_PRINCIPAL_SECRET (or DATABRICKS_CLIENT_SECRET) is not set",
		"without a path", `WORKSPACE_ID="ws"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if lines := strings.Count(msg, "\n") + 1; lines != 7 {
		t.Errorf("%d lines, want 7:\n%s", lines, msg)
	}
}

func TestEmulatorFilesWithRealWorkspaceAreRefused(t *testing.T) {
	m := map[string]string{
		"INSTANCE_URL":             "https://dbc-1.cloud.databricks.com",
		"WORKSPACE_ID":             "123",
		"DASHBOARD_ID":             "01f0a1b2c3d4e5f60718293a4b5c6d7e",
		"SERVICE_PRINCIPAL_ID":     "sp",
		"SERVICE_PRINCIPAL_SECRET": "s",
		"EMBEDLAB_DASHBOARD_FILE":  "x.lvdash.json",
	}
	_, err := Load(env(m))
	if err == nil || !strings.Contains(err.Error(), "EMBEDLAB_DASHBOARD_FILE is set but a real workspace is configured") {
		t.Fatalf("err = %v, want the emulator-only setting refused", err)
	}
}

func TestDatabricksAppSettings(t *testing.T) {
	m := map[string]string{
		"DATABRICKS_HOST": "adb-1.2.azuredatabricks.net", "DATABRICKS_CLIENT_ID": "app-sp", "DATABRICKS_CLIENT_SECRET": "s",
		"WORKSPACE_ID": "123", "DASHBOARD_ID": "01f0a1b2c3d4e5f60718293a4b5c6d7e",
		"DATABRICKS_APP_NAME": "embedlab", "DATABRICKS_APP_PORT": "8000",
	}
	if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "passwords are public") {
		t.Fatalf("demo users in an app: err = %v", err)
	}
	m["EMBEDLAB_USERS_FILE"] = "users.json"
	c, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8000 || c.ListenHost != "0.0.0.0" || c.InstanceURL != "https://adb-1.2.azuredatabricks.net" || c.ClientID != "app-sp" || c.Emulated {
		t.Fatalf("%+v", c)
	}
	m["DATABRICKS_APP_PORT"] = "http"
	if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "DATABRICKS_APP_PORT") {
		t.Fatalf("bad app port: %v", err)
	}
}
