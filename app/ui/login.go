package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// loginPage signs a user in. In emulator mode it lists the demo users, each
// with the viewers it may act as, and fills the form when one is picked.
type loginPage struct {
	app.Compo

	name     string
	password string
	busy     bool
	err      string
	settings api.EmbedSettings
}

func (p *loginPage) OnMount(ctx app.Context) {
	ctx.Page().SetTitle("Sign in · embedlab")
	ctx.Async(func() {
		// Already signed in: straight to the dashboard.
		if status, err := request(http.MethodGet, api.PathSession, "", nil, nil); err == nil && status == http.StatusOK {
			ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(afterLogin(ctx)) })
			return
		}
		var st api.EmbedSettings
		if _, err := request(http.MethodGet, api.PathEmbedSettings, "", nil, &st); err == nil {
			ctx.Dispatch(func(ctx app.Context) { p.settings = st })
		}
	})
}

func (p *loginPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if p.busy {
		return
	}
	if p.name == "" || p.password == "" {
		p.err = "Enter a user name and a password."
		return
	}
	p.busy, p.err = true, ""
	req := api.LoginRequest{Name: p.name, Password: p.password}
	ctx.Async(func() {
		var s api.Session
		_, err := request(http.MethodPost, api.PathSession, "", req, &s)
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			if err != nil {
				p.err = errorText(err)
				return
			}
			p.password = ""
			ctx.Navigate(afterLogin(ctx))
		})
	})
}

func (p *loginPage) pick(u api.DemoUser) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		p.name, p.password, p.err = u.User, u.Password, ""
	}
}

func (p *loginPage) Render() app.UI {
	return app.Main().Class("page narrow").Body(
		app.H1().Text("embedlab"),
		app.P().Class("lead").Text("Sign in to get scoped tokens for the external viewers you may act as."),
		app.Form().ID("login").Class("card form").OnSubmit(p.submit).Body(
			app.Label().For("name").Text("User"),
			app.Input().ID("name").Type("text").Name("name").AutoComplete(true).AutoFocus(true).Value(p.name).OnInput(p.ValueTo(&p.name)),
			app.Label().For("password").Text("Password"),
			app.Input().ID("password").Type("password").Name("password").Value(p.password).OnInput(p.ValueTo(&p.password)),
			app.If(p.err != "", func() app.UI {
				return app.P().ID("login-error").Class("error").Attr("role", "alert").Text(p.err)
			}),
			app.Button().ID("sign-in").Type("submit").Class("primary").Disabled(p.busy).Text(map[bool]string{true: "Signing in…", false: "Sign in"}[p.busy]),
		),
		app.If(len(p.settings.DemoUsers) > 0, func() app.UI {
			return app.Section().ID("demo-users").Class("card").Body(
				app.H2().Text("Demo users"),
				app.P().Class("muted").Text("The bundled workspace emulator is running. These demo logins are public values; pick one to fill the form."),
				app.Table().Class("grid").Body(
					app.THead().Body(app.Tr().Body(app.Th().Text("User"), app.Th().Text("Password"), app.Th().Text("May act as"), app.Th())),
					app.TBody().Body(app.Range(p.settings.DemoUsers).Slice(func(i int) app.UI {
						u := p.settings.DemoUsers[i]
						return app.Tr().Body(
							app.Td().Body(app.Code().Text(u.User)),
							app.Td().Body(app.Code().Text(u.Password)),
							app.Td().Text(u.Viewers),
							app.Td().Body(app.Button().Type("button").Class("link").DataSet("user", u.User).Text("Use").OnClick(p.pick(u))),
						)
					})),
				),
			)
		}),
	)
}

// loginURL is the login page, remembering where the user was going.
func loginURL(next string) string {
	if next == "" || next == "/" || strings.HasPrefix(next, "/login") {
		return "/login"
	}
	return "/login?" + url.Values{"next": {next}}.Encode()
}

// afterLogin is where sign-in leads: the page named by ?next= (a deep link
// opened while signed out) when it is a path on this site, else "/".
func afterLogin(ctx app.Context) string {
	next := ctx.Page().URL().Query().Get("next")
	if !safeNext(next) {
		return "/"
	}
	return next
}

// safeNext accepts only a path on this origin: "/x", not "//host",
// "/\\host" or "https://host", so ?next= cannot send a user elsewhere.
func safeNext(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.ContainsAny(next, "\r\n\t")
}
