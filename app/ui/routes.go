// Package ui holds embedlab's go-app components. The server and the Wasm
// entry point both call Routes, so they agree on every page the app has.
package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// EnvInstanceURL is the go-app environment variable that tells the browser
// which workspace (real or emulated) the backend talks to.
const EnvInstanceURL = "EMBEDLAB_INSTANCE_URL"

// Routes registers every page.
func Routes() {
	app.Route("/", func() app.Composer { return &dashboardPage{} })
	app.Route("/login", func() app.Composer { return &loginPage{} })
	app.Route("/compare", func() app.Composer { return &comparePage{} })
	app.Route("/call-app", func() app.Composer { return &callAppPage{} })
	app.Route("/doctor", func() app.Composer { return &doctorPage{} })
	app.Route("/lab", func() app.Composer { return &labPage{} })
	app.Route("/workshop", func() app.Composer { return &workshopPage{} })
	app.Route("/trainer", func() app.Composer { return &trainerPage{} })
}
