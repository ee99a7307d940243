package dashboard

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// obj and arr keep the test definitions short.
type obj = map[string]any
type arr = []any

func field(name, expr string) obj { return obj{"name": name, "expression": expr} }

func widgetItem(name, typ string, version int, fields arr, enc obj, x, y, w, h int) obj {
	return obj{
		"widget": obj{
			"name": name,
			"queries": arr{obj{"name": "main_query", "query": obj{
				"datasetName": "ds", "fields": fields, "disaggregated": false}}},
			"spec": obj{"version": version, "widgetType": typ, "encodings": enc,
				"frame": obj{"showTitle": true, "title": "Title of " + name}},
		},
		"position": obj{"x": x, "y": y, "width": w, "height": h},
	}
}

// baseDef is a small valid definition; each test case breaks one thing.
// Layout: [0] counter, [1] bar, [2] table.
func baseDef() obj {
	return obj{
		"datasets": arr{obj{"name": "ds", "displayName": "Sales",
			"queryLines": arr{"SELECT * FROM sales WHERE region = __aibi_external_value"}}},
		"pages": arr{obj{"name": "p1", "displayName": "Overview", "layout": arr{
			widgetItem("w_counter", "counter", 2, arr{field("total", "SUM(`amount`)")},
				obj{"value": obj{"fieldName": "total", "displayName": "Revenue"}}, 0, 0, 2, 3),
			widgetItem("w_bar", "bar", 3, arr{field("month", "`month`"), field("sum(amount)", "SUM(`amount`)")},
				obj{"x": obj{"fieldName": "month"}, "y": obj{"fieldName": "sum(amount)"}}, 2, 0, 4, 6),
			widgetItem("w_table", "table", 1, arr{field("country", "`country`"), field("units", "SUM(`units`)")},
				obj{"columns": arr{obj{"fieldName": "country"}, obj{"fieldName": "units"}}}, 0, 6, 6, 5),
		}}},
	}
}

// at walks a path of keys and indexes into a test definition.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(obj)[k]
		case int:
			v = v.(arr)[k]
		}
	}
	return v
}

func layoutItem(d obj, i int) obj  { return at(d, "pages", 0, "layout", i).(obj) }
func widgetOf(d obj, i int) obj    { return at(layoutItem(d, i), "widget").(obj) }
func queryOf(d obj, i int) obj     { return at(widgetOf(d, i), "queries", 0, "query").(obj) }
func encodingsOf(d obj, i int) obj { return at(widgetOf(d, i), "spec", "encodings").(obj) }
func positionOf(d obj, i int) obj  { return at(layoutItem(d, i), "position").(obj) }
func fieldOf(d obj, i, f int) obj  { return at(queryOf(d, i), "fields", f).(obj) }
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseBase(t *testing.T) {
	d, err := Parse("base.lvdash.json", mustJSON(t, baseDef()))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "base.lvdash.json" || len(d.Datasets) != 1 || len(d.Pages) != 1 || len(d.Pages[0].Widgets) != 3 {
		t.Fatalf("parsed %+v", d)
	}
	w := d.Pages[0].Widgets[1]
	if w.Name != "w_bar" || w.Type != TypeBar || w.Version != 3 || w.Title != "Title of w_bar" || !w.ShowTitle ||
		w.Position != (Position{X: 2, Y: 0, Width: 4, Height: 6}) || !w.Supported() {
		t.Errorf("bar widget = %+v", w)
	}
	if w.Query.DatasetName != "ds" || w.Query.Name != "main_query" || len(w.Query.Fields) != 2 ||
		w.Encodings.X.FieldName != "month" || w.Encodings.Y.Label() != "sum(amount)" {
		t.Errorf("bar query/encodings = %+v %+v", w.Query, w.Encodings)
	}
	if c := d.Pages[0].Widgets[2].Encodings.Columns; len(c) != 2 || c[1].FieldName != "units" {
		t.Errorf("table columns = %+v", c)
	}
}

func TestParseBroken(t *testing.T) {
	cases := []struct {
		name     string
		breakIt  func(d obj)
		path     string
		problem  string
		problems int // 0 means 1
	}{
		{"unknown dataset", func(d obj) { queryOf(d, 1)["datasetName"] = "nope" },
			"pages[0].layout[1].widget.queries[0].query.datasetName", `unknown dataset "nope" (the file defines "ds")`, 0},
		{"missing field name", func(d obj) { delete(fieldOf(d, 1, 0), "name") },
			"pages[0].layout[1].widget.queries[0].query.fields[0]", "missing field name", 2}, // and x names a missing field
		{"empty field name", func(d obj) { fieldOf(d, 0, 0)["name"] = " " },
			"pages[0].layout[0].widget.queries[0].query.fields[0].name", "must not be empty", 2},
		{"beyond the grid's right edge", func(d obj) { positionOf(d, 0)["x"] = 5 },
			"pages[0].layout[0].position", "x=5 width=2 is outside the 6-column grid", 0},
		{"negative x", func(d obj) { positionOf(d, 0)["x"] = -1 },
			"pages[0].layout[0].position", "outside the 6-column grid", 0},
		{"zero width", func(d obj) { positionOf(d, 0)["width"] = 0 },
			"pages[0].layout[0].position", "outside the 6-column grid", 0},
		{"too wide", func(d obj) { positionOf(d, 2)["width"] = 7 },
			"pages[0].layout[2].position", "outside the 6-column grid", 0},
		{"negative y", func(d obj) { positionOf(d, 0)["y"] = -2 },
			"pages[0].layout[0].position", "y=-2 height=3 is outside the grid", 0},
		{"too far down", func(d obj) { positionOf(d, 0)["y"] = MaxGridRows },
			"pages[0].layout[0].position", "y+height <= 120", 0},
		{"missing height", func(d obj) { delete(positionOf(d, 0), "height") },
			"pages[0].layout[0].position", "missing field height", 0},
		{"missing position", func(d obj) { delete(layoutItem(d, 0), "position") },
			"pages[0].layout[0].position", "missing object", 0},
		{"width as string", func(d obj) { positionOf(d, 0)["width"] = "2" },
			"pages[0].layout[0].position.width", "want a number, got a string", 0},
		{"fractional x", func(d obj) { positionOf(d, 0)["x"] = 1.5 },
			"pages[0].layout[0].position.x", "want a whole number, got 1.5", 0},
		{"unsupported expression", func(d obj) { fieldOf(d, 1, 1)["expression"] = "SUM(`amount`) * 2" },
			"pages[0].layout[1].widget.queries[0].query.fields[1].expression", "unsupported expression", 0},
		{"unsafe column name", func(d obj) { fieldOf(d, 1, 0)["expression"] = "`month`; DROP TABLE sales" },
			"pages[0].layout[1].widget.queries[0].query.fields[0].expression", "unsupported expression", 0},
		{"encoding names a missing field", func(d obj) { at(encodingsOf(d, 1), "y").(obj)["fieldName"] = "revenue" },
			"pages[0].layout[1].widget.spec.encodings.y.fieldName", `field "revenue" is not in the widget's query (it has "month", "sum(amount)")`, 0},
		{"table column names a missing field", func(d obj) { at(encodingsOf(d, 2), "columns", 1).(obj)["fieldName"] = "x" },
			"pages[0].layout[2].widget.spec.encodings.columns[1].fieldName", `field "x" is not in the widget's query`, 0},
		{"missing encoding", func(d obj) { delete(encodingsOf(d, 1), "x") },
			"pages[0].layout[1].widget.spec.encodings", "a bar widget needs encodings.x", 0},
		{"multi-field channel", func(d obj) { encodingsOf(d, 1)["y"] = obj{"fields": arr{obj{"fieldName": "a"}}} },
			"pages[0].layout[1].widget.spec.encodings.y", "several fields on one channel are not supported", 0},
		{"wrong spec version", func(d obj) { at(widgetOf(d, 1), "spec").(obj)["version"] = 2 },
			"pages[0].layout[1].widget.spec.version", "bar widgets are written with spec version 3, not 2", 0},
		{"counter with chart version", func(d obj) { at(widgetOf(d, 0), "spec").(obj)["version"] = 3 },
			"pages[0].layout[0].widget.spec.version", "spec version 1 or 2, not 3", 0},
		{"duplicate dataset", func(d obj) { d["datasets"] = append(d["datasets"].(arr), d["datasets"].(arr)[0]) },
			"datasets[1].name", `duplicate dataset name "ds" (first at datasets[0])`, 0},
		{"duplicate page", func(d obj) {
			d["pages"] = append(d["pages"].(arr), obj{"name": "p1", "layout": arr{}})
		}, "pages[1].name", `duplicate page name "p1" (first at pages[0])`, 0},
		{"duplicate widget", func(d obj) { widgetOf(d, 2)["name"] = "w_bar" },
			"pages[0].layout[2].widget.name", `duplicate widget name "w_bar" (first at pages[0].layout[1].widget.name)`, 0},
		{"duplicate widget on another page", func(d obj) {
			d["pages"] = append(d["pages"].(arr), obj{"name": "p2", "layout": arr{layoutItem(d, 0)}})
		}, "pages[1].layout[0].widget.name", `duplicate widget name "w_counter"`, 0},
		{"duplicate field", func(d obj) { fieldOf(d, 1, 1)["name"] = "month" },
			"pages[0].layout[1].widget.queries[0].query.fields[1].name", `duplicate field name "month" (first at fields[0])`, 2}, // and y is gone
		{"aggregate in disaggregated query", func(d obj) { queryOf(d, 1)["disaggregated"] = true },
			"pages[0].layout[1].widget.queries[0].query.fields[1].expression", "aggregate SUM(`amount`) in a disaggregated query", 0},
		{"two queries", func(d obj) {
			w := widgetOf(d, 1)
			w["queries"] = append(w["queries"].(arr), w["queries"].(arr)[0])
		}, "pages[0].layout[1].widget.queries", "a bar widget takes exactly one query, found 2", 0},
		{"no fields", func(d obj) { queryOf(d, 0)["fields"] = arr{} },
			"pages[0].layout[0].widget.queries[0].query.fields", "the query has no fields", 2},
		{"missing dataset SQL", func(d obj) { delete(at(d, "datasets", 0).(obj), "queryLines") },
			"datasets[0].queryLines", "missing field queryLines", 0},
		{"dataset SQL not a query", func(d obj) { at(d, "datasets", 0).(obj)["queryLines"] = arr{"DELETE FROM sales"} },
			"datasets[0].queryLines", "must be a single SELECT", 0},
		{"dataset SQL with a parameter", func(d obj) { at(d, "datasets", 0).(obj)["queryLines"] = arr{"SELECT * FROM t WHERE a = ?"} },
			"datasets[0].queryLines", `parameter marker "?"`, 0},
		{"dataset SQL unterminated", func(d obj) { at(d, "datasets", 0).(obj)["queryLines"] = arr{"SELECT 'x\n", "FROM t"} },
			"datasets[0].queryLines", "unterminated string literal starting at line 1, column 8 of the SQL", 0},
		{"query line not a string", func(d obj) { at(d, "datasets", 0).(obj)["queryLines"] = arr{"SELECT 1", 2} },
			"datasets[0].queryLines[1]", "want a string, got the number 2", 0},
		{"dataset without name", func(d obj) { delete(at(d, "datasets", 0).(obj), "name") },
			"datasets[0]", "missing field name", 4}, // and three widgets name an unknown dataset
		{"datasets not an array", func(d obj) { d["datasets"] = obj{} },
			"datasets", "want an array, got an object", 4},
		{"no pages", func(d obj) { delete(d, "pages") }, "pages", "missing field pages", 0},
		{"empty pages", func(d obj) { d["pages"] = arr{} }, "pages", "the dashboard has no pages", 0},
		{"page without name", func(d obj) { delete(at(d, "pages", 0).(obj), "name") }, "pages[0]", "missing field name", 0},
		{"widget not an object", func(d obj) { layoutItem(d, 0)["widget"] = "w" },
			"pages[0].layout[0].widget", "want an object, got a string", 0},
		{"widget without name", func(d obj) { delete(widgetOf(d, 0), "name") },
			"pages[0].layout[0].widget", "missing field name", 0},
		{"spec without type", func(d obj) { delete(at(widgetOf(d, 0), "spec").(obj), "widgetType") },
			"pages[0].layout[0].widget.spec", "missing field widgetType", 0},
		{"disaggregated not a boolean", func(d obj) { queryOf(d, 0)["disaggregated"] = "no" },
			"pages[0].layout[0].widget.queries[0].query.disaggregated", "want true or false, got a string", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := baseDef()
			c.breakIt(d)
			_, err := Parse("broken.lvdash.json", mustJSON(t, d))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			prefix := "broken.lvdash.json: " + c.path + ": "
			if !slices.ContainsFunc(strings.Split(err.Error(), "\n"), func(l string) bool {
				return strings.HasPrefix(l, prefix) && strings.Contains(l, c.problem)
			}) {
				t.Errorf("error:\n%v\nwant a line starting %q containing %q", err, prefix, c.problem)
			}
			if n := max(c.problems, 1); len(pe.Problems) != n {
				t.Errorf("%d problems, want %d:\n%v", len(pe.Problems), n, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "broken.lvdash.json: ") {
					t.Errorf("line %q does not name the file", line)
				}
			}
		})
	}
}

func TestParseCollectsEveryProblem(t *testing.T) {
	d := baseDef()
	queryOf(d, 0)["datasetName"] = "missing"
	positionOf(d, 1)["x"] = 6
	fieldOf(d, 2, 0)["expression"] = "UPPER(`country`)"
	widgetOf(d, 2)["name"] = "w_counter"
	_, err := Parse("many.json", mustJSON(t, d))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"many.json: pages[0].layout[0].widget.queries[0].query.datasetName: unknown dataset \"missing\"",
		"many.json: pages[0].layout[1].position: x=6 width=4 is outside the 6-column grid",
		"many.json: pages[0].layout[2].widget.queries[0].query.fields[0].expression: unsupported function UPPER",
		"many.json: pages[0].layout[2].widget.name: duplicate widget name \"w_counter\"",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
}

func TestParseBadJSON(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"syntax", "{\n  \"pages\": [\n    {\"name\": \"p1\",}\n  ]\n}", "bad.json: line 3, column 19: invalid JSON: invalid character '}'"},
		{"truncated", "{\"pages\": [", "bad.json: line 1, column 12: invalid JSON: unexpected end of JSON input"},
		{"empty", "", "bad.json: line 1, column 1: invalid JSON: unexpected end of JSON input"},
		{"trailing data", "{} {}", "bad.json: line 1, column 4: invalid JSON: unexpected data after the top-level object"},
		{"not an object", "[1, 2]", "bad.json: (top level): want an object, got an array"},
		{"null", "null", "bad.json: (top level): want an object, got null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.json", []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseOverlapIsFine(t *testing.T) {
	d := baseDef()
	positionOf(d, 1)["x"], positionOf(d, 1)["y"] = 0, 0 // on top of the counter
	if _, err := Parse("overlap.json", mustJSON(t, d)); err != nil {
		t.Fatal(err)
	}
}

// Real exports carry many fields this package does not read, filter
// widgets whose expressions are outside the grammar, text boxes without a
// spec and a global-filters page; all of that must parse.
func TestParseToleratesRealFiles(t *testing.T) {
	const real = `{
  "datasets": [{"name": "3f1a", "displayName": "Sales", "queryLines": ["SELECT\n", "  *\n", "FROM sales\n", "WHERE region = __aibi_external_value"],
    "parameters": [], "catalog": "main", "schema": "demo"}],
  "pages": [
    {"name": "a1", "displayName": "Overview", "pageType": "PAGE_TYPE_CANVAS", "layout": [
      {"widget": {"name": "txt", "multilineTextboxSpec": {"lines": ["# Sales\n"]}}, "position": {"x": 0, "y": 0, "width": 6, "height": 1}},
      {"widget": {"name": "flt", "queries": [{"name": "q", "query": {"datasetName": "3f1a",
          "fields": [{"name": "country", "expression": "` + "`country`" + `"}, {"name": "country_associativity", "expression": "COUNT_IF(` + "`associative_filter_predicate_group`" + `)"}],
          "disaggregated": false}}, {"name": "q2", "query": {"datasetName": "elsewhere"}}],
        "spec": {"version": 2, "widgetType": "filter-single-select", "encodings": {"fields": [{"fieldName": "country"}]},
          "frame": {"showTitle": true, "title": "Country"}}},
       "position": {"x": 0, "y": 1, "width": 2, "height": 2}},
      {"widget": {"name": "cnt", "queries": [{"name": "main_query", "query": {"datasetName": "3f1a",
          "fields": [{"name": "count(*)", "expression": "COUNT(` + "`*`" + `)"}], "disaggregated": false}}],
        "spec": {"version": 2, "widgetType": "counter", "encodings": {"value": {"fieldName": "count(*)", "rowNumber": 1, "style": {"bold": true}}},
          "frame": {"showTitle": false, "showDescription": false}, "extra": {"x": 1}}},
       "position": {"x": 2, "y": 1, "width": 2, "height": 2}, "unknown": true}
    ]},
    {"name": "gf", "displayName": "Global filters", "pageType": "PAGE_TYPE_GLOBAL_FILTERS", "layout": [
      {"widget": {"name": "gfw", "spec": {"widgetType": "filter-multi-select"}}, "position": {"x": 0, "y": 0, "width": 1, "height": 1}}]}
  ],
  "uiSettings": {"theme": {"widgetHeaderAlignment": "ALIGNMENT_UNSPECIFIED"}}
}`
	d, err := Parse("real.lvdash.json", []byte(real))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pages) != 1 {
		t.Fatalf("%d pages, want the canvas page only", len(d.Pages))
	}
	ws := d.Pages[0].Widgets
	if len(ws) != 3 || ws[0].Type != "text" || ws[0].Supported() || ws[1].Type != "filter-single-select" || ws[1].Supported() ||
		ws[1].Query != nil || ws[1].Title != "Country" || !ws[2].Supported() || ws[2].ShowTitle {
		t.Fatalf("widgets = %+v", ws)
	}
	if got, want := d.Datasets[0].SQL, "SELECT\n  *\nFROM sales\nWHERE region = __aibi_external_value"; got != want {
		t.Errorf("SQL = %q, want %q", got, want)
	}
}

func TestQueryLinesJoin(t *testing.T) {
	d := baseDef()
	at(d, "datasets", 0).(obj)["queryLines"] = arr{"SELECT *", "FROM sales -- every row", "WHERE region = __aibi_external_value;"}
	def, err := Parse("j.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := def.Datasets[0].SQL, "SELECT *\nFROM sales -- every row\nWHERE region = __aibi_external_value"; got != want {
		t.Errorf("SQL = %q, want %q", got, want)
	}
	// The older single-string form.
	delete(at(d, "datasets", 0).(obj), "queryLines")
	at(d, "datasets", 0).(obj)["query"] = "SELECT 1 AS x"
	if def, err = Parse("q.json", mustJSON(t, d)); err != nil || def.Datasets[0].SQL != "SELECT 1 AS x" {
		t.Errorf("query string form: %v %+v", err, def)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.lvdash.json")
	if err := os.WriteFile(good, SampleFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != good || len(d.Pages) != 2 {
		t.Errorf("loaded %q with %d pages", d.Name, len(d.Pages))
	}

	bad := filepath.Join(dir, "bad.lvdash.json")
	if err := os.WriteFile(bad, []byte(`{"pages": [{"name": "p", "layout": [{"widget": {"name": "w"}, "position": {"x": 9, "y": 0, "width": 1, "height": 1}}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad+": pages[0].layout[0].position: x=9 width=1 is outside the 6-column grid") {
		t.Errorf("err = %v", err)
	}

	_, err = LoadFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

func TestLookups(t *testing.T) {
	d := Sample()
	if p, ok := d.Page(""); !ok || p.Name != "overview" {
		t.Errorf("Page(\"\") = %v, %v; want the first page", p, ok)
	}
	if _, ok := d.Page("nope"); ok {
		t.Error("Page(nope) found something")
	}
	if w, ok := d.Widget("revenue_by_product"); !ok || w.Type != TypePie {
		t.Errorf("Widget = %+v, %v", w, ok)
	}
	if _, ok := d.Dataset("nope"); ok {
		t.Error("Dataset(nope) found something")
	}
}
