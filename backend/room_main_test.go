//go:build !noemulator

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// roomHost is a second loopback address standing in for the trainer
// machine's address on a room's network: traffic stays on this machine,
// but nothing answers it unless it was bound for the room. (A room reached
// from another machine's network: backend/e2e/netns_test.go.)
const roomHost = "127.0.0.2"

// startRoom runs `embedlab serve` with EMBEDLAB_ROOM_HOST and returns the
// app's room URL and serve's output.
func startRoom(t *testing.T, extra map[string]string) (string, *syncBuffer) {
	t.Helper()
	if ln, err := net.Listen("tcp", roomHost+":0"); err != nil {
		t.Skipf("this machine has no %s loopback alias: %v", roomHost, err)
	} else {
		ln.Close()
	}
	port := freePort(t)
	envs := map[string]string{"PORT": strconv.Itoa(port), "EMBEDLAB_ROOM_HOST": roomHost, "EMBEDLAB_EMULATOR_ADDR": roomHost + ":0",
		"EMBEDLAB_DATA_DIR": t.TempDir()}
	for k, v := range extra {
		envs[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return envs[k] }, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	app := "http://" + roomHost + ":" + strconv.Itoa(port)
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "app on "+app); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start in a room:\n%s", out.String())
		}
	}
	return app, out
}

// In a room, the app, the emulator, its embed page, the Apps proxy (in
// port form, no DNS) and the identity provider all answer on the room's
// address, name it in every URL they hand out, and the app's room origin
// may embed the dashboard.
func TestRoomServesEverythingOnTheRoomAddress(t *testing.T) {
	app, out := startRoom(t, nil)
	port := strings.TrimPrefix(app, "http://"+roomHost+":")

	// Bound to the room's address only: the loopback address gets nothing.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("the app also answers on 127.0.0.1:%s: a room binds the room's address", port)
	}
	for _, line := range []string{"workspace emulator on http://" + roomHost + ":", "Apps proxy on http://" + roomHost + ":", "identity provider on http://" + roomHost + ":"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("serve's output lacks %q:\n%s", line, out.String())
		}
	}

	b := signedIn(t, app, "admin", "admin-demo-pass") // M2M below needs server-identities
	var es api.EmbedSettings
	res, body := b.do(http.MethodGet, app+api.PathEmbedSettings, nil)
	if res.StatusCode != 200 || json.Unmarshal(body, &es) != nil || !strings.HasPrefix(es.InstanceURL, "http://"+roomHost+":") {
		t.Fatalf("embed settings: %d %s", res.StatusCode, body)
	}
	// The embed page, from the room, lets the app's room origin frame it.
	res, body = b.do(http.MethodGet, wire.EmbedURL(es.InstanceURL, es.WorkspaceID, es.DashboardID, "", ""), nil)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), app) {
		t.Fatalf("embed page: %d CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	// A viewer's token through the room, then the dashboard's rows with it.
	var tok api.EmbedToken
	res, body = b.do(http.MethodGet, app+api.PathEmbedToken+"?viewer=viewer-emea", nil)
	if res.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		t.Fatalf("embed token through the room: %d %s", res.StatusCode, body)
	}

	// Apps in port form on the room's address, and a call to one.
	var ov api.AppsOverview
	res, body = b.do(http.MethodGet, app+api.PathApps, nil)
	if res.StatusCode != 200 || json.Unmarshal(body, &ov) != nil || len(ov.Apps) < 3 {
		t.Fatalf("apps: %d %s", res.StatusCode, body)
	}
	urls := map[string]string{}
	portForm := regexp.MustCompile(`^http://` + regexp.QuoteMeta(roomHost) + `:[0-9]+$`)
	for _, a := range ov.Apps {
		if !portForm.MatchString(a.URL) {
			t.Errorf("app %s at %s: a room's app URL is http://%s:<port>, with no name to resolve", a.Name, a.URL, roomHost)
		}
		urls[a.Name] = a.URL
	}
	if urls["sales-api"] == urls["sales-sql"] {
		t.Fatalf("two apps share an origin: %v", urls)
	}
	// The server's own identities are for a user with server-identities.
	b = signedIn(t, app, "admin", "admin-demo-pass")
	var r api.AppCallResult
	res, body = b.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: urls["sales-api"] + "/api/whoami"})
	if res.StatusCode != 200 || json.Unmarshal(body, &r) != nil || r.Status != 200 {
		t.Fatalf("m2m call in port form: %d %s", res.StatusCode, body)
	}
	// The stopped app stays stopped in port form: the port names the app.
	res, body = b.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: urls["sales-archive"] + "/api/whoami"})
	if json.Unmarshal(body, &r) != nil || r.Status != 404 {
		t.Fatalf("stopped app in port form: %d %s", res.StatusCode, body)
	}
	// Federation: the identity provider on the room's address issues a
	// token the workspace exchanges (its issuer URL names the room).
	res, body = b.do(http.MethodPost, app+api.PathAppsCall, api.AppCallRequest{Source: api.SourceFederated, URL: urls["sales-api"] + "/api/whoami"})
	if json.Unmarshal(body, &r) != nil || r.Status != 200 {
		t.Fatalf("federated call in a room: %d %s", res.StatusCode, body)
	}
	idp := regexp.MustCompile(`identity provider on (http://\S+)`).FindStringSubmatch(out.String())
	res, body = b.do(http.MethodGet, idp[1]+"/.well-known/openid-configuration", nil)
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &disc) != nil || disc.Issuer != idp[1] {
		t.Fatalf("identity provider discovery from the room: %d %s", res.StatusCode, body)
	}
	// U2M's redirect URI is the app's room URL: the sign-in starts there.
	res, body = b.do(http.MethodPost, app+api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis"}})
	var login api.AppsLoginResponse
	if res.StatusCode != 200 || json.Unmarshal(body, &login) != nil {
		t.Fatalf("u2m start: %d %s", res.StatusCode, body)
	}
	au, _ := url.Parse(login.AuthorizationURL)
	if au.Hostname() != roomHost || au.Query().Get("redirect_uri") != app+api.PathAppsCallback {
		t.Fatalf("u2m authorize URL %s: want the workspace on %s and redirect_uri %s", login.AuthorizationURL, roomHost, app+api.PathAppsCallback)
	}
}

func TestRoomHostIsChecked(t *testing.T) {
	for _, h := range []string{"http://192.168.1.20", "localhost", "0.0.0.0", "trainer.local:3000", "bad host"} {
		err := run(context.Background(), nil, func(k string) string {
			return map[string]string{"EMBEDLAB_ROOM_HOST": h}[k]
		}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "EMBEDLAB_ROOM_HOST") {
			t.Errorf("EMBEDLAB_ROOM_HOST=%q: %v", h, err)
		}
	}
}

func TestCallAllowsOnlyTheRoomsOwnPortFormApps(t *testing.T) {
	for _, tc := range []struct {
		app, host string
		ok        bool
	}{
		{"http://192.168.1.20:8003/api/whoami", "http://192.168.1.20:8000", true},
		{"http://192.168.1.20:8003/api/whoami", "", false},
		{"http://192.168.1.21:8003/api/whoami", "http://192.168.1.20:8000", false},
		{"https://192.168.1.20:8003/api/whoami", "http://192.168.1.20:8000", false},
		{"http://192.168.1.20/api/whoami", "http://192.168.1.20:8000", false},
	} {
		if got := roomAppOrigin(tc.app, tc.host); (len(got) == 1) != tc.ok {
			t.Errorf("roomAppOrigin(%s, %s) = %v", tc.app, tc.host, got)
		}
	}
}

// `embedlab room` writes a users file whose every participant signs in
// with the join code printed beside their name; it never overwrites one.
func TestRoomCommandWritesLoginsAndCodes(t *testing.T) {
	file := t.TempDir() + "/room-users.json"
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"room", "-names", "alice,bob", "-out", file}, nil, &out, &errs); err != nil {
		t.Fatalf("%v %s", err, errs.String())
	}
	codes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+)\s+([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$`).FindAllStringSubmatch(out.String(), -1) {
		codes[m[1]] = m[2]
	}
	if len(codes) != 3 || codes["alice"] == "" || codes["admin"] == "" || codes["alice"] == codes["bob"] {
		t.Fatalf("codes: %v\n%s", codes, out.String())
	}
	app, _ := startRoom(t, map[string]string{"EMBEDLAB_USERS_FILE": file})
	signedIn(t, app, "alice", codes["alice"])
	b := newBrowser(t)
	if res, _ := b.do(http.MethodPost, app+api.PathSession, api.LoginRequest{Name: "alice", Password: codes["bob"]}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bob's code let alice in: %d", res.StatusCode)
	}
	if err := run(context.Background(), []string{"room", "-out", file}, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrote the file: %v", err)
	}
}

// The trainer resets one participant through the API; a participant may
// not, and the others' progress stays.
func TestTrainerResetsOneParticipant(t *testing.T) {
	app := startServe(t, map[string]string{"EMBEDLAB_DATA_DIR": t.TempDir()})
	ada, grace := signedIn(t, app, "ada", "ada-demo-pass"), signedIn(t, app, "grace", "grace-demo-pass")
	for _, b := range []*browser{ada, grace} {
		if res, body := b.do(http.MethodPost, app+api.PathWorkshopStart, api.ExerciseRef{ID: "sp-token"}); res.StatusCode != 200 {
			t.Fatalf("start: %d %s", res.StatusCode, body)
		}
	}
	if res, _ := ada.do(http.MethodPost, app+api.PathTrainerReset, api.TrainerReset{User: "grace"}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a participant reset another: %d", res.StatusCode)
	}
	admin := signedIn(t, app, "admin", "admin-demo-pass")
	if res, _ := admin.do(http.MethodPost, app+api.PathTrainerReset, api.TrainerReset{}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a reset naming nobody: %d", res.StatusCode)
	}
	res, body := admin.do(http.MethodPost, app+api.PathTrainerReset, api.TrainerReset{User: "grace"})
	var tr api.Trainer
	if res.StatusCode != 200 || json.Unmarshal(body, &tr) != nil {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	for _, p := range tr.Participants {
		switch {
		case p.User == "grace" && len(p.Cells) != 0, p.User == "ada" && p.Cells["sp-token"].State != api.ExerciseStarted:
			t.Fatalf("after grace's reset: %+v", p)
		}
	}
}
