package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// exchangeTimeline shows the three upstream calls of the last exchange, or
// that the token came from the cache, with the bodies redacted by the
// backend.
type exchangeTimeline struct {
	app.Compo

	IToken *api.EmbedToken
}

func (t *exchangeTimeline) Render() app.UI {
	tok := t.IToken
	if tok == nil {
		return app.Section().ID("timeline").Class("card").Body(app.H2().Text("Exchange timeline"), app.P().Class("muted").Text("No exchange yet."))
	}
	summary := "A fresh exchange: the backend made these calls to the workspace for this viewer."
	if tok.FromCache {
		summary = "Served from cache: the backend still held a token for this viewer with more than the refresh margin left, so it made no call to the workspace."
	}
	return app.Section().ID("timeline").Class("card").Body(
		app.H2().Text("Exchange timeline"),
		app.P().ID("timeline-summary").DataSet("cached", tok.FromCache).Text(summary),
		app.Ol().Class("steps").Body(app.Range(tok.Trace).Slice(func(i int) app.UI {
			s := tok.Trace[i]
			status := "reused"
			if !s.Reused {
				status = fmt.Sprintf("%d · %.1f ms", s.Status, s.DurationMS)
			}
			return app.Li().Class("step").DataSet("step", i+1).Body(
				app.Div().Class("step-head").Body(
					app.Strong().Text(s.Name),
					app.Span().Class(statusClass(s)).Text(status),
				),
				app.P().Class("purpose").Text(s.Purpose),
				app.If(s.Method != "", func() app.UI {
					return app.P().Body(app.Code().Text(s.Method + " " + s.URL))
				}),
				app.If(s.Note != "", func() app.UI { return app.P().Class("muted").Text(s.Note) }),
				app.If(s.Request != "", func() app.UI {
					return app.Details().Body(app.Summary().Text("Request (redacted)"), app.Pre().Text(s.Request))
				}),
				app.If(s.Response != "", func() app.UI {
					return app.Details().Body(app.Summary().Text("Response (redacted)"), app.Pre().Text(s.Response))
				}),
			)
		})),
	)
}

func statusClass(s api.TraceStep) string {
	switch {
	case s.Reused:
		return "badge reused"
	case s.Status >= 200 && s.Status < 300:
		return "badge ok"
	default:
		return "badge bad"
	}
}
