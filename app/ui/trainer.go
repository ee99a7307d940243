package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// trainerPage shows every participant's progress at a glance and the
// emulated workspace's request log as it grows (polled every 2 seconds).
type trainerPage struct {
	app.Compo

	loaded   bool
	session  api.Session
	trainer  api.Trainer
	log      []api.LogEntry
	next     int64
	failure  error
	polling  bool
	gone     bool
	lastPoll time.Time
	busy     string // the participant being reset
	notice   string
}

const trainerPoll = 2 * time.Second

func (p *trainerPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Trainer · embedlab")
	p.gone = false
	loadSignedIn(ctx, "", nil, func(ctx app.Context, s api.Session, err error) {
		p.session, p.failure = s, err
		if err != nil {
			p.loaded = true
			return
		}
		p.poll(ctx)
	})
}

func (p *trainerPage) OnDismount() { p.gone = true }

// poll reads the progress and the new log lines, then schedules itself.
func (p *trainerPage) poll(ctx app.Context) {
	if p.polling || p.gone {
		return
	}
	p.polling = true
	since := p.next
	ctx.Async(func() {
		var tr api.Trainer
		var lg api.RequestLog
		_, err := request(http.MethodGet, api.PathTrainer, "", nil, &tr)
		if err == nil {
			_, err = request(http.MethodGet, api.PathTrainerRequests+"?since="+strconv.FormatInt(since, 10), "", nil, &lg)
		}
		ctx.Dispatch(func(ctx app.Context) {
			p.polling, p.loaded, p.failure, p.lastPoll = false, true, err, time.Now()
			if err != nil {
				return // a refusal (not a trainer) stays on screen; no more polls
			}
			p.trainer = tr
			p.log = append(p.log, lg.Entries...)
			if len(p.log) > 300 {
				p.log = p.log[len(p.log)-300:]
			}
			p.next = max(p.next, lg.Next)
			ctx.After(trainerPoll, p.poll)
		})
	})
}

func (p *trainerPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "trainer"},
		app.Main().ID("trainer").Class("wide").Body(
			app.H1().Text("Trainer view"),
			app.P().Class("lead").Text("Every participant's progress, and what the emulated workspace sees, updated every 2 seconds."),
			app.If(p.failure != nil, func() app.UI { return labUnavailable(p.failure) }),
			app.If(p.failure == nil, func() app.UI {
				return app.Div().Body(p.renderProgress(), p.renderLog())
			}),
		),
	)
}

// resetParticipant forgets one participant's progress (all of it), after
// the trainer confirmed it.
func (p *trainerPage) resetParticipant(ctx app.Context, user string) {
	if p.busy != "" || !app.Window().Call("confirm", "Forget "+user+"'s progress on every exercise? Their workspace identities stay.").Bool() {
		return
	}
	p.busy, p.notice = user, ""
	csrf := p.session.CSRFToken
	ctx.Async(func() {
		var tr api.Trainer
		_, err := request(http.MethodPost, api.PathTrainerReset, csrf, api.TrainerReset{User: user}, &tr)
		ctx.Dispatch(func(ctx app.Context) {
			p.busy = ""
			if err != nil {
				p.notice = errorText(err)
				return
			}
			p.trainer, p.notice = tr, user+"'s progress is cleared."
		})
	})
}

func (p *trainerPage) renderProgress() app.UI {
	xs := p.trainer.Exercises
	title := func(id string) string {
		for i, x := range xs {
			if x.ID == id {
				return strconv.Itoa(i+1) + ". " + x.Title
			}
		}
		return id
	}
	return app.Section().ID("participants").Class("card").DataSet("stuck", p.trainer.Stuck).Body(
		app.H2().Text("Participants ("+strconv.Itoa(len(p.trainer.Participants))+")"),
		app.P().Class("muted small").Text(strconv.Itoa(p.trainer.Stuck)+" stuck (red after "+strconv.Itoa(3)+" checks, or started 10 minutes ago and not done). Hover a cell for the hint that participant sees."),
		app.If(p.notice != "", func() app.UI { return app.P().ID("trainer-notice").Class("card note").Text(p.notice) }),
		app.If(len(p.trainer.Participants) == 0, func() app.UI {
			return app.P().Class("muted").Text("Nobody has joined yet: participants appear when they open the workshop.")
		}),
		app.Div().Class("table-wrap").Body(app.Table().Class("grid progress").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text("participant"),
				app.Range(xs).Slice(func(i int) app.UI { return app.Th().Title(xs[i].Title).Text(strconv.Itoa(i+1) + ". " + xs[i].ID) }),
				app.Th().Text("done"), app.Th().Text("stuck on (the hint they see)"), app.Th().Text("last active"), app.Th().Text(""),
			)),
			app.TBody().Body(app.Range(p.trainer.Participants).Slice(func(j int) app.UI {
				pt := p.trainer.Participants[j]
				row := app.Tr().DataSet("user", pt.User)
				if pt.Stuck != "" {
					row = row.Class("stuck").DataSet("stuck", pt.Stuck)
				}
				return row.Body(
					app.Td().Body(app.Strong().Text(pt.User), app.If(pt.ClientID != "", func() app.UI {
						return app.Div().Class("muted small").Title("their service principal").Text(pt.ClientID)
					})),
					app.Range(xs).Slice(func(i int) app.UI {
						c, ok := pt.Cells[xs[i].ID]
						if !ok {
							c.State = api.ExerciseNotStarted
						}
						text := stateWords[c.State]
						if c.Attempts > 0 && c.State != api.ExercisePassed {
							text += " ×" + strconv.Itoa(c.Attempts)
						}
						cls := "cell " + c.State
						if c.Stuck {
							cls += " stuck"
						}
						tip := c.Hint
						if tip == "" {
							tip = c.Message
						}
						return app.Td().Class(cls).DataSet("exercise", xs[i].ID).DataSet("attempts", c.Attempts).Title(tip).Text(text)
					}),
					app.Td().Text(strconv.Itoa(pt.Passed)+"/"+strconv.Itoa(len(xs))),
					app.Td().Class("stuck-on small").Body(app.If(pt.Stuck != "", func() app.UI {
						return app.Div().Body(app.Strong().Text(title(pt.Stuck)), app.Div().Class("hint").Text(pt.StuckHint))
					})),
					app.Td().Class("muted").Text(activeText(pt.LastActive)),
					app.Td().Body(app.Button().Type("button").Class("ghost-dark reset-participant").DataSet("user", pt.User).Text("Reset").
						Title("forget "+pt.User+"'s progress").Disabled(p.busy != "").
						OnClick(func(ctx app.Context, e app.Event) { p.resetParticipant(ctx, pt.User) })),
				)
			})),
		)),
	)
}

func activeText(t time.Time) string {
	if t.IsZero() {
		return "joined"
	}
	return t.Local().Format("15:04:05")
}

func (p *trainerPage) renderLog() app.UI {
	entries := p.log
	return app.Section().ID("request-log").Class("card").Body(
		app.H2().Text("Workspace request log"),
		app.P().Class("muted small").Text("Newest first; tokens are redacted by the workspace before they are logged. Last update "+p.lastPoll.Format("15:04:05")+"."),
		app.Div().Class("table-wrap").Body(app.Table().Class("grid log").Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("#"), app.Th().Text("time"), app.Th().Text("request"), app.Th().Text("status"), app.Th().Text("principal"), app.Th().Text("whose"), app.Th().Text("error"))),
			app.TBody().Body(app.Range(entries).Slice(func(k int) app.UI {
				e := entries[len(entries)-1-k]
				req := e.Method + " " + e.Path
				if e.App != "" {
					req = e.App + ": " + req
				}
				cls := "ok"
				if e.Status >= 400 {
					cls = "bad"
				}
				return app.Tr().DataSet("seq", e.Seq).Body(
					app.Td().Class("muted").Text(strconv.FormatInt(e.Seq, 10)),
					app.Td().Class("muted").Text(e.Time.Local().Format("15:04:05")),
					app.Td().Body(app.Code().Text(req)),
					app.Td().Body(app.Span().Class("badge "+cls).Text(strconv.Itoa(e.Status))),
					app.Td().Body(app.Code().Text(e.Principal)),
					app.Td().Class("owner").Text(whose(e)),
					app.Td().Text(e.Error),
				)
			})),
		)),
	)
}

// whose names a log line's owner: a participant, the workspace's shared
// identities (the app's service principal, the demo users), or nobody (a
// request without credentials, such as the embed page's static files).
func whose(e api.LogEntry) string {
	switch {
	case e.Owner != "":
		return e.Owner
	case e.Principal != "":
		return "shared"
	}
	return "—"
}
