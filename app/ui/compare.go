package ui

import (
	"fmt"
	"net/url"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// comparePage shows two viewers side by side, each with its own token and
// its own iframe, so row filtering is visible at a glance. The pair is in
// the URL (?a=ID&b=ID), so a link reopens it.
type comparePage struct {
	app.Compo

	basics embedBasics
	sides  [2]viewerToken
	ctx    app.Context // the page's, from OnNav (see dashboardPage.ctx)
}

var sideKeys = [2]string{"a", "b"}

func (p *comparePage) OnNav(ctx app.Context) {
	p.ctx = ctx
	ctx.Page().SetTitle("Compare viewers · embedlab")
	q := ctx.Page().URL().Query()
	a, b := q.Get("a"), q.Get("b")
	p.basics.load(ctx, func(ctx app.Context) { p.choose(ctx, a, b) })
}

// choose fills the two sides: the viewers named in the URL, else the first
// two the user may act as.
func (p *comparePage) choose(ctx app.Context, a, b string) {
	vs := p.basics.viewers
	if len(vs) == 0 {
		return
	}
	want := [2]string{a, b}
	for i := range want {
		if want[i] == "" {
			want[i] = vs[min(i, len(vs)-1)].ID
		}
		side := &p.sides[i]
		if p.basics.unknownViewer(want[i]) {
			side.seq.Add(1)
			side.viewer, side.token, side.loading, side.err = want[i], nil, false, unknownViewerError(want[i], vs)
			continue
		}
		side.choose(ctx, want[i], nil)
	}
}

func (p *comparePage) retry(i int) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if !p.basics.unknownViewer(p.sides[i].viewer) {
			p.sides[i].restart(p.ctx, nil)
		}
	}
}

func (p *comparePage) href(i int, viewer string) string {
	v := url.Values{"a": {p.sides[0].viewer}, "b": {p.sides[1].viewer}}
	v.Set(sideKeys[i], viewer)
	return "/compare?" + v.Encode()
}

func (p *comparePage) Render() app.UI {
	if !p.basics.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	vs := p.basics.viewers
	return app.Div().Class("app").Body(
		&topBar{ISession: p.basics.session, IActive: "compare", IQuery: "?" + url.Values{"viewer": {p.sides[0].viewer}}.Encode()},
		app.Main().Class("compare").Body(
			app.If(p.basics.failure != nil, func() app.UI { return &troubleshooter{IErr: p.basics.failure} }),
			app.If(len(vs) == 0 && p.basics.failure == nil, func() app.UI { return noViewers(p.basics.session.User) }),
			app.If(len(vs) == 1, func() app.UI {
				return app.P().ID("one-viewer").Class("card note").Text("You may act as one viewer only, so both sides show " +
					vs[0].DisplayName + ". Sign in as a user with two or more viewers (e.g. ada or admin) to compare.")
			}),
			app.If(len(vs) > 0, func() app.UI {
				return app.Div().Body(
					p.renderVerdict(),
					app.Div().Class("compare-grid").Body(p.renderSide(0), p.renderSide(1)),
				)
			}),
		),
	)
}

// renderVerdict says in words why the two sides differ (or do not), or
// which side has no token and why.
func (p *comparePage) renderVerdict() app.UI {
	a, b := p.sides[0].current(), p.sides[1].current()
	for i, side := range []string{"left", "right"} {
		if err := p.sides[i].err; err != nil && p.sides[i].current() == nil {
			return app.P().ID("verdict").Class("card verdict trouble").DataSet("failed", sideKeys[i]).
				Text("The " + side + " side has no token, so there is nothing to compare yet: " + errorText(err))
		}
	}
	if a == nil || b == nil {
		return app.P().ID("verdict").Class("card muted").Text("Getting a token for each viewer…")
	}
	va, vb := customValue(a), customValue(b)
	text := fmt.Sprintf("Same dashboard, same SQL, two tokens: the workspace binds external_value %q on the left and %q on the right into every dataset that uses __aibi_external_value, so each side sees only its own rows.", va, vb)
	if va == vb {
		text = fmt.Sprintf("Both tokens carry external_value %q, so both sides see the same rows. Pick two viewers with different values.", va)
	}
	return app.P().ID("verdict").Class("card verdict").DataSet("same", va == vb).Text(text)
}

func customValue(t *api.EmbedToken) string {
	pc, err := wire.ParseCustomClaim(t.Claims.CustomClaim)
	if err != nil {
		return "?"
	}
	return pc.ExternalValue
}

func (p *comparePage) renderSide(i int) app.UI {
	side := &p.sides[i]
	key := sideKeys[i]
	tok := side.current()
	unknown := p.basics.unknownViewer(side.viewer)
	return app.Section().ID("side-"+key).Class("card compare-side").DataSet("viewer", side.viewer).Body(
		app.Div().Class("side-head").Body(
			app.Label().For("pick-"+key).Text(map[int]string{0: "Left", 1: "Right"}[i]+" viewer"),
			app.Select().ID("pick-"+key).OnChange(func(ctx app.Context, e app.Event) {
				ctx.Navigate(p.href(i, ctx.JSSrc().Get("value").String()))
			}).Body(
				// A viewer id from the URL that the user does not have is
				// shown as it is, not silently replaced by the first option.
				app.If(unknown, func() app.UI {
					return app.Option().Value(side.viewer).Selected(true).Disabled(true).Text(side.viewer + " (not one of your viewers)")
				}),
				app.Range(p.basics.viewers).Slice(func(j int) app.UI {
					v := p.basics.viewers[j]
					return app.Option().Value(v.ID).Selected(v.ID == side.viewer).Text(v.DisplayName)
				}),
			),
		),
		app.If(tok != nil, func() app.UI { return p.renderTokenLine(side, tok) }),
		app.If(side.err != nil, func() app.UI {
			return app.Div().Body(
				&troubleshooter{IErr: side.err},
				app.If(tok == nil && !unknown, func() app.UI {
					return app.Button().Class("retry").Type("button").Text("Try again").OnClick(p.retry(i))
				}),
			)
		}),
		app.If(tok == nil && side.loading, func() app.UI {
			return side.renderWait("waiting-"+key, viewerName(p.basics.viewers, side.viewer), time.Now())
		}),
		app.If(tok != nil, func() app.UI {
			f := newDashboardFrame(func(app.Context) { p.sides[i].fetch(p.ctx, true, nil) }, nil)
			st := p.basics.settings
			f.IKey, f.IInstanceURL, f.IWorkspaceID, f.IDashboardID = key, st.InstanceURL, st.WorkspaceID, st.DashboardID
			f.IViewerID, f.IToken, f.IExpiresAt, f.IMargin = tok.Viewer.ID, tok.Token, tok.ExpiresAt, margin(st)
			return f
		}),
	)
}

func (p *comparePage) renderTokenLine(side *viewerToken, tok *api.EmbedToken) app.UI {
	pc, _ := wire.ParseCustomClaim(tok.Claims.CustomClaim)
	how := "fresh exchange, 3 calls"
	if tok.FromCache {
		how = "served from cache, no call"
	}
	return app.Div().Class("token-line").Body(
		app.Span().Body(app.Span().Class("label").Text("external_viewer_id "), app.Code().Class("side-viewer").Text(orDash(pc.ExternalViewerID))),
		app.Span().Body(app.Span().Class("label").Text("external_value "), app.Code().Class("side-value").Text(orDash(pc.ExternalValue))),
		app.Span().Body(app.Span().Class("label").Text("jti "), app.Code().Text(shortID(tok.Claims.ID))),
		app.Span().Class("label").Text("expires "+tok.ExpiresAt.Local().Format("15:04:05")+" · "+how+refreshText(side.refreshes)),
	)
}

func shortID(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

func refreshText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" · refreshed %d×", n)
}
