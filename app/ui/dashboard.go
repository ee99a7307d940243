package ui

import (
	"net/url"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// dashboardPage is the main page: pick an external viewer, see the token
// the backend got for them and how, and the dashboard as they see it. The
// selected viewer is in the URL (?viewer=ID), so a link reopens it.
type dashboardPage struct {
	app.Compo

	loaded   bool
	session  api.Session
	settings api.EmbedSettings
	viewers  []api.Viewer

	selected string
	page     string
	token    *api.EmbedToken
	loading  bool
	failure  error
	events   []frameEvent
	watch    frameWatch // framecheck.go
}

func (p *dashboardPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Dashboard · embedlab")
	q := ctx.Page().URL().Query()
	want, page := q.Get("viewer"), q.Get("page")
	if !p.loaded {
		loadBasics(ctx, func(s api.Session, st api.EmbedSettings, vs []api.Viewer, err error) {
			p.loaded, p.session, p.settings, p.viewers, p.failure = true, s, st, vs, err
			if err == nil {
				p.choose(ctx, want, page)
			}
		})
		return
	}
	p.choose(ctx, want, page)
}

// choose selects a viewer (the first one when none is named) and fetches
// a token for them.
func (p *dashboardPage) choose(ctx app.Context, viewerID, page string) {
	if len(p.viewers) == 0 {
		return
	}
	if viewerID == "" {
		viewerID = p.viewers[0].ID
	}
	p.page = page
	if viewerID == p.selected && p.token != nil {
		return
	}
	p.selected, p.token, p.failure, p.events = viewerID, nil, nil, nil
	p.fetchToken(ctx, false)
}

// fetchToken asks the backend for the selected viewer's token; refresh is
// set when the frame asked because the current one is about to expire.
func (p *dashboardPage) fetchToken(ctx app.Context, refresh bool) {
	if p.loading {
		return
	}
	p.loading = true
	viewer := p.selected
	ctx.Async(func() {
		tok, err := fetchEmbedToken(viewer)
		ctx.Dispatch(func(ctx app.Context) {
			p.loading = false
			if viewer != p.selected {
				return // the user switched while this was in flight
			}
			if err != nil {
				p.failure = err
				if refresh {
					p.events = append(p.events, frameEvent{At: now(), Kind: "error", Detail: "token refresh failed: " + errorText(err)})
				}
				return
			}
			p.failure = nil
			if refresh {
				p.events = append(p.events, frameEvent{At: now(), Kind: "refresh", Detail: "new token from the backend (" + cacheWord(tok.FromCache) + ")"})
			}
			p.token = &tok
		})
	})
}

func cacheWord(cached bool) string {
	if cached {
		return "served from cache"
	}
	return "fresh exchange"
}

func (p *dashboardPage) onFrameEvent(ctx app.Context, ev frameEvent) {
	p.watchFrame(ctx, ev)
	p.events = append(p.events, ev)
	if len(p.events) > 50 {
		p.events = p.events[len(p.events)-50:]
	}
}

func (p *dashboardPage) query(viewer string) string {
	v := url.Values{"viewer": {viewer}}
	if p.page != "" {
		v.Set("page", p.page)
	}
	return "?" + v.Encode()
}

func (p *dashboardPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "dashboard", IQuery: p.query(p.selected)},
		app.Main().Class("layout").Body(
			app.Aside().Class("sidebar").Body(p.renderViewers()),
			app.Div().Class("content").Body(
				app.If(p.failure != nil, func() app.UI { return &troubleshooter{IErr: p.failure} }),
				app.If(len(p.viewers) == 0 && p.failure == nil, func() app.UI { return noViewers(p.session.User) }),
				app.If(p.token != nil, func() app.UI {
					return app.Section().Class("card frame-card").Body(
						app.Div().Class("frame-head").Body(
							app.H2().Text("Dashboard as "+viewerName(p.viewers, p.selected)),
							app.Span().Class("muted").Text("An iframe on "+p.settings.InstanceURL+": its rows are filtered by the workspace, not by this page."),
						),
						p.renderPages(),
						&dashboardFrame{
							IKey: "main", IInstanceURL: p.settings.InstanceURL, IWorkspaceID: p.settings.WorkspaceID,
							IDashboardID: p.settings.DashboardID, IPage: p.page, IViewerID: p.selected, IToken: p.token.Token, IExpiresAt: p.token.ExpiresAt,
							IMargin: margin(p.settings), IOnExpiring: func(ctx app.Context) { p.fetchToken(ctx, true) }, IOnEvent: p.onFrameEvent,
						},
					)
				}),
				app.If(p.loading && p.token == nil, func() app.UI {
					return app.P().ID("token-loading").Class("card muted").Text("Getting a token for " + p.selected + "…")
				}),
				app.Div().Class("panels").Body(
					&tokenInspector{IToken: p.token, IEvents: p.events},
					&exchangeTimeline{IToken: p.token},
				),
			),
		),
	)
}

func (p *dashboardPage) renderViewers() app.UI {
	return app.Nav().ID("viewers").Class("viewers").Body(
		app.H2().Text("External viewers"),
		app.P().Class("muted").Text("Who you may act as. Each gets its own scoped token; the backend picks external_value."),
		app.Range(p.viewers).Slice(func(i int) app.UI {
			v := p.viewers[i]
			cls := "viewer"
			if v.ID == p.selected {
				cls += " selected"
			}
			return app.A().Class(cls).Href("/"+p.query(v.ID)).DataSet("viewer", v.ID).Body(
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
// the page is in the URL, and choosing one remounts the frame on it.
func (p *dashboardPage) renderPages() app.UI {
	if len(p.settings.Pages) < 2 {
		return app.Text("")
	}
	current := p.page
	if current == "" {
		current = p.settings.Pages[0].Name
	}
	return app.Nav().ID("pages").Class("pages").Body(
		app.Span().Class("label").Text("Page"),
		app.Range(p.settings.Pages).Slice(func(i int) app.UI {
			pg := p.settings.Pages[i]
			v := url.Values{"viewer": {p.selected}, "page": {pg.Name}}
			a := app.A().Href("/?"+v.Encode()).DataSet("page", pg.Name).Text(pg.DisplayName)
			if pg.Name == current {
				a = a.Class("active")
			}
			return a
		}),
	)
}
