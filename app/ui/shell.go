package ui

import (
	"net/http"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// topBar is the header of the signed-in pages.
type topBar struct {
	app.Compo

	ISession api.Session
	IActive  string // "dashboard", "compare", "call-app", "workshop", "lab" or "trainer"
	IQuery   string // the query string to keep when switching pages

	err string
}

func (t *topBar) signOut(ctx app.Context, e app.Event) { t.endSession(ctx, api.PathSession) }

// signOutEverywhere ends every session of the user, on every device.
func (t *topBar) signOutEverywhere(ctx app.Context, e app.Event) {
	t.endSession(ctx, api.PathSession+"?everywhere=true")
}

func (t *topBar) endSession(ctx app.Context, path string) {
	csrf := t.ISession.CSRFToken
	ctx.Async(func() {
		_, err := request(http.MethodDelete, path, csrf, nil, nil)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				t.err = errorText(err)
				return
			}
			ctx.Navigate("/login")
		})
	})
}

func (t *topBar) Render() app.UI {
	link := func(name, href, label string) app.UI {
		a := app.A().Href(href).Text(label)
		if name == t.IActive {
			a = a.Class("active")
		}
		return a
	}
	return app.Header().Class("topbar").Body(
		app.A().Href("/").Class("brand").Text("embedlab"),
		app.Nav().Body(
			link("dashboard", "/"+t.IQuery, "Dashboard"),
			link("compare", "/compare", "Compare viewers"),
			link("call-app", "/call-app", "Call an app"),
			link("doctor", "/doctor", "Doctor"),
			link("workshop", "/workshop", "Workshop"),
			// Only a trainer may flip the lab's toggles (issue 16): others do not get the link.
			app.If(t.ISession.HasRole(api.RoleTrainer), func() app.UI { return link("lab", "/lab", "Fault lab") }),
		),
		app.Div().Class("who").Body(
			app.If(t.err != "", func() app.UI { return app.Span().Class("error").Text(t.err) }),
			app.Span().ID("who").Text(t.ISession.DisplayName+" ("+t.ISession.User+")"),
			app.Button().ID("sign-out").Type("button").Class("ghost").Text("Sign out").OnClick(t.signOut),
			app.Button().ID("sign-out-everywhere").Type("button").Class("ghost").Title("End every session of yours, on every device").Text("Everywhere").OnClick(t.signOutEverywhere),
		),
	)
}

// currentSession reads who is signed in; it runs inside ctx.Async. A
// missing session sends the browser to the login page and reports false.
func currentSession(ctx app.Context) (api.Session, bool, error) {
	var s api.Session
	status, err := request(http.MethodGet, api.PathSession, "", nil, &s)
	if status == http.StatusUnauthorized {
		// Keep where the user was going, so a deep link survives sign-in.
		next := app.Window().Get("location").Get("pathname").String() + app.Window().Get("location").Get("search").String()
		ctx.Dispatch(func(ctx app.Context) { ctx.Navigate(loginURL(next)) })
		return s, false, nil
	}
	return s, true, err
}

// loadSignedIn reads who is signed in and then, when path is set, that API
// answer into out; done runs on the UI goroutine with the first error.
func loadSignedIn(ctx app.Context, path string, out any, done func(ctx app.Context, s api.Session, err error)) {
	ctx.Async(func() {
		s, ok, err := currentSession(ctx)
		if !ok {
			return
		}
		if err == nil && path != "" {
			_, err = request(http.MethodGet, path, "", nil, out)
		}
		ctx.Dispatch(func(ctx app.Context) { done(ctx, s, err) })
	})
}
