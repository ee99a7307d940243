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

func (p *trainerPage) renderProgress() app.UI {
	xs := p.trainer.Exercises
	return app.Section().ID("participants").Class("card").Body(
		app.H2().Text("Participants ("+strconv.Itoa(len(p.trainer.Participants))+")"),
		app.If(len(p.trainer.Participants) == 0, func() app.UI {
			return app.P().Class("muted").Text("Nobody has started an exercise yet.")
		}),
		app.Div().Class("table-wrap").Body(app.Table().Class("grid progress").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text("participant"),
				app.Range(xs).Slice(func(i int) app.UI { return app.Th().Title(xs[i].Title).Text(strconv.Itoa(i+1) + ". " + xs[i].ID) }),
				app.Th().Text("done"), app.Th().Text("last active"),
			)),
			app.TBody().Body(app.Range(p.trainer.Participants).Slice(func(j int) app.UI {
				pt := p.trainer.Participants[j]
				return app.Tr().DataSet("user", pt.User).Body(
					app.Td().Body(app.Strong().Text(pt.User)),
					app.Range(xs).Slice(func(i int) app.UI {
						st := pt.States[xs[i].ID]
						if st == "" {
							st = api.ExerciseNotStarted
						}
						return app.Td().Class("cell "+st).DataSet("exercise", xs[i].ID).Text(stateWords[st])
					}),
					app.Td().Text(strconv.Itoa(pt.Passed)+"/"+strconv.Itoa(len(xs))),
					app.Td().Class("muted").Text(pt.LastActive.Local().Format("15:04:05")),
				)
			})),
		)),
	)
}

func (p *trainerPage) renderLog() app.UI {
	entries := p.log
	return app.Section().ID("request-log").Class("card").Body(
		app.H2().Text("Workspace request log"),
		app.P().Class("muted small").Text("Newest first; tokens are redacted by the workspace before they are logged. Last update "+p.lastPoll.Format("15:04:05")+"."),
		app.Div().Class("table-wrap").Body(app.Table().Class("grid log").Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("#"), app.Th().Text("time"), app.Th().Text("request"), app.Th().Text("status"), app.Th().Text("principal"), app.Th().Text("error"))),
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
					app.Td().Text(e.Error),
				)
			})),
		)),
	)
}
