package ui

import (
	"net/http"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// workshopPage lists the exercises: goal, hints, the commands to run in a
// terminal, and a Check button that asks the workspace's logs whether the
// checkpoint was met, green or red with a hint.
type workshopPage struct {
	app.Compo

	loaded   bool
	session  api.Session
	workshop api.Workshop
	failure  error
	busy     string
	notice   string
}

func (p *workshopPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Workshop · embedlab")
	var w api.Workshop
	loadSignedIn(ctx, api.PathWorkshop, &w, func(ctx app.Context, s api.Session, err error) {
		p.loaded, p.session, p.workshop, p.failure = true, s, w, err
	})
}

// act starts or checks an exercise ("start", "check"), or resets ("reset",
// "reset-progress").
func (p *workshopPage) act(ctx app.Context, action, id string) {
	if p.busy != "" {
		return
	}
	p.busy, p.notice = action+":"+id, ""
	csrf := p.session.CSRFToken
	ctx.Async(func() {
		var x api.Exercise
		var w api.Workshop
		var err error
		switch action {
		case "start":
			_, err = request(http.MethodPost, api.PathWorkshopStart, csrf, api.ExerciseRef{ID: id}, &x)
		case "check":
			_, err = request(http.MethodPost, api.PathWorkshopCheck, csrf, api.ExerciseRef{ID: id}, &x)
		default:
			_, err = request(http.MethodPost, api.PathWorkshopReset, csrf, api.WorkshopReset{Workspace: action == "reset", Progress: action == "reset-progress"}, &w)
		}
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = ""
			switch {
			case err != nil:
				p.notice = errorText(err)
			case action == "start" || action == "check":
				for i := range p.workshop.Exercises {
					if p.workshop.Exercises[i].ID == x.ID {
						p.workshop.Exercises[i] = x
					}
				}
			default:
				p.workshop = w
				p.notice = "The workspace is as it started (every fault lab toggle off)."
				if action == "reset-progress" {
					p.notice = "Your progress is cleared."
				}
			}
		})
	})
}

func (p *workshopPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	passed := 0
	for _, x := range p.workshop.Exercises {
		if x.Status.State == api.ExercisePassed {
			passed++
		}
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "workshop"},
		app.Main().ID("workshop").Class("wide").Body(
			app.H1().Text("Workshop"),
			app.P().Class("lead").Text("Do each step of the token flow yourself in a terminal, against the emulated workspace. Press Start, run the commands, then Check: the workspace's own logs say whether you got it right."),
			app.If(p.failure != nil, func() app.UI { return labUnavailable(p.failure) }),
			app.If(p.notice != "", func() app.UI { return app.P().ID("workshop-notice").Class("card note").Text(p.notice) }),
			app.If(p.failure == nil, func() app.UI {
				return app.Div().Body(
					app.Div().Class("row lab-actions").Body(
						app.Span().ID("progress").Class("badge ok").Text(strconv.Itoa(passed)+" of "+strconv.Itoa(len(p.workshop.Exercises))+" done"),
						// The workspace is everyone's: only a trainer resets it (the server refuses others too).
						app.If(p.session.HasRole(api.RoleTrainer), func() app.UI {
							return app.Button().ID("workshop-reset").Type("button").Class("ghost-dark").Text("Reset the workspace").Disabled(p.busy != "").
								OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "reset", "") })
						}),
						app.Button().ID("workshop-reset-progress").Type("button").Class("ghost-dark").Text("Reset my progress").Disabled(p.busy != "").
							OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "reset-progress", "") }),
						app.If(p.workshop.Trainer, func() app.UI { return app.A().Href("/trainer").Text("Trainer view") }),
					),
					app.Range(p.workshop.Exercises).Slice(func(i int) app.UI { return p.renderExercise(i+1, p.workshop.Exercises[i]) }),
				)
			}),
		),
	)
}

var stateWords = map[string]string{
	api.ExerciseNotStarted: "not started", api.ExerciseStarted: "started", api.ExerciseFailed: "not yet", api.ExercisePassed: "done",
}

func (p *workshopPage) renderExercise(n int, x api.Exercise) app.UI {
	st := x.Status
	badge := "badge"
	switch st.State {
	case api.ExercisePassed:
		badge += " ok"
	case api.ExerciseFailed:
		badge += " bad"
	default:
		badge += " reused"
	}
	started := st.State != api.ExerciseNotStarted
	return app.Section().Class("card exercise "+st.State).ID("ex-"+x.ID).DataSet("state", st.State).Body(
		app.Div().Class("toggle-head").Body(
			app.H2().Text(strconv.Itoa(n)+". "+x.Title),
			app.Span().Class(badge+" state").Text(stateWords[st.State]),
		),
		app.P().Class("goal").Text(x.Goal),
		app.P().Class("small").Body(app.Strong().Text("Checkpoint: "), app.Text(x.Checkpoint)),
		app.If(len(x.Requires) > 0, func() app.UI {
			return app.P().Class("small requires").Body(app.Strong().Text("Needs: "),
				app.Range(x.Requires).Slice(func(i int) app.UI {
					r := x.Requires[i]
					sep := ", "
					if i == len(x.Requires)-1 {
						sep = " (the first command checks them and says how to get what is missing)"
					}
					return app.Span().DataSet("requires", r.Name).Title(r.Fix).Text(r.What + sep)
				}))
		}),
		app.Range(x.Commands).Slice(func(i int) app.UI {
			c := x.Commands[i]
			return app.Div().Class("command").Body(
				app.If(c.Label != "", func() app.UI { return app.Span().Class("label").Text(c.Label) }),
				app.Pre().Body(app.Code().Text(c.Shell)),
				&copyButton{IText: c.Shell, ILabel: "Copy command"},
			)
		}),
		app.Details().Class("hints").Body(
			app.Summary().Text("Hints ("+strconv.Itoa(len(x.Hints))+")"),
			app.Ul().Class("small").Body(app.Range(x.Hints).Slice(func(i int) app.UI { return app.Li().Text(x.Hints[i]) })),
		),
		app.Div().Class("row").Body(
			app.Button().Type("button").Class("primary start").DataSet("exercise", x.ID).Text(map[bool]string{false: "Start", true: "Start again"}[started]).
				Disabled(p.busy != "").OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "start", x.ID) }),
			app.Button().Type("button").Class("primary check").DataSet("exercise", x.ID).Text("Check").
				Disabled(p.busy != "" || !started).OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "check", x.ID) }),
		),
		app.If(st.Message != "", func() app.UI {
			cls := "diagnosis result"
			switch st.State {
			case api.ExercisePassed:
				cls += " ok"
			case api.ExerciseFailed:
				cls += " trouble"
			}
			return app.Div().Class(cls).Body(
				app.P().Class("message").Text(st.Message),
				app.If(st.Hint != "", func() app.UI { return app.P().Class("fix hint").Text("Hint: " + st.Hint) }),
				app.If(len(st.Evidence) > 0, func() app.UI {
					return app.Ul().Class("small evidence").Body(app.Range(st.Evidence).Slice(func(i int) app.UI { return app.Li().Text(st.Evidence[i]) }))
				}),
			)
		}),
	)
}
