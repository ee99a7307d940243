package ui

import (
	"errors"
	"net/http"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// labPage is the fault lab (emulator mode): toggles that break the
// workspace on purpose, live, each saying what you will see and which
// cause the page's troubleshooter names.
type labPage struct {
	app.Compo

	loaded  bool
	session api.Session
	lab     api.Lab
	failure error
	busy    string // the toggle being changed
	notice  string
}

func (p *labPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Fault lab · embedlab")
	var l api.Lab
	loadSignedIn(ctx, api.PathLab, &l, func(ctx app.Context, s api.Session, err error) {
		p.loaded, p.session, p.lab, p.failure = true, s, l, err
	})
}

func (p *labPage) set(ctx app.Context, id string, on bool) {
	if p.busy != "" {
		return
	}
	p.busy, p.notice = id, ""
	csrf := p.session.CSRFToken
	ctx.Async(func() {
		var l api.Lab
		var err error
		if id == "reset" {
			_, err = request(http.MethodPost, api.PathLabReset, csrf, struct{}{}, &l)
		} else {
			_, err = request(http.MethodPost, api.PathLabToggle, csrf, api.LabSet{ID: id, On: on}, &l)
		}
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = ""
			if err != nil {
				p.notice = errorText(err)
				return
			}
			p.lab = l
			if id == "reset" {
				p.notice = "Every toggle is off: the workspace is as it started, and embedlab's cached tokens are dropped."
			}
		})
	})
}

func (p *labPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "lab"},
		app.Main().ID("lab").Class("wide").Body(
			app.H1().Text("Fault lab"),
			app.P().Class("lead").Text("Break the emulated workspace on purpose, live, then open the page named under each toggle and read how embedlab names the cause. Every change drops embedlab's cached tokens, so it shows on the next load."),
			app.If(p.failure != nil, func() app.UI { return labUnavailable(p.failure) }),
			app.If(p.notice != "", func() app.UI { return app.P().ID("lab-notice").Class("card note").Text(p.notice) }),
			// The toggles change the workspace everyone shares: only a
			// trainer gets the buttons (the server refuses others too).
			app.If(p.failure == nil && !p.trainer(), func() app.UI {
				return app.P().ID("lab-readonly").Class("card note").Text("You can read the toggles; turning them on or off needs the role " + api.RoleTrainer + " (the demo user admin has it), since they change the workspace everyone uses.")
			}),
			app.If(p.failure == nil, func() app.UI {
				return app.Div().Body(
					app.If(p.trainer(), func() app.UI { return p.renderActions() }),
					app.Div().Class("lab-grid").Body(app.Range(p.lab.Toggles).Slice(func(i int) app.UI { return p.renderToggle(p.lab.Toggles[i]) })),
				)
			}),
		),
	)
}

func (p *labPage) trainer() bool { return p.session.HasRole(api.RoleTrainer) }

func (p *labPage) renderActions() app.UI {
	return app.Div().Class("row lab-actions").Body(
		app.Button().ID("lab-reset").Type("button").Class("primary").Text("Reset everything").
			Disabled(p.busy != "").OnClick(func(ctx app.Context, e app.Event) { p.set(ctx, "reset", false) }),
		app.Span().Class("muted small").Text("Turns every toggle off and restores the workspace's state file: secret, CAN RUN, publication, origins, clock, lifetime, limits."),
	)
}

func (p *labPage) renderToggle(t api.LabToggle) app.UI {
	cls := "card toggle"
	label := "Turn on"
	if t.On {
		cls += " on"
		label = "Turn off"
	}
	return app.Section().Class(cls).ID("toggle-"+t.ID).DataSet("on", t.On).Body(
		app.Div().Class("toggle-head").Body(
			app.H2().Text(t.Title),
			app.If(t.On, func() app.UI { return app.Span().Class("badge bad").Text("on") }),
			app.If(p.trainer(), func() app.UI {
				return app.Button().Type("button").Class("switch").DataSet("toggle", t.ID).Text(label).Disabled(p.busy != "").
					OnClick(func(ctx app.Context, e app.Event) { p.set(ctx, t.ID, !t.On) })
			}),
		),
		app.P().Class("small").Body(app.Strong().Text("What it does: "), app.Text(t.Action)),
		app.P().Class("small").Body(app.Strong().Text("What you will see: "), app.Text(t.Effect)),
		app.P().Class("small diagnosis-name").Body(app.Strong().Text("Diagnosis: "), app.Text(t.Diagnosis)),
		app.If(t.Try != "", func() app.UI { return app.A().Class("small").Href(t.Try).Text("Open " + t.Try + " to see it") }),
	)
}

// labUnavailable explains a 404 from the lab or workshop API: those exist
// only with the bundled emulator.
func labUnavailable(err error) app.UI {
	var e *apiError
	if errors.As(err, &e) && e.status == http.StatusNotFound {
		return app.Section().ID("lab-unavailable").Class("card trouble").Body(
			app.H2().Text("Only with the workspace emulator"),
			app.P().Text("The fault lab and the workshop change the emulated workspace, so they exist only when embedlab runs its bundled emulator (make run without workspace settings)."),
		)
	}
	return &troubleshooter{IErr: err}
}
