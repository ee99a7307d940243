package dashboard

import (
	"context"
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// node is an element of rendered markup. RenderPage's output is also
// well-formed XML (every element closed, numeric entities only), so tests
// walk it with encoding/xml instead of string matching.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     string // all text inside, concatenated
}

func parseMarkup(t *testing.T, h template.HTML) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader("<root>" + string(h) + "</root>"))
	dec.Strict = true
	root := &node{name: "root"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the markup is not well formed: %v\n%s", err, h)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			for _, n := range stack {
				n.text += string(tok)
			}
		}
	}
	return root
}

// find returns every element below n (n included) that matches.
func (n *node) find(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.find(match)...)
	}
	return out
}

func (n *node) all(name string) []*node {
	return n.find(func(m *node) bool { return m.name == name })
}

func (n *node) widget(t *testing.T, name string) *node {
	t.Helper()
	ws := n.find(func(m *node) bool { return m.attr["data-widget"] == name })
	if len(ws) != 1 {
		t.Fatalf("%d widgets named %q", len(ws), name)
	}
	return ws[0]
}

func (n *node) withClass(class string) []*node {
	return n.find(func(m *node) bool { return strings.Contains(" "+m.attr["class"]+" ", " "+class+" ") })
}

func renderSample(t *testing.T, page, region string) (*node, template.HTML) {
	t.Helper()
	db := openSample(t)
	h, err := Sample().Render(context.Background(), db, page, region)
	if err != nil {
		t.Fatal(err)
	}
	return parseMarkup(t, h), h
}

// checkNoActiveContent looks for anything that could run or fetch: script,
// style or embedding elements, event-handler or style attributes, URLs.
func checkNoActiveContent(t *testing.T, h template.HTML) {
	t.Helper()
	for _, n := range parseMarkup(t, h).find(func(*node) bool { return true }) {
		switch n.name {
		case "script", "style", "img", "iframe", "object", "embed", "link", "image", "use", "foreignObject", "a":
			t.Errorf("rendered markup has a <%s> element", n.name)
		}
		for k, v := range n.attr {
			if strings.HasPrefix(strings.ToLower(k), "on") || k == "style" || k == "href" || k == "src" ||
				(strings.Contains(v, "://") && v != "http://www.w3.org/2000/svg") {
				t.Errorf("<%s> has attribute %s=%q", n.name, k, v)
			}
		}
	}
}

// The sample's both pages, for two viewers: same layout, different numbers.
func TestRenderSampleTwoRegions(t *testing.T) {
	def := Sample()
	for _, pg := range def.Pages {
		t.Run(pg.Name, func(t *testing.T) {
			emea, eh := renderSample(t, pg.Name, "EMEA")
			apac, ah := renderSample(t, pg.Name, "APAC")
			checkNoActiveContent(t, eh)
			checkNoActiveContent(t, ah)
			for _, root := range []*node{emea, apac} {
				sec := root.all("section")
				if len(sec) != 1 || sec[0].attr["data-page"] != pg.Name {
					t.Fatalf("sections %v", sec)
				}
				ws := root.find(func(m *node) bool { return m.attr["data-widget"] != "" })
				if len(ws) != len(pg.Widgets) {
					t.Fatalf("%d widgets rendered, want %d", len(ws), len(pg.Widgets))
				}
				for i, w := range ws {
					want := pg.Widgets[i]
					if w.attr["data-state"] != "ok" || w.attr["data-widget-type"] != want.Type {
						t.Errorf("widget %s: state %q type %q", w.attr["data-widget"], w.attr["data-state"], w.attr["data-widget-type"])
					}
					place := "dash-x" + strconv.Itoa(want.Position.X) + " dash-w" + strconv.Itoa(want.Position.Width) +
						" dash-y" + strconv.Itoa(want.Position.Y) + " dash-h" + strconv.Itoa(want.Position.Height)
					if !strings.Contains(w.attr["class"], place) {
						t.Errorf("widget %s: class %q lacks %q", want.Name, w.attr["class"], place)
					}
				}
			}
			if eh == ah {
				t.Fatal("EMEA and APAC see the same page")
			}
			// Each widget's numbers differ between the regions.
			for _, w := range pg.Widgets {
				e, a := numbersOf(emea.widget(t, w.Name)), numbersOf(apac.widget(t, w.Name))
				if len(e) == 0 || e == a {
					t.Errorf("widget %s: EMEA %q, APAC %q", w.Name, clipText(e, 80), clipText(a, 80))
				}
			}
		})
	}
}

// numbersOf collects the data-value attributes of a widget.
func numbersOf(n *node) string {
	var b strings.Builder
	for _, m := range n.find(func(m *node) bool { return m.attr["data-value"] != "" }) {
		b.WriteString(m.attr["data-value"] + " ")
	}
	return b.String()
}

func TestRenderSampleContent(t *testing.T) {
	root, _ := renderSample(t, "overview", "EMEA")

	counter := root.widget(t, "total_revenue")
	value := counter.withClass("dash-counter-value")[0]
	raw, err := strconv.ParseFloat(value.attr["data-value"], 64)
	if err != nil || raw < 1e6 {
		t.Fatalf("counter data-value %q", value.attr["data-value"])
	}
	if value.text != formatNumber(raw, 0) || !strings.Contains(value.text, ",") {
		t.Errorf("counter text %q for %v", value.text, raw)
	}
	if got := counter.withClass("dash-counter-label")[0].text; got != "Total revenue (USD)" {
		t.Errorf("counter label %q", got)
	}
	if got := counter.all("h2")[0].text; got != "Revenue 2025" {
		t.Errorf("title %q", got)
	}

	table := root.widget(t, "top_countries")
	var head []string
	for _, th := range table.all("th") {
		head = append(head, th.text)
	}
	if strings.Join(head, "|") != "Country|Product|Revenue (USD)|Units|Orders" {
		t.Errorf("table head %q", head)
	}
	rows := table.all("tr")[1:]
	if len(rows) != 4*5 || rows[0].attr["data-row"] != "0" {
		t.Fatalf("%d rows", len(rows))
	}
	cells := rows[0].all("td")
	if cells[0].attr["class"] != "" || cells[2].attr["class"] != "num" || !strings.Contains(cells[2].text, ",") || !strings.Contains(cells[2].text, ".") {
		t.Errorf("first row cells %q %q %q", cells[0].text, cells[2].text, cells[2].attr["class"])
	}

	bars := root.widget(t, "revenue_by_month").withClass("dash-bar")
	if len(bars) != 12 || bars[0].attr["data-x"] != "2025-01" || bars[11].attr["data-x"] != "2025-12" {
		t.Errorf("%d bars", len(bars))
	}
	for _, b := range bars {
		if h, _ := strconv.ParseFloat(b.attr["height"], 64); h <= 0 || b.all("title")[0].text == "" {
			t.Errorf("bar %v", b.attr)
		}
	}
	chart := root.widget(t, "revenue_by_month").all("svg")[0]
	var texts []string
	for _, tx := range chart.all("text") {
		texts = append(texts, tx.text)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"|0|", "K|", "Month", "Revenue (USD)", "2025-06"} {
		if !strings.Contains("|"+all+"|", want) {
			t.Errorf("bar chart texts %q lack %q", all, want)
		}
	}

	line := root.widget(t, "units_by_month")
	if n := len(line.all("polyline")); n != 5 {
		t.Errorf("%d lines, want one per product", n)
	}
	if n := len(line.withClass("dash-dot")); n != 60 {
		t.Errorf("%d points, want 12 months x 5 products", n)
	}
	if n := len(line.withClass("dash-legend")); n != 5 {
		t.Errorf("%d legend entries", n)
	}

	prod, _ := renderSample(t, "products", "EMEA")
	pie := prod.widget(t, "revenue_by_product")
	slices := pie.withClass("dash-slice")
	if len(slices) != 5 || len(pie.withClass("dash-legend")) != 5 {
		t.Fatalf("%d slices", len(slices))
	}
	if !strings.HasPrefix(pie.withClass("dash-legend")[0].text, "Laptop · ") {
		t.Errorf("largest slice first in the legend: %q", pie.withClass("dash-legend")[0].text)
	}
	stacked := prod.widget(t, "revenue_by_country").withClass("dash-bar")
	if len(stacked) != 4*5 {
		t.Errorf("%d stacked segments, want 4 countries x 5 products", len(stacked))
	}
}

func TestRenderStates(t *testing.T) {
	db := openSample(t)
	d := baseDef()
	layout := at(d, "pages", 0).(obj)
	layout["layout"] = append(layout["layout"].(arr),
		obj{"widget": obj{"name": "flt", "spec": obj{"version": 2, "widgetType": "filter-single-select",
			"frame": obj{"showTitle": true, "title": "Country"}}},
			"position": obj{"x": 0, "y": 11, "width": 2, "height": 2}},
		obj{"widget": obj{"name": "txt", "multilineTextboxSpec": obj{"lines": arr{"# hi"}}},
			"position": obj{"x": 2, "y": 11, "width": 2, "height": 2}})
	def, err := Parse("states.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}

	// A viewer whose value matches no row: every query widget says so.
	h, err := def.Render(context.Background(), db, "p1", "NOWHERE")
	if err != nil {
		t.Fatal(err)
	}
	root := parseMarkup(t, h)
	for _, name := range []string{"w_counter", "w_bar", "w_table"} {
		w := root.widget(t, name)
		if w.attr["data-state"] != "empty" || !strings.Contains(w.text, MsgNoRows) {
			t.Errorf("%s: state %q text %q", name, w.attr["data-state"], w.text)
		}
	}
	for name, typ := range map[string]string{"flt": "filter-single-select", "txt": "text"} {
		w := root.widget(t, name)
		if w.attr["data-state"] != "unsupported" || !strings.Contains(w.text, "Unsupported widget: "+typ) {
			t.Errorf("%s: state %q text %q", name, w.attr["data-state"], w.text)
		}
	}
	if got := root.widget(t, "flt").all("h2"); len(got) != 1 || got[0].text != "Country" {
		t.Errorf("placeholder title %v", got)
	}

	// A failed query and a missing result are errors in their tile only.
	res, err := def.RunPage(context.Background(), db, "p1", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	res.Widgets[0].Error = "boom <b>"
	res.Widgets = res.Widgets[:2] // drop the table's result
	h, err = RenderPage(def, "p1", res)
	if err != nil {
		t.Fatal(err)
	}
	root = parseMarkup(t, h)
	if w := root.widget(t, "w_counter"); w.attr["data-state"] != "error" || !strings.Contains(w.text, MsgQueryFailed+"boom <b>") {
		t.Errorf("counter: %q %q", w.attr["data-state"], w.text)
	}
	if w := root.widget(t, "w_table"); w.attr["data-state"] != "error" {
		t.Errorf("table without result: %q", w.attr["data-state"])
	}
	if w := root.widget(t, "w_bar"); w.attr["data-state"] != "ok" {
		t.Errorf("bar: %q", w.attr["data-state"])
	}

	if _, err := RenderPage(def, "nope", res); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown page: %v", err)
	}
	if _, err := RenderPage(def, "p1", nil); err == nil {
		t.Error("nil results rendered")
	}
	res.Page = "other"
	if _, err := RenderPage(def, "p1", res); err == nil {
		t.Error("results of another page rendered")
	}
}

// Values, titles and names from data or the file must come out as text.
func TestRenderEscapes(t *testing.T) {
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'"`
	db := openSample(t)
	d := baseDef()
	at(d, "datasets", 0).(obj)["queryLines"] = arr{
		"SELECT '" + strings.ReplaceAll(evil, "'", "''") + "' || month AS month, amount, units,\n",
		"'" + strings.ReplaceAll(evil, "'", "''") + "' AS country FROM sales WHERE region = __aibi_external_value"}
	at(widgetOf(d, 1), "spec", "frame").(obj)["title"] = evil
	at(encodingsOf(d, 1), "x").(obj)["displayName"] = evil
	at(encodingsOf(d, 2), "columns", 0).(obj)["displayName"] = evil
	widgetOf(d, 0)["name"] = evil
	layout := at(d, "pages", 0).(obj)
	layout["layout"] = append(layout["layout"].(arr),
		widgetItem("pie", "pie", 3, arr{field("country", "`country`"), field("s", "SUM(`amount`)")},
			obj{"angle": obj{"fieldName": "s"}, "color": obj{"fieldName": "country", "displayName": evil}}, 0, 11, 3, 6),
		obj{"widget": obj{"name": "odd", "spec": obj{"widgetType": evil}}, "position": obj{"x": 3, "y": 11, "width": 3, "height": 2}})
	def, err := Parse("evil.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	h, err := def.Render(context.Background(), db, "p1", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	checkNoActiveContent(t, h)
	root := parseMarkup(t, h)
	if w := root.widget(t, evil); w.attr["data-state"] != "ok" {
		t.Errorf("counter named evil: %v", w.attr)
	}
	bar := root.widget(t, "w_bar")
	if bar.all("h2")[0].text != evil || !strings.HasPrefix(bar.withClass("dash-bar")[0].attr["data-x"], evil) {
		t.Errorf("bar title %q", bar.all("h2")[0].text)
	}
	table := root.widget(t, "w_table")
	if table.all("th")[0].text != evil || table.all("td")[0].text != evil {
		t.Errorf("table %q %q", table.all("th")[0].text, table.all("td")[0].text)
	}
	if s := root.widget(t, "pie").withClass("dash-slice"); len(s) != 1 || s[0].name != "circle" || s[0].attr["data-label"] != evil {
		t.Errorf("pie slices %v", s)
	}
	if w := root.widget(t, "odd"); !strings.Contains(w.text, MsgUnsupported+evil) || strings.ContainsAny(w.attr["class"], `<>"'`) {
		t.Errorf("odd widget %q class %q", w.text, w.attr["class"])
	}
}

// Charts must draw odd data without panicking or writing NaN.
func TestChartsOddData(t *testing.T) {
	bar := &Widget{Name: "b", Type: TypeBar, Version: 3, Position: Position{Width: 1, Height: 2},
		Query:     &Query{Fields: []Field{{Name: "x"}, {Name: "y"}, {Name: "c"}}},
		Encodings: Encodings{X: &Encoding{FieldName: "x"}, Y: &Encoding{FieldName: "y"}}}
	line := *bar
	line.Type = TypeLine
	colored := *bar
	colored.Encodings.Color = &Encoding{FieldName: "c"}
	pie := &Widget{Name: "p", Type: TypePie, Version: 3, Position: Position{Width: 1, Height: 1},
		Encodings: Encodings{Angle: &Encoding{FieldName: "y"}, Color: &Encoding{FieldName: "x"}}}
	many := [][]any{}
	for i := range 40 {
		many = append(many, []any{"category number " + strconv.Itoa(i), float64(i), "s" + strconv.Itoa(i%9)})
	}
	datasets := map[string][][]any{
		"one":       {{"a", int64(5), "s"}},
		"negative":  {{"a", -5.5, "s"}, {"b", 3.0, "t"}, {"a", -1.0, "t"}},
		"zeros":     {{"a", 0.0, "s"}, {"b", int64(0), "s"}},
		"nulls":     {{nil, nil, nil}, {"b", 2.0, nil}},
		"huge":      {{"a", math.MaxFloat64, "s"}, {"b", -math.MaxFloat64, "s"}},
		"tiny":      {{"a", 1e-300, "s"}, {"b", 2e-300, "s"}},
		"strings":   {{"a", "12.5", "s"}, {"b", "not a number", "s"}},
		"many":      many,
		"unicode":   {{"日本語のラベル😀", 1.0, "ß"}, {"\xff\xfe", 2.0, "x"}},
		"all nulls": {{"a", nil, "s"}},
	}
	for name, rows := range datasets {
		r := &Result{Columns: []string{"x", "y", "c"}, Rows: rows}
		for _, w := range []*Widget{bar, &line, &colored, pie} {
			var h template.HTML
			var err error
			if w.Type == TypePie {
				h, err = pieChart(w, r, "t")
			} else {
				h, err = xyChart(w, r, "t")
			}
			if err != nil {
				if !errors.Is(err, errNoRows) {
					t.Errorf("%s/%s: %v", name, w.Type, err)
				}
				continue
			}
			if strings.Contains(string(h), "NaN") || strings.Contains(string(h), "Inf") {
				t.Errorf("%s/%s: NaN or Inf in the SVG", name, w.Type)
			}
			parseMarkup(t, h)
		}
	}
	// More slices than colours: the smallest are summed into Other.
	h, err := pieChart(pie, &Result{Columns: []string{"x", "y", "c"}, Rows: many}, "t")
	if err != nil {
		t.Fatal(err)
	}
	root := parseMarkup(t, h)
	legend := root.withClass("dash-legend")
	if len(legend) != maxSlices || !strings.HasPrefix(legend[len(legend)-1].text, "Other · ") {
		t.Errorf("%d legend entries, last %q", len(legend), legend[len(legend)-1].text)
	}
}

func TestFormatting(t *testing.T) {
	numbers := []struct {
		f    float64
		d    int
		want string
	}{
		{0, 0, "0"}, {999, 0, "999"}, {1000, 0, "1,000"}, {1234567.891, 2, "1,234,567.89"},
		{-1234.6, 0, "-1,235"}, {-0.001, 2, "0.00"}, {100000, 0, "100,000"}, {12, 2, "12.00"},
	}
	for _, c := range numbers {
		if got := formatNumber(c.f, c.d); got != c.want {
			t.Errorf("formatNumber(%v, %d) = %q, want %q", c.f, c.d, got, c.want)
		}
	}
	compact := map[float64]string{0: "0", 950: "950", 1500: "1.5K", 250000: "250K", 1_250_000: "1.25M", 2e9: "2B", -3000: "-3K", 0.126: "0.13"}
	for f, want := range compact {
		if got := formatCompact(f); got != want {
			t.Errorf("formatCompact(%v) = %q, want %q", f, got, want)
		}
	}
	counters := []struct {
		v    any
		want string
	}{{int64(1200), "1,200"}, {2120915.87, "2,120,916"}, {12.5, "12.5"}, {3.0, "3"}, {"text", "text"}}
	for _, c := range counters {
		if got := formatCounter(c.v); got != c.want {
			t.Errorf("formatCounter(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	ticks := []struct {
		lo, hi float64
		n      int
		want   string
	}{
		{0, 410000, 5, "[0 100000 200000 300000 400000 500000]"},
		{0, 198000, 5, "[0 50000 100000 150000 200000]"},
		{-5.5, 3, 4, "[-7.5 -5 -2.5 0 2.5 5]"},
		{0, 0, 4, "[0 0.25 0.5 0.75 1]"},
		{0, 0.3, 3, "[0 0.1 0.2 0.3]"},
	}
	for _, c := range ticks {
		if got := fmtFloats(niceTicks(c.lo, c.hi, c.n)); got != c.want {
			t.Errorf("niceTicks(%v, %v, %d) = %s, want %s", c.lo, c.hi, c.n, got, c.want)
		}
	}
}

func fmtFloats(f []float64) string {
	s := make([]string, len(f))
	for i, v := range f {
		s[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestStylesheet(t *testing.T) {
	css := Stylesheet()
	for _, want := range []string{".dash-grid", "repeat(6, minmax(0, 1fr))", ".dash-x0{grid-column-start:1}", ".dash-x5{", ".dash-w6{grid-column-end:span 6}",
		".dash-y0{grid-row-start:1}", ".dash-y119{", ".dash-h120{grid-row-end:span 120}", ".dash-widget", ".dash-table .num"} {
		if !strings.Contains(css, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	for _, bad := range []string{"url(", "@import", "http"} {
		if strings.Contains(css, bad) {
			t.Errorf("stylesheet refers to an external asset: %q", bad)
		}
	}
	if strings.Count(css, "{") != strings.Count(css, "}") {
		t.Error("unbalanced braces")
	}
}
