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
		// Not a secure context, e.g. a room's http://192.168.x.y address:
		// browsers give such pages no clipboard API, but still copy a
		// selection on a click.
		ok := copySelection(b.IText)
		b.copied, b.failed = ok, !ok
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

// copySelection copies text the old way: selected in a hidden text area,
// then document.execCommand("copy"), which needs the click's user
// activation. It reports whether the browser copied.
func copySelection(text string) bool {
	doc := app.Window().Get("document")
	// Selecting the text area moves the focus: give it back to the button,
	// so a keyboard user stays where they were.
	if prev := doc.Get("activeElement"); prev.Truthy() {
		defer prev.Call("focus")
	}
	ta := doc.Call("createElement", "textarea")
	ta.Set("value", text)
	ta.Call("setAttribute", "readonly", "")
	ta.Call("setAttribute", "aria-hidden", "true")
	st := ta.Get("style")
	st.Set("position", "fixed")
	st.Set("top", "0")
	st.Set("left", "0")
	st.Set("opacity", "0")
	doc.Get("body").Call("appendChild", ta)
	defer ta.Call("remove")
	ta.Call("select")
	return doc.Call("execCommand", "copy").Bool()
}
