package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// tokenInspector decodes the viewer's token for people: every claim and
// scope in plain words, the viewer picked out of custom_claim, a live
// countdown to expiry and the refresh history. It never checks the
// signature (the browser holds no keys) and says so.
type tokenInspector struct {
	app.Compo

	IToken  *api.EmbedToken
	IEvents []frameEvent

	interval app.Value // the countdown's setInterval id
	tick     app.Func
}

// OnMount starts the countdown. It writes the countdown's text straight
// into its element once a second: a go-app update would re-render the
// whole page (ctx.Dispatch updates every ancestor) sixty times a minute.
func (t *tokenInspector) OnMount(ctx app.Context) {
	t.tick = app.FuncOf(func(this app.Value, args []app.Value) any {
		if t.IToken != nil {
			if el := app.Window().GetElementByID("countdown"); el.Truthy() {
				el.Set("textContent", countdownText(t.IToken, time.Now()))
			}
		}
		return nil
	})
	t.interval = app.Window().Call("setInterval", t.tick, 1000)
	jsListeners.Add(1)
}

func (t *tokenInspector) OnDismount() {
	if t.tick != nil {
		app.Window().Call("clearInterval", t.interval)
		t.tick.Release()
		t.tick = nil
		jsListeners.Add(-1)
	}
}

func countdownText(tok *api.EmbedToken, now time.Time) string {
	left := time.Unix(tok.Claims.ExpiresAt, 0).Sub(now).Truncate(time.Second)
	if left > 0 {
		return "expires in " + left.String()
	}
	return "expired " + (-left).String() + " ago"
}

func (t *tokenInspector) Render() app.UI {
	tok := t.IToken
	if tok == nil {
		return app.Section().ID("inspector").Class("card").Body(app.H2().Text("Token inspector"), app.P().Class("muted").Text("No token yet."))
	}
	c := tok.Claims
	pc, pcErr := wire.ParseCustomClaim(c.CustomClaim)
	countdown := countdownText(tok, time.Now())
	return app.Section().ID("inspector").Class("card").Body(
		app.Div().Class("frame-head").Body(
			app.H2().Text("Token inspector"),
			&copyButton{IText: tok.Token, ILabel: "Copy token"},
		),
		app.P().Class("note").Text("Decoded in the browser without checking the signature: the browser holds no keys. The workspace verifies it against its JWKS on every call."),
		app.Div().Class("viewer-claim").Body(
			app.Div().Body(app.Span().Class("label").Text("external_viewer_id"), app.Code().ID("claim-viewer").Text(orDash(pc.ExternalViewerID))),
			app.Div().Body(app.Span().Class("label").Text("external_value"), app.Code().ID("claim-value").Text(orDash(pc.ExternalValue))),
			app.Div().Body(app.Span().Class("label").Text("dashboard"), app.Code().Text(orDash(pc.DashboardID))),
			app.Div().Body(app.Span().Class("label").Text("lifetime"), app.Span().ID("countdown").Text(countdown)),
		),
		skewNote(tok),
		app.If(pcErr != nil && c.CustomClaim != "", func() app.UI {
			return app.P().Class("error").Text("custom_claim could not be read: " + pcErr.Error())
		}),
		app.H3().Text("Header"),
		app.Table().Class("grid claims").Body(app.TBody().Body(
			claimRow("alg", tok.Header.Alg, "Signature algorithm: RS256, an RSA key pair; the public half is in the JWKS."),
			claimRow("typ", tok.Header.Typ, "at+jwt: an OAuth access token in JWT form (RFC 9068)."),
			claimRow("kid", tok.Header.Kid, "Which JWKS key signed it, so keys can rotate."),
		)),
		app.H3().Text("Claims"),
		app.Table().Class("grid claims").Body(app.TBody().Body(
			app.Range(claims.ClaimMeanings).Slice(func(i int) app.UI {
				m := claims.ClaimMeanings[i]
				return claimRow(m.Name, claimValue(c, m.Name), m.Meaning)
			}),
		)),
		app.H3().Text("Scopes"),
		app.Ul().Class("scopes").Body(app.Range(c.Scopes()).Slice(func(i int) app.UI {
			s := c.Scopes()[i]
			meaning, ok := claims.ScopeMeanings[s]
			if !ok {
				meaning = "A scope embedlab has no description for."
			}
			return app.Li().Body(app.Code().Text(s), app.Span().Text(" — "+meaning))
		})),
		app.H3().Text("authorization_details"),
		app.Div().Class("table-wrap").Body(app.Table().ID("authorization-details").Class("grid details").Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("type"), app.Th().Text("resource_name"), app.Th().Text("permission_set"), app.Th().Text("means"))),
			app.TBody().Body(app.Range(c.AuthorizationDetails).Slice(func(i int) app.UI {
				d := c.AuthorizationDetails[i]
				var sets, means []string
				for _, g := range d.GrantRules {
					sets = append(sets, g.PermissionSet)
					means = append(means, claims.PermissionSetMeanings[g.PermissionSet])
				}
				return app.Tr().Body(app.Td().Text(d.Type), app.Td().Body(app.Code().Text(d.ResourceName)),
					app.Td().Body(app.Code().Text(strings.Join(sets, " "))), app.Td().Text(strings.Join(means, " ")))
			})),
		)),
		app.H3().Text("Refreshes and frame events"),
		app.If(len(t.IEvents) == 0, func() app.UI { return app.P().Class("muted").Text("None yet.") }).Else(func() app.UI {
			return app.Ol().ID("frame-events").Class("events").Body(app.Range(t.IEvents).Slice(func(i int) app.UI {
				ev := t.IEvents[len(t.IEvents)-1-i]
				cls := "ev-" + ev.Kind
				return app.Li().Class(cls).DataSet("kind", ev.Kind).Body(
					app.Span().Class("time").Text(ev.At.Format("15:04:05")),
					app.Span().Class("kind").Text(ev.Kind),
					app.If(ev.Code != "", func() app.UI { return app.Code().Text(ev.Code) }),
					app.Span().Text(" "+ev.Detail),
				)
			}))
		}),
		app.Div().Class("never").Body(
			app.H3().Text("What this browser never receives"),
			app.Ul().Body(
				app.Li().Text("The service principal's OAuth secret: it stays in the backend's configuration."),
				app.Li().Text("The service principal's all-apis token from step 1: it stays in the backend's memory."),
				app.Li().Text("Any other viewer's token: the backend gives you tokens only for viewers you may act as, and chooses external_value itself."),
			),
		),
	)
}

func claimRow(name, value, meaning string) app.UI {
	return app.Tr().DataSet("claim", name).Body(
		app.Th().Body(app.Code().Text(name)),
		app.Td().Class("value").Body(app.Code().Text(orDash(value))),
		app.Td().Class("meaning").Text(meaning),
	)
}

func claimValue(c claims.Claims, name string) string {
	ts := func(sec int64) string {
		if sec == 0 {
			return ""
		}
		return fmt.Sprintf("%d (%s)", sec, time.Unix(sec, 0).Local().Format("2006-01-02 15:04:05"))
	}
	switch name {
	case "iss":
		return c.Issuer
	case "sub":
		return c.Subject
	case "aud":
		return strings.Join(c.Audience, " ")
	case "client_id":
		return c.ClientID
	case "scope":
		return c.Scope
	case "iat":
		return ts(c.IssuedAt)
	case "exp":
		return ts(c.ExpiresAt)
	case "jti":
		return c.ID
	case "custom_claim":
		return c.CustomClaim
	case "authorization_details":
		// The raw JSON is unreadable in a cell; the table below lays it out.
		return fmt.Sprintf("%d grants: see the authorization_details table below", len(c.AuthorizationDetails))
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
