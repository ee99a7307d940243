package dashboard

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
)

//go:embed dashboard.css
var baseCSS string

// Stylesheet returns the CSS for RenderPage's markup, to be served as a
// file (the embed page's CSP allows style-src 'self' only, so neither a
// <style> block nor style="" attributes would apply). Widget placement is
// expressed by classes (dash-xN, dash-wN, dash-yN, dash-hN), generated here
// for every cell of the grid.
func Stylesheet() string { return stylesheet() }

var stylesheet = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(baseCSS)
	b.WriteString("\n/* Placement on the grid, one class per column, span and row (generated). */\n")
	for i := range GridColumns {
		fmt.Fprintf(&b, ".dash-x%d{grid-column-start:%d}.dash-w%d{grid-column-end:span %d}\n", i, i+1, i+1, i+1)
	}
	for i := range MaxGridRows {
		fmt.Fprintf(&b, ".dash-y%d{grid-row-start:%d}.dash-h%d{grid-row-end:span %d}\n", i, i+1, i+1, i+1)
	}
	return b.String()
})

// errNoRows is what a chart returns when nothing is left to draw.
var errNoRows = errors.New("no rows")

// Messages the placeholders show; tests and the browser check for them.
const (
	MsgNoRows      = "No rows for this viewer"
	MsgUnsupported = "Unsupported widget: "
	MsgQueryFailed = "Query failed: "
)

// Render runs a page for one viewer and renders it: RunPage then RenderPage.
func (d *Definition) Render(ctx context.Context, db *sql.DB, page, externalValue string) (template.HTML, error) {
	res, err := d.RunPage(ctx, db, page, externalValue)
	if err != nil {
		return "", err
	}
	return RenderPage(d, res.Page, res)
}

// RenderPage renders a page's results as an HTML fragment: a <section
// data-page> holding a 6-column CSS grid of <article data-widget> tiles.
// Each tile carries data-widget, data-widget-type and data-state (ok,
// empty, error or unsupported); counters carry their raw number in
// data-value, table rows data-row and numeric cells data-value, chart marks
// data-x/data-series/data-value or data-label/data-value. All text is
// escaped; there are no scripts and no style attributes.
func RenderPage(def *Definition, page string, res *PageResult) (template.HTML, error) {
	if def == nil || res == nil {
		return "", errors.New("render page: no definition or no results")
	}
	pg, ok := def.Page(page)
	if !ok {
		return "", fmt.Errorf("render page %q: %w", page, ErrNotFound)
	}
	if res.Page != pg.Name {
		return "", fmt.Errorf("render page %q: the results are for page %q", pg.Name, res.Page)
	}
	view := pageView{Name: pg.Name, Title: pg.DisplayName}
	for i := range pg.Widgets {
		wr, _ := res.Widget(pg.Widgets[i].Name)
		view.Widgets = append(view.Widgets, widgetViewOf(&pg.Widgets[i], wr))
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, view); err != nil {
		return "", fmt.Errorf("render page %q: %w", pg.Name, err)
	}
	return template.HTML(buf.String()), nil
}

type pageView struct {
	Name, Title string
	Widgets     []widgetView
}

type widgetView struct {
	Name, Type, TypeClass, Place string
	State, Title, Message        string
	Counter                      *counterView
	Table                        *tableView
	Chart                        template.HTML
}

type counterView struct{ Value, Raw, Label string }

type tableView struct {
	Head      []cellView
	Rows      [][]cellView
	Truncated bool
	Shown     string
}

type cellView struct {
	Text, Raw string
	Num       bool
}

func widgetViewOf(w *Widget, wr *WidgetResult) widgetView {
	v := widgetView{Name: w.Name, Type: w.Type, TypeClass: classSafe(w.Type), State: "ok",
		Place: fmt.Sprintf("dash-x%d dash-w%d dash-y%d dash-h%d", w.Position.X, w.Position.Width, w.Position.Y, w.Position.Height)}
	if w.ShowTitle {
		v.Title = w.Title
	}
	fail := func(state, msg string) widgetView {
		v.State, v.Message = state, msg
		return v
	}
	switch {
	case !w.Supported():
		return fail("unsupported", MsgUnsupported+w.Type)
	case wr == nil:
		return fail("error", "No result for this widget")
	case wr.Error != "":
		return fail("error", MsgQueryFailed+wr.Error)
	case len(wr.Rows) == 0:
		return fail("empty", MsgNoRows)
	}
	r := &wr.Result
	var err error
	switch w.Type {
	case TypeCounter:
		v.Counter, err = counterOf(w, r)
	case TypeTable:
		v.Table, err = tableOf(w, r)
	case TypeBar, TypeLine:
		v.Chart, err = xyChart(w, r, chartTitle(w))
	case TypePie:
		v.Chart, err = pieChart(w, r, chartTitle(w))
	}
	switch {
	case errors.Is(err, errNoRows):
		return fail("empty", MsgNoRows)
	case err != nil:
		return fail("error", "Cannot draw this widget: "+err.Error())
	}
	return v
}

// chartTitle names a chart for screen readers even when its frame hides
// the title.
func chartTitle(w *Widget) string {
	if w.Title != "" {
		return w.Title
	}
	return w.Encodings.Y.Label() + w.Encodings.Angle.Label()
}

func counterOf(w *Widget, r *Result) (*counterView, error) {
	i := fieldIndex(r, w.Encodings.Value)
	if i < 0 {
		return nil, errors.New("the result lacks the counter's value field")
	}
	val := r.Rows[0][i]
	c := &counterView{Value: formatCounter(val), Label: w.Encodings.Value.Label()}
	if val == nil {
		c.Value = "–"
	}
	if f, ok := toFloat(val); ok && isNumber(val) {
		c.Raw = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return c, nil
}

func tableOf(w *Widget, r *Result) (*tableView, error) {
	cols := w.Encodings.Columns
	if len(cols) == 0 {
		for _, c := range r.Columns {
			cols = append(cols, Encoding{FieldName: c})
		}
	}
	t := &tableView{Truncated: r.Truncated, Shown: formatNumber(float64(len(r.Rows)), 0)}
	idx := make([]int, len(cols))
	decimals := make([]int, len(cols))
	numeric := make([]bool, len(cols))
	for j := range cols {
		idx[j] = fieldIndex(r, &cols[j])
		if idx[j] < 0 {
			return nil, fmt.Errorf("the result lacks column %q", cols[j].FieldName)
		}
		// A column is numeric, and right-aligned, when every value is a
		// number; it gets two decimals when any value has a fraction.
		numeric[j] = true
		for _, row := range r.Rows {
			v := row[idx[j]]
			if v != nil && !isNumber(v) {
				numeric[j] = false
			}
			if f, ok := v.(float64); ok && f != math.Trunc(f) {
				decimals[j] = 2
			}
		}
		t.Head = append(t.Head, cellView{Text: cols[j].Label(), Num: numeric[j]})
	}
	for _, row := range r.Rows {
		cells := make([]cellView, len(cols))
		for j := range cols {
			v := row[idx[j]]
			cells[j] = cellView{Text: formatCell(v, decimals[j]), Num: numeric[j]}
			if f, ok := toFloat(v); ok && isNumber(v) {
				cells[j].Raw = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	return t, nil
}

// classSafe reduces a widget type from the file to a class-name fragment.
func classSafe(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return clip(b.String(), 40)
}

var pageTmpl = template.Must(template.New("page").Parse(
	`<section class="dash-page" data-page="{{.Name}}" aria-label="{{.Title}}"><div class="dash-grid">
{{range .Widgets -}}
<article class="dash-widget dash-type-{{.TypeClass}} {{.Place}}" data-widget="{{.Name}}" data-widget-type="{{.Type}}" data-state="{{.State}}">
{{- if .Title}}<h2 class="dash-title">{{.Title}}</h2>{{end -}}
<div class="dash-body">
{{- if .Counter}}{{with .Counter -}}
<div class="dash-counter"><div class="dash-counter-value" data-value="{{.Raw}}">{{.Value}}</div><div class="dash-counter-label">{{.Label}}</div></div>
{{- end}}{{else if .Table}}{{with .Table -}}
<div class="dash-table-wrap"><table class="dash-table"><thead><tr>
{{- range .Head}}<th scope="col"{{if .Num}} class="num"{{end}}>{{.Text}}</th>{{end -}}
</tr></thead><tbody>
{{range $i, $row := .Rows}}<tr data-row="{{$i}}">{{range $row}}<td{{if .Num}} class="num" data-value="{{.Raw}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end -}}
</tbody></table></div>
{{- if .Truncated}}<p class="dash-note">Showing the first {{.Shown}} rows</p>{{end}}
{{- end}}{{else if .Chart}}<div class="dash-chart">{{.Chart}}</div>
{{- else}}<p class="dash-message dash-message-{{.State}}"{{if eq .State "error"}} role="alert"{{end}}>{{.Message}}</p>{{end -}}
</div></article>
{{end -}}
</div></section>
`))
