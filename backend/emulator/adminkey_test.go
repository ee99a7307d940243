package emulator_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

// adminRoutes are every state-changing /emulator/* route, with a body that
// would change the workspace if it were accepted.
var adminRoutes = []struct{ method, path, body string }{
	{http.MethodPost, "/emulator/faults", `{"endpoint":"token","status":500,"count":3}`},
	{http.MethodDelete, "/emulator/faults", ``},
	{http.MethodPut, "/emulator/clock", `{"skew_seconds":600}`},
	{http.MethodPut, "/emulator/token-lifetime", `{"seconds":60}`},
	{http.MethodPut, "/emulator/rate-limit", `{"per_second":1}`},
	{http.MethodPost, "/emulator/rotate-keys", `{}`},
	{http.MethodPut, "/emulator/statement-latency", `{"ms":3000}`},
}

// sharedState is what the admin routes change, as any participant sees it.
type sharedState struct {
	faults emulator.FaultState
	keys   int
	kid    string
	latMS  int64
}

func readShared(t *testing.T, em *emulator.Emulator) sharedState {
	t.Helper()
	var s sharedState
	get(t, em.URL()+"/emulator/faults", "").json(t, &s.faults) // reads stay open
	var set wire.JWKS
	get(t, em.URL()+wire.PathKeys, "").json(t, &set)
	s.keys, s.kid = len(set.Keys), set.Keys[0].Kid
	var lat struct {
		MS int64 `json:"ms"`
	}
	get(t, em.URL()+"/emulator/statement-latency", "").json(t, &lat)
	s.latMS = lat.MS
	return s
}

// A participant who reaches the emulator over the network (a classroom)
// cannot change it for everyone: no key, a wrong key or their own workspace
// token is refused in the workspace's JSON, naming what to send, and
// nothing changes.
func TestAdminRoutesNeedTheAdminKey(t *testing.T) {
	em := start(t)
	participantToken := spToken(t, em)
	if err := em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointToken, Status: 502, Count: 7}); err != nil {
		t.Fatal(err) // something pending, for DELETE to wipe
	}
	before := readShared(t, em)
	for _, rt := range adminRoutes {
		for _, auth := range []struct {
			name, header string
			status       int
			code         string
		}{
			{"no key", "", 401, wire.ErrUnauthenticated},
			{"basic auth", "Basic " + "YWRtaW46YWRtaW4=", 401, wire.ErrUnauthenticated},
			{"wrong key", "Bearer emuadmin-guessed-guessed-guessed", 403, wire.ErrPermissionDenied},
			{"a workspace token", "Bearer " + participantToken, 403, wire.ErrPermissionDenied},
			{"key with a suffix", "Bearer " + em.AdminKey() + "x", 403, wire.ErrPermissionDenied},
		} {
			req, _ := http.NewRequest(rt.method, em.URL()+rt.path, strings.NewReader(rt.body))
			req.Header.Set("Content-Type", "application/json")
			if auth.header != "" {
				req.Header.Set("Authorization", auth.header)
			}
			r := do(t, req)
			var ae wire.APIError
			r.json(t, &ae)
			if r.status != auth.status || ae.ErrorCode != auth.code || !strings.Contains(ae.Message, "admin key") ||
				!strings.Contains(ae.Message, rt.method+" "+rt.path) {
				t.Errorf("%s %s with %s: %d %s; want %d %s naming the admin key", rt.method, rt.path, auth.name, r.status, r.body, auth.status, auth.code)
			}
			if strings.Contains(string(r.body), em.AdminKey()) {
				t.Fatalf("%s %s: the refusal quotes the admin key", rt.method, rt.path)
			}
		}
	}
	if after := readShared(t, em); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused admin calls changed the workspace:\nbefore %+v\nafter  %+v", before, after)
	}

	// The request log, open to everyone, keeps no part of any admin key.
	for _, rt := range adminRoutes[2:3] {
		adminJSON(t, em, rt.method, em.URL()+rt.path, `{"skew_seconds":0}`)
	}
	log := get(t, em.URL()+"/emulator/requests?since=0&limit=5000", "")
	key := em.AdminKey()
	if strings.Contains(string(log.body), key[len(key)-4:]) || strings.Contains(string(log.body), key[len("emuadmin-"):len("emuadmin-")+4]) {
		t.Fatalf("the open request log shows part of the admin key")
	}
}

// With the key, every admin route does its job.
func TestAdminRoutesWorkWithTheAdminKey(t *testing.T) {
	em := start(t)
	before := readShared(t, em)
	for _, rt := range adminRoutes {
		if rt.method == http.MethodDelete {
			continue // checked last: it undoes the others
		}
		if r := adminJSON(t, em, rt.method, em.URL()+rt.path, rt.body); r.status/100 != 2 {
			t.Fatalf("%s %s with the key: %d %s", rt.method, rt.path, r.status, r.body)
		}
	}
	got := readShared(t, em)
	if len(got.faults.Pending) != 1 || got.faults.ClockSkewSeconds != 600 || got.faults.TokenLifetimeSeconds != 60 ||
		got.faults.RateLimitPerSecond != 1 || got.keys != before.keys+1 || got.kid == before.kid || got.latMS != 3000 {
		t.Fatalf("with the key, the admin routes changed too little: before %+v, after %+v", before, got)
	}
	if r := adminJSON(t, em, http.MethodDelete, em.URL()+"/emulator/faults", ""); r.status != 200 {
		t.Fatalf("DELETE with the key: %d %s", r.status, r.body)
	}
	if got := readShared(t, em); len(got.faults.Pending) != 0 || got.faults.ClockSkewSeconds != 0 || got.latMS != 0 {
		t.Fatalf("DELETE with the key did not reset: %+v", got)
	}
}

// The key is random per emulator unless given; a given key is the only one
// accepted, and a weak one is refused at start without being quoted.
func TestAdminKeyGivenOrRandom(t *testing.T) {
	a, b := start(t), testkit.Emulator(t, emulator.Options{})
	if a.AdminKey() == b.AdminKey() || len(a.AdminKey()) < 40 {
		t.Fatalf("random admin keys: %q and %q", a.AdminKey(), b.AdminKey())
	}
	if r := adminJSON(t, b, http.MethodPut, b.URL()+"/emulator/clock", `{"skew_seconds":5}`); r.status != 200 {
		t.Fatalf("own key: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodPut, a.URL()+"/emulator/clock", strings.NewReader(`{"skew_seconds":5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.AdminKey())
	if r := do(t, req); r.status != 403 {
		t.Fatalf("another emulator's key: %d %s", r.status, r.body)
	}

	const given = "trainer-room-42-key-of-mine"
	em := testkit.Emulator(t, emulator.Options{AdminKey: given})
	if em.AdminKey() != given {
		t.Fatalf("AdminKey() = %q, want the given key", em.AdminKey())
	}
	if r := adminJSON(t, em, http.MethodPut, em.URL()+"/emulator/clock", `{"skew_seconds":5}`); r.status != 200 {
		t.Fatalf("given key: %d %s", r.status, r.body)
	}
	for _, weak := range []string{"k3y-weak", "has a space in it ok", "tab\there-and-long-enough"} {
		_, err := emulator.New(emulator.Options{AdminKey: weak})
		if err == nil || strings.Contains(err.Error(), weak) || !strings.Contains(err.Error(), "admin key") {
			t.Errorf("admin key %q: err = %v; want a refusal that does not quote it", weak, err)
		}
	}
}
