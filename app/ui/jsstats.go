package ui

import (
	"runtime"
	"sync/atomic"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// jsListeners counts the JavaScript listeners and intervals the components
// hold (added minus released), for the leak check.
var jsListeners atomic.Int64

// ExposeStats sets window.embedlabStats(), which answers the Wasm's
// goroutine count and the components' live JS listeners: the e2e test that
// holds the dashboard open reads it to prove neither grows. It is
// read-only and holds nothing secret.
func ExposeStats() {
	if !app.IsClient {
		return
	}
	app.Window().Set("embedlabStats", app.FuncOf(func(this app.Value, args []app.Value) any {
		return map[string]any{"goroutines": runtime.NumGoroutine(), "listeners": jsListeners.Load()}
	}))
}
