package lab_test

import (
	"context"
	"embedlab/shared/wire"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/backend/emulator"
	"embedlab/backend/lab"
	"embedlab/backend/testkit"
)

func setup(t *testing.T) (*emulator.Emulator, *broker.Broker, *lab.Lab) {
	t.Helper()
	em := testkit.Emulator(t, emulator.Options{})
	dash, id, secret, err := em.Embedding()
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Config{InstanceURL: em.URL(), ClientID: id, ClientSecret: secret, Rate: 1000,
		MaxBackoff: 100 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l, _, st, err := lab.Wire(em, lab.Options{ClientID: id, DashboardID: dash, ProgressFile: filepath.Join(t.TempDir(), "w.db")}, b.Forget)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return em, b, l
}

func TestEachToggleShowsAsTheCauseTheUINames(t *testing.T) {
	em, b, l := setup(t)
	dash, _, _, _ := em.Embedding()
	req := broker.Request{DashboardID: dash, ExternalViewerID: "viewer-emea", ExternalValue: "EMEA"}
	ctx := context.Background()
	if _, err := b.Token(ctx, req); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		kind broker.Kind
	}{
		{lab.RevokeSecret, broker.KindBadSecret},
		{lab.NoCanRun, broker.KindNoCanRun},
		{lab.Unpublish, broker.KindUnknownDashboard},
		{lab.RateStorm, broker.KindRateLimited},
	} {
		if _, err := l.Set(c.id, true); err != nil {
			t.Fatal(err)
		}
		// The cached token must not hide the fault.
		if _, err := b.Token(ctx, req); !broker.IsKind(err, c.kind) {
			t.Errorf("%s on: err = %v, want %s", c.id, err, c.kind)
		}
		if _, err := l.Set(c.id, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Token(ctx, req); err != nil {
			t.Errorf("%s off: %v", c.id, err)
		}
	}
}

func TestStateTogglesAndReset(t *testing.T) {
	em, b, l := setup(t)
	dash, _, _, _ := em.Embedding()
	ctx := context.Background()
	for _, id := range []string{lab.ShortLifetime, lab.ClockSkew, lab.DropScope, lab.BlockOrigin} {
		if _, err := l.Set(id, true); err != nil {
			t.Fatal(err)
		}
	}
	r, err := b.Token(ctx, broker.Request{DashboardID: dash, ExternalViewerID: "viewer-emea", ExternalValue: "EMEA"})
	if err != nil {
		t.Fatal(err)
	}
	// The official client asks for a new token 5 minutes before exp: a
	// shorter lifetime sends it into a refresh loop or IFRAME_NOT_LOADED_TOKEN_EXPIRED.
	if life := r.Claims.ExpiresAt - r.Claims.IssuedAt; life != 360 || time.Duration(life)*time.Second <= wire.EmbedClientRefreshLead {
		t.Errorf("lifetime %d s, want 360 (more than the official client's 5-minute lead)", life)
	}
	if skew := time.Unix(r.Claims.IssuedAt, 0).Sub(time.Now()); skew > -119*time.Minute || skew < -121*time.Minute {
		t.Errorf("iat is %s from now, want about -2h", skew)
	}
	if r.Claims.HasScope("dashboards.query-execution") || !r.Claims.HasScope("dashboards.lakeview-embedded:read") {
		t.Errorf("scopes %q", r.Claims.Scope)
	}
	res, err := http.Get(em.URL() + "/embed/dashboardsv3/" + dash + "?o=" + em.WorkspaceID())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	on := 0
	for _, tg := range l.Toggles().Toggles {
		if tg.On {
			on++
		}
	}
	if on != 4 {
		t.Errorf("%d toggles on, want 4", on)
	}
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	r, err = b.Token(ctx, broker.Request{DashboardID: dash, ExternalViewerID: "viewer-emea", ExternalValue: "EMEA"})
	if err != nil || r.FromCache || r.Claims.ExpiresAt-r.Claims.IssuedAt != 3600 || !r.Claims.HasScope("dashboards.query-execution") {
		t.Fatalf("after reset: %+v %v", r, err)
	}
	if f := em.Faults(); f.ClockSkewSeconds != 0 || f.RateLimitPerSecond != 20 {
		t.Errorf("faults after reset: %+v", f)
	}
	if _, err := l.Set("nope", true); err == nil {
		t.Error("an unknown toggle was accepted")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
