package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// frameReadyTimeout is how long a mounted frame may stay silent before the
// page asks whether the workspace lets this origin frame the dashboard: a
// browser that refuses a frame (CSP frame-ancestors) tells the page nothing.
const frameReadyTimeout = 6 * time.Second

// frameWatch follows the dashboard frame's protocol events.
type frameWatch struct {
	gen   int
	ready bool
}

// watchFrame is called with each frame event of the dashboard page.
func (p *dashboardPage) watchFrame(ctx app.Context, ev frameEvent) {
	switch ev.Kind {
	case "mount":
		p.watch.gen++
		p.watch.ready = false
		gen := p.watch.gen
		ctx.After(frameReadyTimeout, func(ctx app.Context) {
			if gen == p.watch.gen && !p.watch.ready && p.token != nil {
				p.checkOrigin(ctx, gen)
			}
		})
	case "ready":
		p.watch.ready = true
		if e, ok := p.failure.(*apiError); ok && e.body.Error == api.CodeOriginNotAllowed {
			p.failure = nil
		}
	}
}

// checkOrigin asks the backend for the workspace's frame-ancestors and
// names the cause when this page's origin is not among them.
func (p *dashboardPage) checkOrigin(ctx app.Context, gen int) {
	origin := app.Window().Get("location").Get("origin").String()
	ctx.Async(func() {
		var ck api.EmbedCheck
		_, err := request(http.MethodGet, api.PathEmbedCheck+"?origin="+url.QueryEscape(origin), "", nil, &ck)
		ctx.Dispatch(func(ctx app.Context) {
			if gen != p.watch.gen || p.watch.ready || err != nil || ck.Allowed {
				return
			}
			allowed := "no origin"
			if len(ck.FrameAncestors) > 0 && ck.FrameAncestors[0] != "'none'" {
				allowed = strings.Join(ck.FrameAncestors, ", ")
			}
			p.failure = &apiError{status: http.StatusForbidden, body: api.Error{Error: api.CodeOriginNotAllowed,
				Message: "The dashboard frame never loaded: the workspace allows embedding from " + allowed + ", not from " + origin +
					" (its embed page's CSP frame-ancestors), so the browser refused to show it.",
				Fix: "Add " + origin + " to the workspace's approved embedding domains (in the emulator: embedding_origins, or reset the fault lab)."}}
		})
	})
}
