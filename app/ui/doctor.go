package ui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// doctorPage runs the doctor against the workspace the backend uses and
// shows its checklist, how the dashboard was published, and the isolation
// table: every dataset run as each of the user's viewers.
type doctorPage struct {
	app.Compo

	loaded  bool
	session api.Session
	running bool
	report  *api.DoctorReport
	err     error
	// via is how the isolation check runs the datasets ("" lets the
	// server choose; "sql" runs them as on a real workspace).
	via string
}

func (p *doctorPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Doctor · embedlab")
	loadSignedIn(ctx, "", nil, func(ctx app.Context, s api.Session, err error) {
		p.loaded, p.session, p.err = true, s, err
		if err == nil {
			p.run(ctx, app.Event{})
		}
	})
}

// run asks the backend for a fresh report, isolation check included.
func (p *doctorPage) run(ctx app.Context, _ app.Event) {
	if p.running {
		return
	}
	p.running, p.err = true, nil
	ctx.Async(func() {
		var rep api.DoctorReport
		path := api.PathDoctor + "?" + api.QueryIsolation + "=1"
		if p.via != "" {
			path += "&" + api.QueryVia + "=" + p.via
		}
		_, err := request(http.MethodGet, path, "", nil, &rep)
		ctx.Dispatch(func(ctx app.Context) {
			p.running = false
			if err != nil {
				p.err = err
				return
			}
			p.report = &rep
		})
	})
}

func (p *doctorPage) Render() app.UI {
	if !p.loaded {
		return app.Main().Class("page").Body(app.P().Class("muted").Text("Loading…"))
	}
	return app.Div().Class("app").Body(
		&topBar{ISession: p.session, IActive: "doctor"},
		app.Main().Class("doctor").Body(
			p.renderHead(),
			app.If(p.err != nil, func() app.UI { return &troubleshooter{IErr: p.err} }),
			app.If(p.report != nil, func() app.UI {
				return app.Div().Body(
					p.renderSummary(),
					p.renderCredentials(),
					p.renderChecks(),
					p.renderIsolation(),
				)
			}),
		),
	)
}

func (p *doctorPage) renderHead() app.UI {
	label := "Run again"
	if p.running {
		label = "Running…"
	}
	var facts []app.UI
	if r := p.report; r != nil {
		mode := "a real workspace"
		if r.Emulated {
			mode = "the workspace emulator"
		}
		for _, kv := range [][2]string{{"Workspace", r.InstanceURL + " (" + mode + ")"}, {"Workspace id", r.WorkspaceID},
			{"Dashboard", r.DashboardID}, {"Service principal", r.ClientID}, {"App origin", r.Origin}} {
			facts = append(facts, app.Dt().Text(kv[0]), app.Dd().Body(app.Code().Text(orDash(kv[1]))))
		}
	}
	return app.Section().Class("card doctor-head").Body(
		app.Div().Body(
			app.H1().Text("Doctor"),
			app.P().Class("lead").Text("Checks this deployment the way the embedded dashboard will meet it, with the HTTP calls a real workspace answers: "+
				"each line passes, fails, warns or is skipped, with the reason and the fix. The isolation check below runs every dataset as each of your viewers."),
			app.If(len(facts) > 0, func() app.UI { return app.Dl().Body(facts...) }),
		),
		app.Button().ID("run-doctor").Type("button").Class("primary").Disabled(p.running).Text(label).OnClick(p.run),
	)
}

func (p *doctorPage) renderSummary() app.UI {
	r := p.report
	n := map[string]int{}
	var failing []string
	for _, c := range r.Checks {
		n[c.Status]++
		if c.Status == api.StatusFail {
			failing = append(failing, c.Title)
		}
	}
	text := fmt.Sprintf("No check fails: %d passed, %d warnings, %d skipped (%.0f ms).", n[api.StatusPass], n[api.StatusWarn], n[api.StatusSkip], r.DurationMS)
	if !r.OK {
		text = fmt.Sprintf("%d of %d checks fail: %s.", n[api.StatusFail], len(r.Checks), strings.Join(failing, "; "))
	}
	return app.P().ID("doctor-summary").Class("card summary").DataSet("ok", r.OK).Text(text)
}

func (p *doctorPage) renderCredentials() app.UI {
	c := p.report.Credentials
	if c == nil {
		return app.P().ID("credentials").Class("card note").Text("The workspace did not say how the dashboard was published (see the embed credentials check).")
	}
	title := "Published with the publisher's credentials"
	if c.Mode == api.CredentialsViewer {
		title = "Published with the viewer's credentials"
	}
	return app.Section().ID("credentials").Class("card credentials").DataSet("mode", c.Mode).Body(
		app.H2().Text(title),
		app.P().Text(c.Meaning),
	)
}

func (p *doctorPage) renderChecks() app.UI {
	checks := p.report.Checks
	return app.Section().Class("card").Body(
		app.H2().Text("Checklist"),
		app.Ol().ID("checks").Class("checks").Body(app.Range(checks).Slice(func(i int) app.UI {
			c := checks[i]
			return app.Li().Class("check").DataSet("check", c.ID).DataSet("status", c.Status).Body(
				statusBadge(c.Status),
				app.Div().Body(
					app.Strong().Text(c.Title),
					app.P().Class("reason").Text(c.Reason),
					app.If(len(c.Details) > 0, func() app.UI {
						return app.Ul().Body(app.Range(c.Details).Slice(func(j int) app.UI { return app.Li().Text(c.Details[j]) }))
					}),
					app.If(c.Fix != "" && c.Status != api.StatusPass, func() app.UI {
						return app.P().Class("fix").Text("Fix: " + c.Fix)
					}),
				),
			)
		})),
	)
}

func statusBadge(status string) app.UI { return badge(status, status) }

// badge shows text in the colour of a status.
func badge(status, text string) app.UI {
	class := map[string]string{api.StatusPass: "ok", api.StatusFail: "bad", api.StatusWarn: "warn", api.StatusSkip: "skip"}[status]
	return app.Span().Class("badge " + class).Text(text)
}

func (p *doctorPage) renderIsolation() app.UI {
	iso := p.report.Isolation
	if iso == nil {
		return app.Text("")
	}
	return app.Section().ID("isolation").Class("card").DataSet("status", iso.Status).DataSet("method", iso.Method).Body(
		app.Div().Class("frame-head").Body(app.H2().Text("Isolation: every dataset as each viewer"), statusBadge(iso.Status)),
		p.renderMethod(iso),
		app.P().Class("reason").Text(iso.Reason),
		app.If(iso.Fix != "" && iso.Status != api.StatusPass, func() app.UI { return app.P().Class("fix").Text("Fix: " + iso.Fix) }),
		app.If(len(iso.MissingGrants) > 0, func() app.UI {
			return app.Ul().ID("missing-grants").Class("probes").Body(app.Range(iso.MissingGrants).Slice(func(i int) app.UI {
				g := iso.MissingGrants[i]
				return app.Li().DataSet("privilege", g.Privilege).Body(
					badge(api.StatusFail, "missing"), app.Strong().Text(" "+g.Privilege+" on "+g.Securable+" for "),
					app.Code().Text(g.Principal), app.Span().Class("muted").Text(". Who can give it: "+g.GrantedBy+". How: "+g.How))
			}))
		}),
		app.If(len(iso.Datasets) > 0, func() app.UI { return p.renderTable(iso) }),
		app.If(len(iso.Probes) > 0, func() app.UI {
			return app.Div().Body(
				app.H3().Text("Tokens that must get nothing at all"),
				app.Ul().ID("probes").Class("probes").Body(app.Range(iso.Probes).Slice(func(i int) app.UI {
					pr := iso.Probes[i]
					return app.Li().DataSet("probe", pr.ID).DataSet("status", pr.Status).Body(
						statusBadge(pr.Status), app.Strong().Text(" "+pr.Title+": "), app.Span().Class("muted").Text(pr.Reason))
				})),
			)
		}),
	)
}

// renderMethod says how the datasets ran and as whom, and on the emulator
// offers the other way: the SQL Statement Execution API is what a real
// workspace has.
func (p *doctorPage) renderMethod(iso *api.IsolationReport) app.UI {
	how := "Ran through the workspace's embed query API, with each viewer's own scoped token."
	next, label := "sql", "Run as on a real workspace (SQL statements)"
	if iso.Method == api.MethodStatements {
		how = "Ran through the SQL Statement Execution API on warehouse " + orDash(iso.WarehouseID) +
			", each viewer's external_value bound as a named parameter."
		next, label = "embed", "Run through the embed query API"
	}
	return app.Div().ID("isolation-method").Class("note").Body(
		app.P().Text(how),
		app.If(iso.RunsAs != "", func() app.UI { return app.P().ID("runs-as").Text(iso.RunsAs) }),
		app.If(p.report.Emulated, func() app.UI {
			return app.Button().ID("isolation-via").Type("button").Disabled(p.running).Text(label).OnClick(func(ctx app.Context, e app.Event) {
				p.via = next
				p.run(ctx, e)
			})
		}),
	)
}

func (p *doctorPage) renderTable(iso *api.IsolationReport) app.UI {
	head := []app.UI{app.Th().Text("Dataset")}
	for _, v := range iso.Viewers {
		th := app.Th().Body(app.Span().Text(v.DisplayName), app.Br(), app.Code().Text(v.ID))
		if v.Error != "" {
			th = app.Th().Title(v.Error).Body(app.Span().Text(v.DisplayName), app.Br(), app.Code().Text(v.ID), app.Br(), app.Span().Class("problem").Text("no token"))
		}
		head = append(head, th)
	}
	head = append(head, app.Th().Text("Verdict"))
	return app.Div().Class("table-wrap").Body(app.Table().ID("isolation-table").Class("grid isolation").Body(
		app.THead().Body(app.Tr().Body(head...)),
		app.TBody().Body(app.Range(iso.Datasets).Slice(func(i int) app.UI {
			d := iso.Datasets[i]
			cells := []app.UI{app.Th().Body(
				app.Code().Text(d.Name), app.Br(), app.Span().Class("label").Text(d.DisplayName),
				app.If(!d.UsesExternalValue, func() app.UI {
					return app.Span().Class("badge bad unfiltered").Title("its SQL never uses __aibi_external_value").Text("unfiltered")
				}),
			)}
			for _, c := range d.Cells {
				cells = append(cells, renderCell(c))
			}
			cells = append(cells, app.Td().Class("verdict-cell").Body(badge(d.Status, d.Verdict),
				app.Div().Class("small muted").Text(strings.TrimPrefix(d.Reason, d.Name+": "))))
			return app.Tr().DataSet("dataset", d.Name).DataSet("verdict", d.Verdict).DataSet("status", d.Status).Body(cells...)
		})),
	))
}

// renderCell is what one viewer got: the rows, their fingerprint (equal
// fingerprints, equal rows) and how many of them other viewers got too;
// or why the query failed.
func renderCell(c api.IsolationCell) app.UI {
	td := app.Td().Class("cell")
	switch {
	case c.Error != "":
		return td.DataSet("error", true).Body(app.Span().Class("problem").Text("error: " + c.Error))
	case c.Rows == 0:
		return td.Body(app.Strong().Text("0 rows"))
	}
	rows := fmt.Sprintf("%d rows", c.Rows)
	if c.Rows == 1 {
		rows = "1 row"
	}
	if c.Truncated {
		rows = "≥ " + rows
	}
	return td.Body(
		app.Strong().Text(rows),
		app.Div().Class("label").Body(app.Text("fingerprint "), app.Code().Class("fingerprint").Text(c.Fingerprint)),
		app.If(c.Shared > 0, func() app.UI {
			return app.Div().Class("shared").Text(fmt.Sprintf("%d shared with other viewers", c.Shared))
		}),
	)
}
