package emulator

import (
	"strings"
	"testing"
)

func TestBundledAppsAndClients(t *testing.T) {
	s := DefaultState()
	api, ok := s.app("sales-api")
	if !ok || api.Status != AppRunning || api.userAuthorization() || !api.canUse("ADA@example.com") || api.canUse("grace@example.com") {
		t.Fatalf("sales-api = %+v", api)
	}
	sqlApp, ok := s.app("sales-sql")
	if !ok || !sqlApp.userAuthorization() || sqlApp.UserAPIScopes[0] != "sql" {
		t.Fatalf("sales-sql = %+v", sqlApp)
	}
	if a, ok := s.app("sales-archive"); !ok || a.Status != AppStopped {
		t.Fatalf("sales-archive = %+v", a)
	}
	cli, ok := s.oauthClient("databricks-cli")
	if !ok || strings.Join(cli.RedirectURIs, " ") != "http://localhost:8020 http://localhost:8040" {
		t.Fatalf("databricks-cli = %+v", cli)
	}
	if _, ok := s.oauthClient("embedlab"); !ok {
		t.Fatal("no embedlab client")
	}
	for _, u := range s.Users {
		if u.Password == "" {
			t.Errorf("demo user %s has no password", u.UserName)
		}
	}
	if !strings.Contains(s.Note, "password") {
		t.Error("the state's note does not say the passwords are public demo values")
	}
}

func TestParseStateChecksAppsAndClients(t *testing.T) {
	bad := `{
	  "workspace_id": "1",
	  "service_principals": [{"application_id": "sp1", "secret": "long-enough-secret-1"}],
	  "users": [{"id": "1", "user_name": "a@example.com", "password": "short"}, {"id": "2", "user_name": "b@example.com"}],
	  "oauth_clients": [
	    {"client_id": "sp1", "redirect_uris": ["http://localhost:1"]},
	    {"client_id": "c2", "redirect_uris": []},
	    {"client_id": "c3", "redirect_uris": ["localhost:8020", "http://x/#frag"]},
	    {"client_id": "databricks-apps-x", "redirect_uris": ["http://localhost:1"]}
	  ],
	  "apps": [
	    {"name": "Bad_Name", "status": "RUNNING", "can_use": []},
	    {"name": "ok", "status": "running", "user_api_scopes": ["all-apis"], "can_use": ["nobody@example.com", "sp1", "B@example.com"]},
	    {"name": "ok", "status": "STOPPED", "can_use": []}
	  ]
	}`
	_, err := ParseState("apps.json", []byte(bad))
	if err == nil {
		t.Fatal("a broken state was accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"users[0].password", `oauth_clients[0].client_id "sp1": used twice`, "oauth_clients[1].redirect_uris: at least one",
		`oauth_clients[2].redirect_uris[0] "localhost:8020"`, `oauth_clients[2].redirect_uris[1] "http://x/#frag"`,
		`oauth_clients[3].client_id "databricks-apps-x"`, `apps[0].name "Bad_Name"`, `apps[1].status "running"`,
		`apps[1].user_api_scopes[0] "all-apis"`, `apps[1].can_use[0] "nobody@example.com"`, `apps[2].name "ok": used twice`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "can_use[1]") || strings.Contains(msg, "can_use[2]") {
		t.Errorf("a valid principal was refused:\n%s", msg)
	}
	if strings.Contains(msg, "short") {
		t.Error("the error echoes a password")
	}
}
