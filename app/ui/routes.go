// Package ui holds embedlab's go-app components. The Wasm entry point calls
// Routes; the server registers the same pages from app/pages without these
// components (see that package for why).
package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/app/pages"
)

// EnvInstanceURL is the go-app environment variable that tells the browser
// which workspace (real or emulated) the backend talks to.
const EnvInstanceURL = pages.EnvInstanceURL

// components is the component of each page of pages.All, by path.
var components = map[string]func() app.Composer{
	"/":         func() app.Composer { return &dashboardPage{} },
	"/login":    func() app.Composer { return &loginPage{} },
	"/compare":  func() app.Composer { return &comparePage{} },
	"/call-app": func() app.Composer { return &callAppPage{} },
	"/doctor":   func() app.Composer { return &doctorPage{} },
	"/lab":      func() app.Composer { return &labPage{} },
	"/workshop": func() app.Composer { return &workshopPage{} },
	"/trainer":  func() app.Composer { return &trainerPage{} },
}

// Routes registers every page.
func Routes() {
	for _, p := range pages.All {
		app.Route(p.Path, components[p.Path])
	}
}
