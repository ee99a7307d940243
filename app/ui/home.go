package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// home is the landing page. For now it says what embedlab is and where the
// workspace it talks to lives; the login and viewer switcher come next.
type home struct {
	app.Compo
}

func (h *home) OnMount(ctx app.Context) {
	ctx.Page().SetTitle("embedlab")
}

func (h *home) Render() app.UI {
	instance := app.Getenv(EnvInstanceURL)
	return app.Main().Class("page").Body(
		app.H1().Text("embedlab"),
		app.P().Class("lead").Text("Per-viewer scoped tokens for embedded AI/BI dashboards, and bearer tokens for Databricks Apps, shown step by step."),
		app.Section().Class("card").Body(
			app.H2().Text("Workspace"),
			app.P().Body(
				app.Text("The backend talks to "),
				app.A().ID("instance-url").Href(instance).Text(instance),
				app.Text(". The service principal secret stays on the server; this page only ever receives scoped tokens."),
			),
		),
		app.Section().Class("card").Body(
			app.H2().Text("The three-step exchange"),
			app.Ol().Body(
				app.Li().Text("POST /oidc/v1/token with client_credentials and scope=all-apis: a broad token for the service principal (kept on the server)."),
				app.Li().Text("GET .../published/tokeninfo for one external viewer: the authorization details and custom claim for that viewer."),
				app.Li().Text("POST /oidc/v1/token again with those fields: a narrow token for that viewer, the only token the browser sees."),
			),
		),
	)
}
