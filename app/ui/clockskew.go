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

// skewSaid is the skew of tok's workspace clock in words ("Clock skew: the
// workspace's clock is 2h0m0s behind this server's"), when it is past
// skewThreshold; ok is false when it is not.
func skewSaid(tok *api.EmbedToken) (d time.Duration, said string, ok bool) {
	d = clockSkew(tok)
	if d > -skewThreshold && d < skewThreshold {
		return d, "", false
	}
	dir, abs := "ahead of", d
	if d < 0 {
		dir, abs = "behind", -d
	}
	return d, "Clock skew: the workspace's clock is " + abs.String() + " " + dir + " this server's", true
}

// skewNote names clock skew in the token inspector, when there is some.
func skewNote(tok *api.EmbedToken) app.UI {
	d, said, ok := skewSaid(tok)
	if !ok {
		return app.Text("")
	}
	msg := said + ". The token's iat and exp are on the workspace's clock"
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
	_, said, ok := skewSaid(tok)
	if !ok {
		return app.Text("")
	}
	return app.P().ID("frame-clock-skew").Class("error clock-skew").Text(said +
		", so this token's exp looks wrong to anyone reading it with a local clock; see the token inspector. Fix: synchronise the clocks (NTP); in the fault lab, turn the clock skew off.")
}
