package ui

import (
	"net/url"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// dashboardPage is the main page: pick an external viewer, see the token
// the backend got for them and how, and the dashboard as they see it. The
// selected viewer and page are in the URL (?viewer=ID&page=P), so a link,
// Back and Forward reopen them; each is one history entry.
type dashboardPage struct {
	app.Compo

	basics embedBasics
	page   string
	tok    viewerToken
	events []frameEvent
	// ctx is the page's own context, from OnNav. Work started by a click
	// dispatches its answer through it: a handler's ctx belongs to the
	// clicked element, and go-app drops a dispatch once that element is
	// gone (the Try again button is, as soon as it is clicked).
	ctx app.Context
}

func (p *dashboardPage) OnNav(ctx app.Context) {
	p.ctx = ctx
	ctx.Page().SetTitle("Dashboard · embedlab")
	q := ctx.Page().URL().Query()
	want, page := q.Get("viewer"), q.Get("page")
	p.basics.load(ctx, func(ctx app.Context) { p.choose(ctx, want, page) })
}

// choose selects a viewer (the first one when none is named) and a page,
// and fetches the viewer's token when it changed.
func (p *dashboardPage) choose(ctx app.Context, viewerID, page string) {
	if len(p.basics.viewers) == 0 {
		return
	}
	if viewerID == "" {
		viewerID = p.basics.viewers[0].ID
	}
	p.page = page
	if p.basics.unknownViewer(viewerID) {
		p.tok.viewer, p.tok.token, p.tok.err = viewerID, nil, unknownViewerError(viewerID, p.basics.viewers)
		p.tok.seq.Add(1)
		p.tok.loading = false
		return
	}
	if p.tok.choose(ctx, viewerID, p.tokenDone) {
		p.events = nil
	}
}

// tokenDone records a refresh (or its failure) among the frame events.
func (p *dashboardPage) tokenDone(ctx app.Context, refresh bool, err error) {
	if !refresh {
		return
	}
	if err != nil {
		p.addEvent(frameEvent{At: now(), Kind: "error", Detail: "token refresh failed: " + errorText(err)})
		return
	}
	p.addEvent(frameEvent{At: now(), Kind: "refresh", Detail: "new token from the backend (" + cacheWord(p.tok.token.FromCache) + ")"})
}

func cacheWord(cached bool) string {
	if cached {
		return "served from cache"
	}
	return "fresh exchange"
}

func (p *dashboardPage) onFrameEvent(ctx app.Context, ev frameEvent) { p.addEvent(ev) }

func (p *dashboardPage) addEvent(ev frameEvent) {
	p.events = append(p.events, ev)
	if len(p.events) > 50 {
		p.events = p.events[len(p.events)-50:]
	}
}

func (p *dashboardPage) onExpiring(ctx app.Context) { p.tok.fetch(p.ctx, true, p.tokenDone) }

func (p *dashboardPage) retry(ctx app.Context, e app.Event) {
	if p.basics.unknownViewer(p.tok.viewer) {
		return
	}
	p.tok.restart(p.ctx, p.tokenDone)
	p.events = nil
}

func (p *dashboardPage) query(viewer, page string) string {
	v := url.Values{"viewer": {viewer}}
	if page != "" {
		v.Set("page", page)
	}
	return "?" + v.Encode()
}

func (p *dashboardPage) Render() app.UI {
	if !p.basics.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	// The heading, the inspector, the timeline and the frame all read this
	// one token, which belongs to the selected viewer or is nil.
	tok := p.tok.current()
	return app.Div().Class("app").Body(
		&topBar{ISession: p.basics.session, IActive: "dashboard", IQuery: p.query(p.tok.viewer, p.page)},
		app.Main().Class("layout").Body(
			app.Aside().Class("sidebar").Body(p.renderViewers()),
			app.Div().Class("content").Body(
				app.If(p.basics.failure != nil, func() app.UI { return &troubleshooter{IErr: p.basics.failure} }),
				app.If(len(p.basics.viewers) == 0 && p.basics.failure == nil, func() app.UI { return noViewers(p.basics.session.User) }),
				app.If(p.tok.err != nil, func() app.UI {
					return app.Div().Body(
						&troubleshooter{IErr: p.tok.err},
						app.If(tok == nil && !p.basics.unknownViewer(p.tok.viewer), func() app.UI {
							return app.Button().ID("token-retry").Class("retry").Type("button").Text("Try again").OnClick(p.retry)
						}),
					)
				}),
				app.If(tok != nil, func() app.UI {
					return app.Section().ID("frame-card").Class("card frame-card").DataSet("viewer", tok.Viewer.ID).Body(
						app.Div().Class("frame-head").Body(
							app.H2().ID("frame-title").DataSet("viewer", tok.Viewer.ID).Text("Dashboard as "+viewerName(p.basics.viewers, tok.Viewer.ID)),
							app.Span().Class("muted").Text("An iframe on "+p.basics.settings.InstanceURL+": its rows are filtered by the workspace, not by this page."),
						),
						skewBanner(tok),
						p.renderPages(),
						p.renderFrame(tok),
					)
				}),
				app.If(p.tok.loading && tok == nil, func() app.UI {
					return p.tok.renderWait("token-loading", viewerName(p.basics.viewers, p.tok.viewer), time.Now())
				}),
				app.Div().Class("panels").Body(
					&tokenInspector{IToken: tok, IEvents: p.events},
					&exchangeTimeline{IToken: tok},
				),
			),
		),
	)
}

func (p *dashboardPage) renderFrame(tok *api.EmbedToken) app.UI {
	f := newDashboardFrame(p.onExpiring, p.onFrameEvent)
	st := p.basics.settings
	f.IKey, f.IInstanceURL, f.IWorkspaceID, f.IDashboardID = "main", st.InstanceURL, st.WorkspaceID, st.DashboardID
	f.IPage, f.IViewerID, f.IToken, f.IExpiresAt, f.IMargin = p.page, tok.Viewer.ID, tok.Token, tok.ExpiresAt, margin(st)
	return f
}

func (p *dashboardPage) renderViewers() app.UI {
	return app.Nav().ID("viewers").Class("viewers").Body(
		app.H2().Text("External viewers"),
		app.P().Class("muted").Text("Who you may act as. Each gets its own scoped token; the backend picks external_value."),
		app.Range(p.basics.viewers).Slice(func(i int) app.UI {
			v := p.basics.viewers[i]
			cls := "viewer"
			if v.ID == p.tok.viewer {
				cls += " selected"
			}
			return app.A().Class(cls).Href("/"+p.query(v.ID, p.page)).DataSet("viewer", v.ID).Body(
				app.Strong().Text(v.DisplayName),
				app.Span().Class("kv").Body(app.Span().Text("external_value "), app.Code().Text(v.ExternalValue)),
				app.Span().Class("kv").Body(app.Span().Text("external_viewer_id "), app.Code().Text(v.ID)),
			)
		}),
	)
}

func noViewers(user string) app.UI {
	return app.Section().ID("no-viewers").Class("card trouble").Body(
		app.H2().Text("You may not act as any external viewer"),
		app.P().Text("The viewers file gives "+user+" no viewer, so embedlab will not get a dashboard token for this account."),
		app.P().Class("fix").Text("Fix: add "+user+" to the users of a viewer in the viewers file (EMBEDLAB_VIEWERS_FILE), or sign in as a user who has viewers."),
	)
}

func viewerName(vs []api.Viewer, id string) string {
	for _, v := range vs {
		if v.ID == id {
			return v.DisplayName
		}
	}
	return id
}

// renderPages links each page of the dashboard (known in emulator mode);
// the page is in the URL, and choosing one mounts a new frame on it.
func (p *dashboardPage) renderPages() app.UI {
	pages := p.basics.settings.Pages
	if len(pages) < 2 {
		return app.Text("")
	}
	current := p.page
	if current == "" {
		current = pages[0].Name
	}
	return app.Nav().ID("pages").Class("pages").Body(
		app.Span().Class("label").Text("Page"),
		app.Range(pages).Slice(func(i int) app.UI {
			pg := pages[i]
			a := app.A().Href("/"+p.query(p.tok.viewer, pg.Name)).DataSet("page", pg.Name).Text(pg.DisplayName)
			if pg.Name == current {
				a = a.Class("active")
			}
			return a
		}),
	)
}
