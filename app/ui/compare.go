package ui

import (
	"errors"
	"fmt"
	"net/http"
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

	loaded   bool
	session  api.Session
	settings api.EmbedSettings
	viewers  []api.Viewer
	failure  error

	sides [2]compareSide
}

// compareSide is one column: a viewer and the token the backend got for it.
type compareSide struct {
	viewer    string
	token     *api.EmbedToken
	loading   bool
	err       error
	refreshes int
}

var sideKeys = [2]string{"a", "b"}

func (p *comparePage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Compare viewers · embedlab")
	q := ctx.Page().URL().Query()
	a, b := q.Get("a"), q.Get("b")
	if !p.loaded {
		loadBasics(ctx, func(s api.Session, st api.EmbedSettings, vs []api.Viewer, err error) {
			p.loaded, p.session, p.settings, p.viewers, p.failure = true, s, st, vs, err
			if err == nil {
				p.choose(ctx, a, b)
			}
		})
		return
	}
	p.choose(ctx, a, b)
}

// choose fills the two sides: the viewers named in the URL, else the first
// two the user may act as.
func (p *comparePage) choose(ctx app.Context, a, b string) {
	if len(p.viewers) == 0 {
		return
	}
	want := [2]string{a, b}
	for i := range want {
		if want[i] == "" {
			want[i] = p.viewers[min(i, len(p.viewers)-1)].ID
		}
	}
	for i := range p.sides {
		if p.sides[i].viewer == want[i] && (p.sides[i].token != nil || p.sides[i].loading) {
			continue
		}
		p.sides[i] = compareSide{viewer: want[i]}
		p.fetch(ctx, i, false)
	}
}

func (p *comparePage) fetch(ctx app.Context, i int, refresh bool) {
	side := &p.sides[i]
	if side.loading {
		return
	}
	side.loading = true
	viewer := side.viewer
	ctx.Async(func() {
		tok, err := fetchEmbedToken(viewer)
		ctx.Dispatch(func(ctx app.Context) {
			side := &p.sides[i]
			side.loading = false
			if side.viewer != viewer {
				return // switched while this was in flight
			}
			if err != nil {
				side.err = err
				return
			}
			side.err = nil
			if refresh {
				side.refreshes++
			}
			side.token = &tok
		})
	})
}

// fetchEmbedToken asks the backend for one viewer's token. When the
// backend answers 429 (many viewers at once against the workspace's rate
// limit) it waits as Retry-After says and asks again, so a busy moment
// costs the user a few seconds rather than an error.
func fetchEmbedToken(viewer string) (api.EmbedToken, error) {
	const attempts = 6
	var tok api.EmbedToken
	for i := 1; ; i++ {
		status, err := request(http.MethodGet, api.PathEmbedToken+"?"+api.QueryViewer+"="+url.QueryEscape(viewer), "", nil, &tok)
		var e *apiError
		if status != http.StatusTooManyRequests || i == attempts || !errors.As(err, &e) {
			return tok, err
		}
		time.Sleep(time.Duration(min(max(e.body.RetryAfter, 1), 10)) * time.Second)
	}
}

func (p *comparePage) href(i int, viewer string) string {
	v := url.Values{"a": {p.sides[0].viewer}, "b": {p.sides[1].viewer}}
	v.Set(sideKeys[i], viewer)
	return "/compare?" + v.Encode()
}

func (p *comparePage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "compare", IQuery: "?" + url.Values{"viewer": {p.sides[0].viewer}}.Encode()},
		app.Main().Class("compare").Body(
			app.If(p.failure != nil, func() app.UI { return &troubleshooter{IErr: p.failure} }),
			app.If(len(p.viewers) == 0 && p.failure == nil, func() app.UI { return noViewers(p.session.User) }),
			app.If(len(p.viewers) == 1, func() app.UI {
				return app.P().ID("one-viewer").Class("card note").Text("You may act as one viewer only, so both sides show " +
					p.viewers[0].DisplayName + ". Sign in as a user with two or more viewers (e.g. ada or admin) to compare.")
			}),
			app.If(len(p.viewers) > 0, func() app.UI {
				return app.Div().Body(
					p.renderVerdict(),
					app.Div().Class("compare-grid").Body(p.renderSide(0), p.renderSide(1)),
				)
			}),
		),
	)
}

// renderVerdict says in words why the two sides differ (or do not).
func (p *comparePage) renderVerdict() app.UI {
	a, b := p.sides[0].token, p.sides[1].token
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
	side := p.sides[i]
	key := sideKeys[i]
	return app.Section().ID("side-"+key).Class("card compare-side").DataSet("viewer", side.viewer).Body(
		app.Div().Class("side-head").Body(
			app.Label().For("pick-"+key).Text(map[int]string{0: "Left", 1: "Right"}[i]+" viewer"),
			app.Select().ID("pick-"+key).OnChange(func(ctx app.Context, e app.Event) {
				ctx.Navigate(p.href(i, ctx.JSSrc().Get("value").String()))
			}).Body(app.Range(p.viewers).Slice(func(j int) app.UI {
				v := p.viewers[j]
				return app.Option().Value(v.ID).Selected(v.ID == side.viewer).Text(v.DisplayName)
			})),
		),
		app.If(side.token != nil, func() app.UI { return p.renderTokenLine(side) }),
		app.If(side.err != nil, func() app.UI { return &troubleshooter{IErr: side.err} }),
		app.If(side.token == nil && side.err == nil, func() app.UI {
			return app.P().Class("muted").Text("Getting a token for " + side.viewer + "…")
		}),
		app.If(side.token != nil, func() app.UI {
			return &dashboardFrame{
				IKey: key, IInstanceURL: p.settings.InstanceURL, IWorkspaceID: p.settings.WorkspaceID,
				IDashboardID: p.settings.DashboardID, IViewerID: side.viewer, IToken: side.token.Token, IExpiresAt: side.token.ExpiresAt,
				IMargin: margin(p.settings), IOnExpiring: func(ctx app.Context) { p.fetch(ctx, i, true) },
			}
		}),
	)
}

func (p *comparePage) renderTokenLine(side compareSide) app.UI {
	tok := side.token
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
