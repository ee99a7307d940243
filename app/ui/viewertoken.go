package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// browserAttempts is how many times the page asks the backend for a token
// that the workspace's rate limit refused (the backend retries each time
// too, so this is the page's patience on top of the backend's).
const browserAttempts = 3

// viewerToken is one frame's viewer and the token the backend got for it,
// shared by the dashboard and compare pages. Every selection gets a new
// sequence number, and an answer is applied only when it was asked for the
// current one: a slow answer for a viewer the user has left can never land
// on the viewer now shown, however fast the switches come.
type viewerToken struct {
	viewer    string
	seq       atomic.Int64 // read by the fetching goroutine to stop early
	token     *api.EmbedToken
	err       error
	loading   bool // a fetch for the current seq is in flight
	refreshes int
	wait      tokenWait
}

// tokenWait is what a pending fetch waits for, shown while it waits.
type tokenWait struct {
	since   time.Time
	attempt int       // the page's attempt, of browserAttempts
	retryAt time.Time // when the page asks again after a 429; zero if not waiting
	backend api.EmbedTokenWait
	until   time.Time // when the backend's next attempt is due
}

// choose selects a viewer and fetches its token, unless it is already
// selected and has (or is getting) one. It reports whether it changed.
func (v *viewerToken) choose(ctx app.Context, viewer string, done func(ctx app.Context, refresh bool, err error)) bool {
	if viewer == v.viewer && (v.token != nil || v.loading || v.err != nil) {
		return false
	}
	v.viewer = viewer
	v.restart(ctx, done)
	return true
}

// restart forgets the token and fetches anew for the same viewer (a new
// selection, or Retry after a failure).
func (v *viewerToken) restart(ctx app.Context, done func(ctx app.Context, refresh bool, err error)) {
	v.seq.Add(1)
	v.token, v.err, v.loading, v.refreshes = nil, nil, false, 0
	v.fetch(ctx, false, done)
}

// current reports whether tok is the token of the selected viewer. Every
// renderer checks it before showing a token, so the heading, the inspector
// and the frame can only show one viewer.
func (v *viewerToken) current() *api.EmbedToken {
	if v.token == nil || v.token.Viewer.ID != v.viewer {
		return nil
	}
	return v.token
}

// fetch asks the backend for the selected viewer's token; refresh is set
// when the frame asked because the current one is about to expire (the
// old token stays on screen meanwhile). done, when not nil, runs after the
// answer was applied.
func (v *viewerToken) fetch(ctx app.Context, refresh bool, done func(ctx app.Context, refresh bool, err error)) {
	if v.loading {
		return
	}
	v.loading = true
	v.wait = tokenWait{since: time.Now(), attempt: 1}
	seq, viewer := v.seq.Load(), v.viewer
	stale := func() bool { return v.seq.Load() != seq }
	stopPoll := v.pollWait(ctx, seq, viewer)
	ctx.Async(func() {
		tok, err := fetchEmbedToken(viewer, stale, func(attempt int, retryAt time.Time) {
			ctx.Dispatch(func(ctx app.Context) {
				if !stale() {
					v.wait.attempt, v.wait.retryAt = attempt, retryAt
				}
			})
		})
		stopPoll()
		ctx.Dispatch(func(ctx app.Context) {
			if stale() {
				return // the user chose another viewer meanwhile
			}
			v.loading = false
			v.wait = tokenWait{}
			switch {
			case err != nil:
				v.err = err
			case tok.Viewer.ID != viewer:
				v.err = fmt.Errorf("the backend answered with a token for %q when asked for %q; it was not shown", tok.Viewer.ID, viewer)
			default:
				v.err = nil
				if refresh {
					v.refreshes++
				}
				v.token = &tok
			}
			if done != nil {
				done(ctx, refresh, v.err)
			}
		})
	})
}

// pollWait asks the backend, every half second while the fetch is pending,
// what it waits for, so the page can show it. It returns the stop func.
func (v *viewerToken) pollWait(ctx app.Context, seq int64, viewer string) func() {
	var stopped atomic.Bool
	ctx.Async(func() {
		for {
			time.Sleep(500 * time.Millisecond)
			if stopped.Load() || v.seq.Load() != seq {
				return
			}
			var w api.EmbedTokenWait
			_, err := request(http.MethodGet, api.PathEmbedTokenWait+"?"+api.QueryViewer+"="+url.QueryEscape(viewer), "", nil, &w)
			if err != nil || stopped.Load() {
				continue
			}
			at := time.Now()
			ctx.Dispatch(func(ctx app.Context) {
				if v.seq.Load() == seq && v.loading {
					v.wait.backend = w
					v.wait.until = at.Add(time.Duration(w.RetryInMS) * time.Millisecond)
				}
			})
		}
	})
	return func() { stopped.Store(true) }
}

// fetchEmbedToken asks the backend for one viewer's token. When the
// backend answers 429 (the workspace's rate limit held even after its own
// retries) it waits as Retry-After says and asks again, up to
// browserAttempts times, telling onWait about each wait; it gives up early
// when stale says the answer is no longer wanted.
func fetchEmbedToken(viewer string, stale func() bool, onWait func(attempt int, retryAt time.Time)) (api.EmbedToken, error) {
	var tok api.EmbedToken
	for i := 1; ; i++ {
		status, err := request(http.MethodGet, api.PathEmbedToken+"?"+api.QueryViewer+"="+url.QueryEscape(viewer), "", nil, &tok)
		var e *apiError
		if status != http.StatusTooManyRequests || i == browserAttempts || !errors.As(err, &e) || stale() {
			return tok, err
		}
		d := time.Duration(min(max(e.body.RetryAfter, 1), 10)) * time.Second
		if onWait != nil {
			onWait(i+1, time.Now().Add(d))
		}
		time.Sleep(d)
		if stale() {
			return tok, err
		}
	}
}

// renderWait is the "Getting a token" card: what it waits for, a
// countdown and the attempt number, refreshed by the page's clock.
func (v *viewerToken) renderWait(id, name string, now time.Time) app.UI {
	w := v.wait
	lines := []app.UI{app.Strong().Text("Getting a token for " + name + "…")}
	elapsed := now.Sub(w.since).Truncate(time.Second)
	if b := w.backend; b.Waiting {
		left := max(0, w.until.Sub(now)).Round(100 * time.Millisecond)
		what := "the workspace's rate limit"
		if b.Step != "rate limit" {
			what = "a retry of " + b.Step
		}
		lines = append(lines, app.P().Class("wait-what").Text(fmt.Sprintf(
			"Waiting for %s: %s. Attempt %d of %d in %s.", what, b.Reason, b.Attempt, b.Attempts, left)))
	}
	if !w.retryAt.IsZero() {
		left := max(0, w.retryAt.Sub(now)).Round(100 * time.Millisecond)
		lines = append(lines, app.P().Class("wait-what").Text(fmt.Sprintf(
			"The workspace kept answering 429 Too Many Requests: this page asks again in %s (attempt %d of %d).", left, w.attempt, browserAttempts)))
	}
	if elapsed >= time.Second {
		lines = append(lines, app.P().Class("muted small").Text("Waiting for "+elapsed.String()+"."))
	}
	return app.Div().ID(id).Class("card waiting").DataSet("attempt", w.attempt).DataSet("backend-attempt", w.backend.Attempt).Body(lines...)
}
