package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// skewThreshold is how far the workspace's clock may be from the
// backend's before the inspector says so.
const skewThreshold = time.Minute

// clockSkew compares the token's exp (the workspace's clock) with the
// expiry the backend computed from expires_in (its own clock): they differ
// by the clocks' difference.
func clockSkew(tok *api.EmbedToken) time.Duration {
	if tok == nil || tok.Claims.ExpiresAt == 0 || tok.ExpiresAt.IsZero() {
		return 0
	}
	return time.Unix(tok.Claims.ExpiresAt, 0).Sub(tok.ExpiresAt).Round(time.Second)
}

// skewNote names clock skew in the token inspector, when there is some.
func skewNote(tok *api.EmbedToken) app.UI {
	d := clockSkew(tok)
	if d > -skewThreshold && d < skewThreshold {
		return app.Text("")
	}
	dir, abs := "ahead of", d
	if d < 0 {
		dir, abs = "behind", -d
	}
	msg := "Clock skew: the workspace's clock is " + abs.String() + " " + dir + " this server's. The token's iat and exp are on the workspace's clock"
	if d < 0 {
		msg += ", so a token issued just now looks expired to anyone who reads exp with the local clock (the frame does)."
	} else {
		msg += ", so it looks issued in the future."
	}
	return app.P().ID("clock-skew").Class("error clock-skew").Text(msg + " Fix: synchronise the clocks (NTP); in the fault lab, turn the clock skew off.")
}

// skewBanner warns above the dashboard frame, where the presenter looks,
// when the workspace's clock is off: the frame itself still shows rows (the
// workspace checks exp on its own clock), so only this page can say it.
func skewBanner(tok *api.EmbedToken) app.UI {
	d := clockSkew(tok)
	if d > -skewThreshold && d < skewThreshold {
		return app.Text("")
	}
	dir, abs := "ahead of", d
	if d < 0 {
		dir, abs = "behind", -d
	}
	return app.P().ID("frame-clock-skew").Class("error clock-skew").Text("Clock skew: the workspace's clock is " + abs.String() + " " + dir +
		" this server's, so this token's exp looks wrong to anyone reading it with a local clock; see the token inspector. Fix: synchronise the clocks (NTP); in the fault lab, turn the clock skew off.")
}
