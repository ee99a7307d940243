package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// copyButton copies text to the clipboard (a token, a command) and says so.
type copyButton struct {
	app.Compo

	IText  string
	ILabel string // "Copy" when empty

	copied bool
	failed bool
}

func (b *copyButton) copy(ctx app.Context, e app.Event) {
	clip := app.Window().Get("navigator").Get("clipboard")
	if !clip.Truthy() {
		b.failed = true // not a secure context: select and copy by hand
		return
	}
	p := clip.Call("writeText", b.IText)
	ctx.Async(func() {
		_, err := await(p)
		ctx.Dispatch(func(ctx app.Context) { b.copied, b.failed = err == nil, err != nil })
	})
}

func (b *copyButton) Render() app.UI {
	label := b.ILabel
	if label == "" {
		label = "Copy"
	}
	switch {
	case b.copied:
		label = "Copied"
	case b.failed:
		label = "Copy failed: select it"
	}
	return app.Button().Type("button").Class("copy").Title("Copy to the clipboard").Text(label).OnClick(b.copy)
}
