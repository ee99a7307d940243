// Package pages is the table of embedlab's pages: the path and title of
// each. Both sides register it with go-app: the Wasm (app/ui.Routes) mounts
// the real component of each page, the server (Placeholders) only what it
// needs to answer the path and prerender the page's title.
//
// The server does not import app/ui: go-app prerenders a route's component
// into the HTML it serves, but the Wasm replaces that body as soon as it
// starts, and until then go-app's loader covers the whole window. Linking
// the real components into the server cost 835,584 bytes of the Databricks
// App binary (make app), whose files must stay under 10 MB.
package pages

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// EnvInstanceURL is the go-app environment variable that tells the browser
// which workspace (real or emulated) the backend talks to.
const EnvInstanceURL = "EMBEDLAB_INSTANCE_URL"

// Page is one route of the app.
type Page struct {
	Path  string
	Title string // the document title the page sets
}

// All is every page of the app. A page added here needs its component in
// app/ui's route table (a test checks that both agree).
var All = []Page{
	{Path: "/", Title: "Dashboard · embedlab"},
	{Path: "/login", Title: "Sign in · embedlab"},
	{Path: "/compare", Title: "Compare viewers · embedlab"},
	{Path: "/call-app", Title: "Call an app · embedlab"},
	{Path: "/doctor", Title: "Doctor · embedlab"},
	{Path: "/lab", Title: "Fault lab · embedlab"},
	{Path: "/workshop", Title: "Workshop · embedlab"},
	{Path: "/trainer", Title: "Trainer · embedlab"},
}

// Placeholders registers every page with a server-side stand-in: the title,
// and a body for a browser that will not run the Wasm (go-app skips it for
// crawlers and for ?wasm=false).
func Placeholders() {
	for _, p := range All {
		app.Route(p.Path, func() app.Composer { return &placeholder{title: p.Title} })
	}
}

type placeholder struct {
	app.Compo
	title string
}

func (p *placeholder) OnNav(ctx app.Context) { ctx.Page().SetTitle(p.title) }

func (p *placeholder) Render() app.UI {
	return app.Main().Body(app.NoScript().Body(app.P().Text("embedlab needs JavaScript and WebAssembly.")))
}
