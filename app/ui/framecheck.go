package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// frameReadyTimeout is how long a mounted frame may stay silent before the
// page asks why: a browser that cannot load a frame (workspace down, CSP
// frame-ancestors, a 404) tells the embedding page nothing.
const frameReadyTimeout = 5 * time.Second

// frameRecheckEvery is how often a stalled frame asks again, so it recovers
// by itself when the workspace comes back.
const frameRecheckEvery = 3 * time.Second

// Codes of a stalled frame that the backend's check cannot name.
const codeFrameSilent = "frame_silent"

// frameWatchdog watches one dashboardFrame: when the embed page has not
// posted READY within frameReadyTimeout it asks the backend why (is the
// workspace reachable, does it let this origin frame it, does the page
// exist), says so in words over the frame with a Retry button, and keeps
// asking; once the cause is gone it loads the frame again by itself.
type frameWatchdog struct {
	gen      int // a new mount or a READY invalidates older timers and checks
	isReady  bool
	timer    *time.Timer
	problem  error // the diagnosis while stalled; nil otherwise
	checks   int   // checks since the frame stalled
	checking bool
}

func (w *frameWatchdog) state() string {
	switch {
	case w.isReady:
		return "ready"
	case w.problem != nil:
		return "stalled"
	}
	return "loading"
}

func (w *frameWatchdog) stop() {
	w.gen++
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// start is called for each new iframe.
func (w *frameWatchdog) start(ctx app.Context, f *dashboardFrame) {
	w.stop()
	w.isReady, w.checks, w.checking = false, 0, false
	// The diagnosis stays on screen while the new iframe tries, so a retry
	// does not blank the words the presenter is reading.
	w.after(ctx, f, frameReadyTimeout)
}

func (w *frameWatchdog) after(ctx app.Context, f *dashboardFrame, d time.Duration) {
	gen := w.gen
	w.timer = time.AfterFunc(d, func() {
		ctx.Dispatch(func(ctx app.Context) {
			if gen == w.gen && !w.isReady && !f.dismounted {
				w.check(ctx, f, gen)
			}
		})
	})
}

// ready is called when the current iframe posts READY.
func (w *frameWatchdog) ready(f *dashboardFrame) {
	w.stop()
	w.isReady, w.problem, w.checks = true, nil, 0
}

// check asks the backend about the workspace and this frame's page.
func (w *frameWatchdog) check(ctx app.Context, f *dashboardFrame, gen int) {
	if w.checking {
		return
	}
	w.checking = true
	w.checks++
	origin := app.Window().Get("location").Get("origin").String()
	q := url.Values{"origin": {origin}}
	if f.IPage != "" {
		q.Set("page", f.IPage)
	}
	ctx.Async(func() {
		var ck api.EmbedCheck
		_, err := request(http.MethodGet, api.PathEmbedCheck+"?"+q.Encode(), "", nil, &ck)
		ctx.Dispatch(func(ctx app.Context) {
			w.checking = false
			if gen != w.gen || w.isReady || f.dismounted {
				return
			}
			problem := frameProblem(ck, origin, err)
			was := w.problem
			if problem == nil && was != nil && frameCode(was) != codeFrameSilent {
				// The cause is gone: the workspace answers, allows this
				// origin and has the page. Load the frame again.
				w.problem = nil
				f.remount("the workspace answers again: loading the dashboard anew")
				return
			}
			if problem == nil {
				problem = &apiError{status: 0, body: api.Error{Error: codeFrameSilent,
					Message: fmt.Sprintf("The workspace answers and allows this origin, but its embed page has not said %s after %s.", msgReady, frameReadyTimeout),
					Fix:     "Retry; if it stays silent, open the browser's console for the frame's errors."}}
			}
			if was == nil || frameCode(was) != frameCode(problem) {
				f.emit(ctx, "stalled", frameCode(problem), problem.Error())
			}
			w.problem = problem
			if frameCode(problem) != codeFrameSilent {
				w.after(ctx, f, frameRecheckEvery)
			}
		})
	})
}

func frameCode(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.body.Error
	}
	return ""
}

// frameProblem turns the backend's check into the reason a frame stays
// silent, or nil when the check finds nothing wrong.
func frameProblem(ck api.EmbedCheck, origin string, err error) error {
	if err != nil {
		var e *apiError
		if errors.As(err, &e) && e.body.Error == api.CodeUnreachable {
			return &apiError{status: e.status, body: api.Error{Error: api.CodeUnreachable, RequestID: e.body.RequestID,
				Message: "The dashboard frame cannot load: embedlab's server cannot reach the workspace either (" + e.body.Message + ").",
				Fix:     "Start the workspace again (in the fault lab: turn \"Workspace down\" off); the frame reloads by itself when it answers."}}
		}
		return err
	}
	if ck.PageStatus == http.StatusNotFound {
		return &apiError{status: http.StatusNotFound, body: api.Error{Error: api.CodeEmbedPageNotFound,
			Message: "The workspace has no such dashboard page: its embed page answered 404.",
			Fix:     "Pick another page, check DASHBOARD_ID and publish the dashboard."}}
	}
	if ck.PageStatus >= 500 {
		return &apiError{status: ck.PageStatus, body: api.Error{Error: api.CodeUpstream,
			Message: fmt.Sprintf("The workspace's embed page answered %d.", ck.PageStatus),
			Fix:     "Wait a moment; the frame reloads by itself when the workspace answers."}}
	}
	if !ck.Allowed {
		allowed := "no origin"
		if len(ck.FrameAncestors) > 0 && ck.FrameAncestors[0] != "'none'" {
			allowed = strings.Join(ck.FrameAncestors, ", ")
		}
		return &apiError{status: http.StatusForbidden, body: api.Error{Error: api.CodeOriginNotAllowed,
			Message: "The dashboard frame never loaded: the workspace allows embedding from " + allowed + ", not from " + origin +
				" (its embed page's CSP frame-ancestors), so the browser refused to show it.",
			Fix: "Add " + origin + " to the workspace's approved embedding domains (in the emulator: embedding_origins, or reset the fault lab)."}}
	}
	return nil
}

// render is the words over a stalled frame, with a Retry button.
func (w *frameWatchdog) render(f *dashboardFrame) app.UI {
	if w.problem == nil {
		return app.Text("")
	}
	auto := "Checking again every " + frameRecheckEvery.String() + fmt.Sprintf(" (check %d); the frame reloads by itself once the cause is gone.", w.checks)
	if frameCode(w.problem) == codeFrameSilent {
		auto = ""
	}
	return app.Div().Class("frame-stalled").DataSet("code", frameCode(w.problem)).Body(
		&troubleshooter{IErr: w.problem},
		app.Div().Class("row").Body(
			app.Button().Class("retry").Type("button").Text("Retry now").OnClick(func(ctx app.Context, e app.Event) {
				f.remount("retry: loading the dashboard anew")
			}),
			app.If(auto != "", func() app.UI { return app.Span().Class("muted small").Text(auto) }),
		),
	)
}
