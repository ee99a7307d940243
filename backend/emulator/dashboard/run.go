package dashboard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRows caps the rows one widget or dataset run returns; Result.Truncated
// says when there were more.
const MaxRows = 1000

// ErrNotFound is wrapped by errors for an unknown page, widget or dataset.
var ErrNotFound = errors.New("not found")

// Result is the output of one query: column names and rows of plain
// JSON-friendly values (nil, int64, float64, string, bool).
type Result struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated,omitempty"`
}

// WidgetResult is one widget's rows on a page, or why it has none. An
// unsupported widget has neither rows nor an error.
type WidgetResult struct {
	Widget string `json:"widget"`
	Result
	Error string `json:"error,omitempty"`
}

// PageResult holds every widget's result of a page, in layout order.
type PageResult struct {
	Page    string         `json:"page"`
	Widgets []WidgetResult `json:"widgets"`
}

// Widget returns the result of the named widget.
func (r *PageResult) Widget(name string) (*WidgetResult, bool) {
	for i := range r.Widgets {
		if r.Widgets[i].Widget == name {
			return &r.Widgets[i], true
		}
	}
	return nil, false
}

// RunPage runs every supported widget of a page (the first page when
// pageName is empty) for one viewer. A failing widget query is recorded in
// its WidgetResult, as a dashboard shows an error in that tile only; the
// page fails as a whole only when it is unknown or ctx ends (every query is
// bounded by ctx's deadline).
func (d *Definition) RunPage(ctx context.Context, db *sql.DB, pageName, externalValue string) (*PageResult, error) {
	pg, ok := d.Page(pageName)
	if !ok {
		return nil, fmt.Errorf("run page %q: %w", pageName, ErrNotFound)
	}
	res := &PageResult{Page: pg.Name, Widgets: make([]WidgetResult, 0, len(pg.Widgets))}
	for i := range pg.Widgets {
		w := &pg.Widgets[i]
		wr := WidgetResult{Widget: w.Name}
		if w.Supported() {
			r, err := d.runWidget(ctx, db, w, externalValue)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("run page %q: %w", pg.Name, ctx.Err())
				}
				wr.Error = err.Error()
			} else {
				wr.Result = *r
			}
		}
		res.Widgets = append(res.Widgets, wr)
	}
	return res, nil
}

// RunWidget runs one widget's query for one viewer.
func (d *Definition) RunWidget(ctx context.Context, db *sql.DB, widgetName, externalValue string) (*Result, error) {
	w, ok := d.Widget(widgetName)
	if !ok {
		return nil, fmt.Errorf("run widget %q: %w", widgetName, ErrNotFound)
	}
	return d.runWidget(ctx, db, w, externalValue)
}

func (d *Definition) runWidget(ctx context.Context, db *sql.DB, w *Widget, externalValue string) (*Result, error) {
	b, err := d.widgetQuery(w, externalValue)
	if err != nil {
		return nil, err
	}
	res, err := runQuery(ctx, db, b)
	if err != nil {
		return nil, fmt.Errorf("run widget %q: %w", w.Name, err)
	}
	res.Columns = make([]string, len(w.Query.Fields))
	for i, f := range w.Query.Fields {
		res.Columns[i] = f.Name
	}
	return res, nil
}

// RunDataset runs a dataset's SQL as it stands (no widget aggregation) for
// one viewer, capped at MaxRows: what an isolation check compares between
// viewers.
func (d *Definition) RunDataset(ctx context.Context, db *sql.DB, datasetName, externalValue string) (*Result, error) {
	ds, ok := d.Dataset(datasetName)
	if !ok {
		return nil, fmt.Errorf("run dataset %q: %w", datasetName, ErrNotFound)
	}
	b, err := BindExternalValue(ds.SQL, externalValue)
	if err != nil {
		return nil, fmt.Errorf("run dataset %q: %w", ds.Name, err)
	}
	// The newlines keep a trailing -- comment from swallowing the ")".
	b.SQL = "SELECT * FROM (\n" + b.SQL + "\n) LIMIT " + strconv.Itoa(MaxRows+1)
	res, err := runQuery(ctx, db, b)
	if err != nil {
		return nil, fmt.Errorf("run dataset %q: %w", ds.Name, err)
	}
	return res, nil
}

// WidgetQuery returns the SQL and arguments a widget runs for a viewer, for
// debugging views; the value is only ever in Args.
func (d *Definition) WidgetQuery(widgetName, externalValue string) (Bound, error) {
	w, ok := d.Widget(widgetName)
	if !ok {
		return Bound{}, fmt.Errorf("widget %q: %w", widgetName, ErrNotFound)
	}
	return d.widgetQuery(w, externalValue)
}

// widgetQuery wraps the dataset in the widget's aggregation:
//
//	SELECT <expr> AS f0, ... FROM (<dataset>) AS dataset
//	GROUP BY <plain columns> ORDER BY ... LIMIT MaxRows+1
//
// Output columns are aliased f0, f1, ... rather than by field name, so the
// only text from the definition in the wrapper is column names that
// ParseExpression has vetted.
func (d *Definition) widgetQuery(w *Widget, externalValue string) (Bound, error) {
	if !w.Supported() || w.Query == nil {
		return Bound{}, fmt.Errorf("widget %q (%s) has no query to run", w.Name, w.Type)
	}
	q := w.Query
	ds, ok := d.Dataset(q.DatasetName)
	if !ok {
		return Bound{}, fmt.Errorf("widget %q: dataset %q: %w", w.Name, q.DatasetName, ErrNotFound)
	}
	if len(q.Fields) == 0 {
		return Bound{}, fmt.Errorf("widget %q: the query has no fields", w.Name)
	}
	b, err := BindExternalValue(ds.SQL, externalValue)
	if err != nil {
		return Bound{}, fmt.Errorf("widget %q: dataset %q: %w", w.Name, ds.Name, err)
	}
	exprs := make([]Expression, len(q.Fields))
	selects := make([]string, len(q.Fields))
	var groupBy []string
	aggregates := 0
	for i, f := range q.Fields {
		e, err := ParseExpression(f.Expression)
		if err != nil {
			return Bound{}, fmt.Errorf("widget %q: field %q: %w", w.Name, f.Name, err)
		}
		exprs[i] = e
		selects[i] = e.SQL() + " AS f" + strconv.Itoa(i)
		if e.Aggregate() {
			aggregates++
		} else {
			groupBy = append(groupBy, e.SQL())
		}
	}
	var s strings.Builder
	s.WriteString("SELECT " + strings.Join(selects, ", ") + "\nFROM (\n" + b.SQL + "\n) AS dataset")
	switch {
	case q.Disaggregated:
	case aggregates == len(exprs):
		// An aggregate over no rows still yields one row (SUM is NULL); a
		// viewer whose value matches nothing should see "no rows" instead.
		s.WriteString("\nHAVING COUNT(*) > 0")
	default:
		// With plain columns only, this yields one row per distinct
		// combination, as an aggregated Lakeview query without measures does.
		s.WriteString("\nGROUP BY " + strings.Join(groupBy, ", "))
	}
	s.WriteString("\nORDER BY " + strings.Join(orderBy(w, exprs), ", "))
	s.WriteString("\nLIMIT " + strconv.Itoa(MaxRows+1))
	b.SQL = s.String()
	return b, nil
}

// orderBy sorts rows the way the widget reads them: charts along their
// category axis, pies largest slice first, aggregated tables by their first
// measure, largest first. Every other column follows as a tie-breaker, so
// the order is deterministic.
func orderBy(w *Widget, exprs []Expression) []string {
	idx := func(e *Encoding) int {
		if e == nil {
			return -1
		}
		return slices.IndexFunc(w.Query.Fields, func(f Field) bool { return f.Name == e.FieldName })
	}
	var keys []string
	used := make([]bool, len(exprs))
	add := func(i int, desc bool) {
		if i < 0 || used[i] {
			return
		}
		used[i] = true
		k := "f" + strconv.Itoa(i)
		if desc {
			k += " DESC"
		}
		keys = append(keys, k)
	}
	switch w.Type {
	case TypeBar, TypeLine:
		add(idx(w.Encodings.X), false)
		add(idx(w.Encodings.Color), false)
	case TypePie:
		add(idx(w.Encodings.Angle), true)
	case TypeTable:
		if !w.Query.Disaggregated {
			add(slices.IndexFunc(exprs, Expression.Aggregate), true)
		}
	}
	for i := range exprs {
		add(i, false)
	}
	return keys
}

func runQuery(ctx context.Context, db *sql.DB, b Bound) (*Result, error) {
	if db == nil {
		return nil, errors.New("no database")
	}
	rows, err := db.QueryContext(ctx, b.SQL, b.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols, Rows: [][]any{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(res.Rows) == MaxRows {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = plainValue(v)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// plainValue turns what the driver returns into a value encoding/json
// handles: NaN and infinities (which JSON cannot hold) become nil, bytes
// and invalid UTF-8 become valid strings, times RFC 3339 text.
func plainValue(v any) any {
	switch v := v.(type) {
	case nil, int64, bool:
		return v
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	case string:
		if !utf8.ValidString(v) {
			return strings.ToValidUTF8(v, "\uFFFD")
		}
		return v
	case []byte:
		return strings.ToValidUTF8(string(v), "\uFFFD")
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case int:
		return int64(v)
	}
	return fmt.Sprint(v)
}
