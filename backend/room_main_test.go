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
	"strings"
	"testing"
	"time"

	"embedlab/backend/roomsim"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// roomHost is a second loopback address standing in for the trainer
// machine's address on a room's network: traffic stays on this machine,
// but nothing answers it unless it was bound for the room. (A room reached
// from another machine's network: backend/e2e/netns_test.go.)
const roomHost = "127.0.0.2"

// startRoom runs `embedlab serve` in a room on roomHost (startServe).
func startRoom(t *testing.T, extra map[string]string) (string, *testkit.Buffer) {
	t.Helper()
	return startServe(t, with(extra, "EMBEDLAB_ROOM_HOST", roomHost))
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

	b := testkit.SignedIn(t, app, testkit.Admin) // M2M below needs server-identities
	var es api.EmbedSettings
	r := b.Do(http.MethodGet, api.PathEmbedSettings, nil)
	if r.Status != 200 || json.Unmarshal(r.Body, &es) != nil || !strings.HasPrefix(es.InstanceURL, "http://"+roomHost+":") {
		t.Fatalf("embed settings: %d %s", r.Status, r.Body)
	}
	// The embed page, from the room, lets the app's room origin frame it.
	r = b.Do(http.MethodGet, wire.EmbedURL(es.InstanceURL, es.WorkspaceID, es.DashboardID, "", ""), nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors") ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), app) {
		t.Fatalf("embed page: %d CSP %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
	// A viewer's token through the room, then the dashboard's rows with it.
	var tok api.EmbedToken
	r = b.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil)
	if r.Status != 200 || json.Unmarshal(r.Body, &tok) != nil || tok.Token == "" {
		t.Fatalf("embed token through the room: %d %s", r.Status, r.Body)
	}

	// Apps in port form on the room's address, and a call to one.
	var ov api.AppsOverview
	r = b.Do(http.MethodGet, api.PathApps, nil)
	if r.Status != 200 || json.Unmarshal(r.Body, &ov) != nil || len(ov.Apps) < 3 {
		t.Fatalf("apps: %d %s", r.Status, r.Body)
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
	b = testkit.SignedIn(t, app, testkit.Admin)
	var call api.AppCallResult
	r = b.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: urls["sales-api"] + "/api/whoami"})
	if r.Status != 200 || json.Unmarshal(r.Body, &call) != nil || call.Status != 200 {
		t.Fatalf("m2m call in port form: %d %s", r.Status, r.Body)
	}
	// The stopped app stays stopped in port form: the port names the app.
	r = b.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceM2M, URL: urls["sales-archive"] + "/api/whoami"})
	if json.Unmarshal(r.Body, &call) != nil || call.Status != 404 {
		t.Fatalf("stopped app in port form: %d %s", r.Status, r.Body)
	}
	// Federation: the identity provider on the room's address issues a
	// token the workspace exchanges (its issuer URL names the room).
	r = b.Do(http.MethodPost, api.PathAppsCall, api.AppCallRequest{Source: api.SourceFederated, URL: urls["sales-api"] + "/api/whoami"})
	if json.Unmarshal(r.Body, &call) != nil || call.Status != 200 {
		t.Fatalf("federated call in a room: %d %s", r.Status, r.Body)
	}
	idp := regexp.MustCompile(`identity provider on (http://\S+)`).FindStringSubmatch(out.String())
	r = b.Do(http.MethodGet, idp[1]+"/.well-known/openid-configuration", nil)
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &disc) != nil || disc.Issuer != idp[1] {
		t.Fatalf("identity provider discovery from the room: %d %s", r.Status, r.Body)
	}
	// U2M's redirect URI is the app's room URL: the sign-in starts there.
	r = b.Do(http.MethodPost, api.PathAppsLogin, api.AppsLoginRequest{Scopes: []string{"all-apis"}})
	var login api.AppsLoginResponse
	if r.Status != 200 || json.Unmarshal(r.Body, &login) != nil {
		t.Fatalf("u2m start: %d %s", r.Status, r.Body)
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
	var out, errs testkit.Buffer
	if err := run(context.Background(), []string{"room", "-names", "alice,bob", "-out", file}, nil, &out, &errs); err != nil {
		t.Fatalf("%v %s", err, errs.String())
	}
	codes := map[string]string{}
	trainer, ps := roomsim.ParseLogins(out.String())
	for _, l := range append(ps, trainer) {
		codes[l.Name] = l.Password
	}
	if len(codes) != 3 || codes["alice"] == "" || codes["admin"] == "" || codes["alice"] == codes["bob"] {
		t.Fatalf("codes: %v\n%s", codes, out.String())
	}
	app, _ := startRoom(t, map[string]string{"EMBEDLAB_USERS_FILE": file})
	testkit.SignedIn(t, app, testkit.User{Name: "alice", Password: codes["alice"]})
	if r := testkit.NewClient(t, app).Login(testkit.User{Name: "alice", Password: codes["bob"]}); r.Status != http.StatusUnauthorized {
		t.Fatalf("bob's code let alice in: %d", r.Status)
	}
	if err := run(context.Background(), []string{"room", "-out", file}, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrote the file: %v", err)
	}
}

// The trainer resets one participant through the API; a participant may
// not, and the others' progress stays.
func TestTrainerResetsOneParticipant(t *testing.T) {
	app, _ := startServe(t, map[string]string{"EMBEDLAB_DATA_DIR": t.TempDir()})
	ada, grace := testkit.SignedIn(t, app, testkit.Ada), testkit.SignedIn(t, app, testkit.Grace)
	for _, b := range []*testkit.Client{ada, grace} {
		if r := b.Do(http.MethodPost, api.PathWorkshopStart, api.ExerciseRef{ID: "sp-token"}); r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
	}
	if r := ada.Do(http.MethodPost, api.PathTrainerReset, api.TrainerReset{User: "grace"}); r.Status != http.StatusForbidden {
		t.Fatalf("a participant reset another: %d", r.Status)
	}
	admin := testkit.SignedIn(t, app, testkit.Admin)
	if r := admin.Do(http.MethodPost, api.PathTrainerReset, api.TrainerReset{}); r.Status != http.StatusBadRequest {
		t.Fatalf("a reset naming nobody: %d", r.Status)
	}
	r := admin.Do(http.MethodPost, api.PathTrainerReset, api.TrainerReset{User: "grace"})
	var tr api.Trainer
	if r.Status != 200 || json.Unmarshal(r.Body, &tr) != nil {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	for _, p := range tr.Participants {
		switch {
		case p.User == "grace" && len(p.Cells) != 0, p.User == "ada" && p.Cells["sp-token"].State != api.ExerciseStarted:
			t.Fatalf("after grace's reset: %+v", p)
		}
	}
}
