package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
	"embedlab/shared/claims"
)

// callAppPage calls a Databricks App's /api/ routes with a token from the
// source the user picks, and says which row of the 401/403/404 table the
// answer falls in. Tokens stay on the server: the page sees claims only.
type callAppPage struct {
	app.Compo

	loaded   bool
	session  api.Session
	overview api.AppsOverview
	failure  error
	notice   string
	noticeOK bool

	source  string
	profile string
	scopes  []string
	appURL  string
	path    string
	method  string
	body    string
	// identity is whose identity provider token the federated and
	// idp-direct sources use.
	identity string

	busy   bool
	result *api.AppCallResult
	err    error
}

func (p *callAppPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Call an app · embedlab")
	q := ctx.Page().URL().Query()
	switch {
	case q.Get("u2m") == "signed-in":
		p.notice, p.noticeOK, p.source = "Signed in to the workspace: your U2M token is on embedlab's server.", true, api.SourceU2M
	case q.Get(api.QueryU2MError) != "":
		// A code, worded here: the link's text is never shown (issue 16, F7).
		p.notice, p.noticeOK, p.source = api.U2MErrorText(q.Get(api.QueryU2MError)), false, api.SourceU2M
	}
	if p.method == "" {
		p.method, p.path = http.MethodGet, "/api/whoami"
	}
	p.load(ctx)
}

func (p *callAppPage) load(ctx app.Context) {
	var ov api.AppsOverview
	loadSignedIn(ctx, api.PathApps, &ov, func(ctx app.Context, s api.Session, err error) {
		p.loaded, p.session, p.overview, p.failure = true, s, ov, err
		if p.source == "" {
			p.source = firstAvailable(ov.Sources)
		}
		if p.scopes == nil {
			for _, c := range ov.Scopes {
				if c.Default {
					p.scopes = append(p.scopes, c.Scope)
				}
			}
		}
		if p.appURL == "" && len(ov.Apps) > 0 {
			p.appURL = ov.Apps[0].URL
		}
	})
}

func (p *callAppPage) signIn(ctx app.Context, e app.Event) {
	csrf, scopes := p.session.CSRFToken, append([]string(nil), p.scopes...)
	p.busy, p.err = true, nil
	ctx.Async(func() {
		var lr api.AppsLoginResponse
		_, err := request(http.MethodPost, api.PathAppsLogin, csrf, api.AppsLoginRequest{Scopes: scopes}, &lr)
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			if err != nil {
				p.err = err
				return
			}
			// The workspace's own sign-in page, on its origin; it sends the
			// browser back to /api/apps/callback.
			app.Window().Get("location").Set("href", lr.AuthorizationURL)
		})
	})
}

func (p *callAppPage) forget(ctx app.Context, e app.Event) {
	csrf := p.session.CSRFToken
	ctx.Async(func() {
		_, err := request(http.MethodDelete, api.PathAppsLogin, csrf, nil, nil)
		ctx.Dispatch(func(ctx app.Context) {
			p.err = err
			p.notice = ""
			p.load(ctx)
		})
	})
}

func (p *callAppPage) send(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if p.busy {
		return
	}
	req := api.AppCallRequest{Source: p.source, Profile: strings.TrimSpace(p.profile), Identity: p.identity, Method: p.method,
		URL: strings.TrimRight(strings.TrimSpace(p.appURL), "/") + "/" + strings.TrimLeft(strings.TrimSpace(p.path), "/")}
	if p.method != http.MethodGet && p.method != http.MethodDelete {
		req.Body = p.body
	}
	csrf := p.session.CSRFToken
	p.busy, p.err = true, nil
	ctx.Async(func() {
		var r api.AppCallResult
		_, err := request(http.MethodPost, api.PathAppsCall, csrf, req, &r)
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			if err != nil {
				p.err, p.result = err, nil
				return
			}
			p.result = &r
		})
	})
}

func (p *callAppPage) toggleScope(scope string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if i := slices.Index(p.scopes, scope); i >= 0 {
			p.scopes = slices.Delete(p.scopes, i, i+1)
		} else {
			p.scopes = append(p.scopes, scope)
		}
	}
}

func (p *callAppPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "call-app"},
		app.Main().Class("call-app").Body(
			app.If(p.failure != nil, func() app.UI { return &troubleshooter{IErr: p.failure} }),
			app.If(p.notice != "", func() app.UI {
				cls := "card notice-bar"
				if !p.noticeOK {
					cls += " trouble"
				}
				return app.P().ID("u2m-notice").Class(cls).Text(p.notice)
			}),
			app.Div().Class("call-grid").Body(
				app.Section().Class("card").Body(p.renderSources()),
				app.Div().Body(
					app.Form().ID("call-form").Class("card form").OnSubmit(p.send).Body(p.renderTarget()...),
					app.If(p.err != nil, func() app.UI { return &troubleshooter{IErr: p.err} }),
					app.If(p.result != nil, func() app.UI { return p.renderResult() }),
				),
			),
		),
	)
}

func (p *callAppPage) renderSources() app.UI {
	return app.Div().ID("sources").Body(
		app.H2().Text("1. Where the token comes from"),
		app.P().Class("muted").Text("Every source gets an OAuth token for the workspace; only /api/ routes of apps accept it as a bearer token."),
		app.Range(p.overview.Sources).Slice(func(i int) app.UI {
			s := p.overview.Sources[i]
			id := "source-" + s.ID
			return app.Div().Class("source").DataSet("source", s.ID).Body(
				app.Label().For(id).Body(
					app.Input().ID(id).Type("radio").Name("source").Value(s.ID).Checked(p.source == s.ID).Disabled(!s.Available).
						OnChange(func(ctx app.Context, e app.Event) { p.source = s.ID }),
					app.Strong().Text(" "+s.Label),
				),
				app.P().Class("muted small").Text(s.Description),
				app.If(s.Problem != "", func() app.UI {
					return app.P().Class("small problem").Text(s.Problem + ifText(s.Fix != "", ": "+s.Fix))
				}),
				app.If(s.ID == api.SourceU2M && p.source == api.SourceU2M, func() app.UI { return p.renderU2M() }),
				app.If(s.ID == api.SourceProfile && p.source == api.SourceProfile, func() app.UI {
					return app.Input().ID("profile").Type("text").Placeholder("profile name, e.g. DEFAULT").Value(p.profile).OnInput(p.ValueTo(&p.profile))
				}),
				app.If((s.ID == api.SourceFederated || s.ID == api.SourceIdPDirect) && p.source == s.ID, func() app.UI { return p.renderIdentities() }),
			)
		}),
	)
}

func (p *callAppPage) renderU2M() app.UI {
	u := p.overview.U2M
	return app.Div().ID("u2m").Class("u2m").Body(
		app.If(u.SignedIn, func() app.UI {
			return app.P().ID("u2m-status").Class("small").Body(
				app.Text("Signed in; the token carries "), app.Code().Text(strings.Join(u.Scopes, " ")), app.Text(". "),
				app.Button().Type("button").Class("link").ID("u2m-forget").Text("Forget it").OnClick(p.forget),
			)
		}),
		app.P().Class("small").Text("Scopes to ask for (apps with user authorization need theirs; offline_access is added for refreshes):"),
		app.Range(p.overview.Scopes).Slice(func(i int) app.UI {
			c := p.overview.Scopes[i]
			id := "scope-" + strings.NewReplacer(".", "-", ":", "-").Replace(c.Scope)
			return app.Label().Class("scope").For(id).Title(c.Meaning).Body(
				app.Input().ID(id).Type("checkbox").Checked(slices.Contains(p.scopes, c.Scope)).OnChange(p.toggleScope(c.Scope)),
				app.Code().Text(c.Scope), app.Span().Class("muted small").Text(" "+c.Meaning),
			)
		}),
		app.Button().ID("u2m-sign-in").Type("button").Class("primary").Disabled(p.busy).
			Text(ifText(u.SignedIn, "Sign in again with these scopes", "Sign in to the workspace")).OnClick(p.signIn),
	)
}

// renderIdentities picks whose identity provider token the federated and
// idp-direct sources use.
func (p *callAppPage) renderIdentities() app.UI {
	ids := p.overview.Identities
	chosen := api.FederatedIdentity{}
	for i, id := range ids {
		if id.ID == p.identity || (p.identity == "" && i == 0) {
			chosen = id
		}
	}
	return app.Div().ID("identity-pick").Class("identity-pick").Body(
		app.Label().For("identity").Class("small").Text("Identity at the identity provider:"),
		app.Select().ID("identity").OnChange(p.ValueTo(&p.identity)).Body(app.Range(ids).Slice(func(i int) app.UI {
			return app.Option().Value(ids[i].ID).Selected(ids[i].ID == chosen.ID).Text(ids[i].Label)
		})),
		app.P().ID("identity-description").Class("muted small").Text(chosen.Description),
	)
}

func (p *callAppPage) renderTarget() []app.UI {
	return []app.UI{
		app.H2().Text("2. The call"),
		app.If(len(p.overview.Apps) > 0, func() app.UI {
			return app.Div().ID("app-list").Class("app-list").Body(app.Range(p.overview.Apps).Slice(func(i int) app.UI {
				a := p.overview.Apps[i]
				cls := "app-pick"
				if a.URL == p.appURL {
					cls += " selected"
				}
				return app.Button().Type("button").Class(cls).DataSet("app", a.Name).OnClick(func(ctx app.Context, e app.Event) { p.appURL = a.URL }).Body(
					app.Strong().Text(a.Name),
					app.Span().Class("small muted").Text(" "+a.Status+ifText(len(a.UserAPIScopes) > 0, " · user authorization: "+strings.Join(a.UserAPIScopes, " "))),
					app.Span().Class("small").Text(a.Description),
				)
			}))
		}),
		app.Label().For("app-url").Text("App URL"),
		app.Input().ID("app-url").Type("url").Value(p.appURL).Placeholder("https://<app-name>-<workspace-id>.<region>.databricksapps.com").OnInput(p.ValueTo(&p.appURL)),
		app.Div().Class("row").Body(
			app.Select().ID("method").OnChange(p.ValueTo(&p.method)).Body(app.Range([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}).Slice(func(i int) app.UI {
				m := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}[i]
				return app.Option().Value(m).Selected(m == p.method).Text(m)
			})),
			app.Input().ID("path").Type("text").Value(p.path).Placeholder("/api/...").OnInput(p.ValueTo(&p.path)),
		),
		app.If(p.method != http.MethodGet && p.method != http.MethodDelete, func() app.UI {
			return app.Textarea().ID("body").Placeholder(`{"json": "body"}`).Text(p.body).OnInput(p.ValueTo(&p.body))
		}),
		app.Button().ID("send").Type("submit").Class("primary").Disabled(p.busy).Text(ifText(p.busy, "Sending…", "Send")),
	}
}

func (p *callAppPage) renderResult() app.UI {
	r := p.result
	d := r.Diagnosis
	status := "no answer"
	if r.Status != 0 {
		status = strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	}
	return app.Section().ID("call-result").Class("card").DataSet("status", r.Status).DataSet("ok", d.OK).Body(
		app.H2().Text("3. The answer"),
		app.P().Body(app.Span().Class(ifText(d.OK, "badge ok", "badge bad")).ID("result-status").Text(status),
			app.Span().Class("muted small").Text(" "+r.Method+" "+r.URL+" · "+formatMS(r.DurationMS))),
		app.Div().ID("diagnosis").Class(ifText(d.OK, "diagnosis ok", "diagnosis trouble")).DataSet("reason", d.Reason).Body(
			app.Strong().Text(d.Title),
			app.P().Class("cause").Text(d.Cause),
			app.If(d.Fix != "", func() app.UI { return app.P().Class("fix").Text("Fix: " + d.Fix) }),
			app.If(d.Reason != "", func() app.UI {
				return app.P().Class("small muted").Body(app.Text("Proxy's reason: "), app.Code().Text(d.Reason))
			}),
		),
		app.P().Class("small muted").Text("Token from: "+ifText(r.SourceInfo != "", r.SourceInfo, "no token was sent")),
		app.If(r.Claims != nil, func() app.UI { return tokenSummary(r.Claims, r.ExpiresAt) }),
		app.H3().Text("Response body"+ifText(r.Truncated, " (first 64 KB)", "")),
		app.Pre().ID("result-body").Text(orDash(r.Body)),
	)
}

// tokenSummary shows the claims that decide an app call.
func tokenSummary(c *claims.Claims, exp time.Time) app.UI {
	left := "—"
	if !exp.IsZero() {
		left = exp.Local().Format("15:04:05") + " (" + time.Until(exp).Truncate(time.Second).String() + " left)"
	}
	return app.Table().ID("result-claims").Class("grid claims").Body(app.TBody().Body(
		claimRow("iss", c.Issuer, "Who issued it: apps accept only the workspace's own tokens (<workspace URL>/oidc); an identity provider's must be exchanged first."),
		claimRow("sub", c.Subject, "Who the token acts as: the app sees this caller in X-Forwarded-User."),
		claimRow("scope", c.Scope, "Apps with user authorization require their scopes here; others need all-apis."),
		claimRow("client_id", c.ClientID, "The OAuth client that got it."),
		claimRow("exp", left, "Refresh before this; embedlab renews 5 minutes early."),
	))
}

func ifText(cond bool, a string, b ...string) string {
	if cond {
		return a
	}
	if len(b) > 0 {
		return b[0]
	}
	return ""
}

func formatMS(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Microsecond).String()
}

// firstAvailable is the source picked at first: M2M when this user may use
// it, else the first usable one.
func firstAvailable(sources []api.TokenSource) string {
	first := ""
	for _, s := range sources {
		if s.Available && s.ID == api.SourceM2M {
			return s.ID
		}
		if s.Available && first == "" {
			first = s.ID
		}
	}
	if first == "" {
		return api.SourceNone
	}
	return first
}
