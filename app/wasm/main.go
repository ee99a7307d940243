// Command wasm is embedlab's browser entry point, built with
// GOOS=js GOARCH=wasm into web/app.wasm.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/app/ui"
)

func main() {
	ui.Routes()
	ui.ExposeStats()
	app.RunWhenOnBrowser()
}
