package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile external values: each must be a value compared with region, so
// it matches no row, rather than SQL that widens the filter.
var hostileValues = []string{
	"x' OR '1'='1",
	"EMEA' --",
	"EMEA'; DROP TABLE sales; --",
	"' UNION SELECT region, country, month, product, amount, units FROM sales --",
	"__aibi_external_value",
	"EMEA\x00",
	"emea", // values are compared exactly
	"",
}

// defWithDataset is the test base definition with its dataset's SQL replaced.
func defWithDataset(t *testing.T, sqlText string) *Definition {
	t.Helper()
	d := baseDef()
	at(d, "datasets", 0).(obj)["queryLines"] = arr{sqlText}
	def, err := Parse("test.lvdash.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func totalRevenue(t *testing.T, res *Result) float64 {
	t.Helper()
	if len(res.Rows) != 1 {
		t.Fatalf("counter result %+v, want one row", res)
	}
	f, _ := toFloat(res.Rows[0][0])
	return f
}

func TestRunDatasetFiltersByRegion(t *testing.T) {
	db := openSample(t)
	def := Sample()
	ctx := context.Background()
	for _, ds := range def.Datasets {
		if !ds.UsesExternalValue() {
			t.Errorf("sample dataset %s is not filtered by the viewer", ds.Name)
		}
		counts := map[string]int{}
		for _, region := range SampleExternalValues() {
			res, err := def.RunDataset(ctx, db, ds.Name, region)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) == 0 {
				t.Fatalf("%s as %s: no rows", ds.Name, region)
			}
			counts[region] = len(res.Rows)
			if i := indexOf(res.Columns, "region"); i >= 0 {
				for _, row := range res.Rows {
					if row[i] != region {
						t.Fatalf("%s as %s: row of region %v", ds.Name, region, row[i])
					}
				}
			}
		}
		for _, v := range hostileValues {
			res, err := def.RunDataset(ctx, db, ds.Name, v)
			if err != nil {
				t.Fatalf("%s as %q: %v", ds.Name, v, err)
			}
			if len(res.Rows) != 0 {
				t.Errorf("%s as %q: %d rows, want none", ds.Name, v, len(res.Rows))
			}
		}
	}
	// The sales table is intact after all those values.
	if stats := statsByRegion(t, db); len(stats) != 3 {
		t.Errorf("sales table changed: %v", stats)
	}
}

func indexOf(s []string, v string) int {
	for i := range s {
		if s[i] == v {
			return i
		}
	}
	return -1
}

func TestRunWidgetRegionsDiffer(t *testing.T) {
	db := openSample(t)
	def := Sample()
	ctx := context.Background()
	seen := map[float64]string{}
	for _, region := range SampleExternalValues() {
		res, err := def.RunWidget(ctx, db, "total_revenue", region)
		if err != nil {
			t.Fatal(err)
		}
		total := totalRevenue(t, res)
		if total <= 0 {
			t.Fatalf("%s: total %v", region, total)
		}
		if other, dup := seen[total]; dup {
			t.Errorf("%s and %s have the same total %v", region, other, total)
		}
		seen[total] = region
	}
}

func TestRunHostileValuesMatchNothing(t *testing.T) {
	db := openSample(t)
	def := Sample()
	for _, v := range hostileValues {
		res, err := def.RunPage(context.Background(), db, "overview", v)
		if err != nil {
			t.Fatal(err)
		}
		for _, wr := range res.Widgets {
			if wr.Error != "" || len(wr.Rows) != 0 {
				t.Errorf("value %q, widget %s: %d rows, error %q; want no rows", v, wr.Widget, len(wr.Rows), wr.Error)
			}
		}
		b, err := def.WidgetQuery("revenue_by_month", v)
		if err != nil {
			t.Fatal(err)
		}
		if v != "" && strings.Contains(b.SQL, v) {
			t.Errorf("the SQL contains the value %q:\n%s", v, b.SQL)
		}
	}
}

func TestRunLiteralsAndCommentsAreNotBound(t *testing.T) {
	db := openSample(t)
	def := defWithDataset(t, "SELECT '__aibi_external_value' AS lit, \"region\" /* __aibi_external_value */, amount, month, country, units\n"+
		"FROM sales -- __aibi_external_value\n"+
		"WHERE region = __aibi_external_value")
	b, err := BindExternalValue(def.Datasets[0].SQL, "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Args) != 1 || strings.Count(b.SQL, "__aibi_external_value") != 3 {
		t.Fatalf("bound %d args, SQL:\n%s", len(b.Args), b.SQL)
	}
	res, err := def.RunDataset(context.Background(), db, "ds", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 {
		t.Fatal("no rows")
	}
	for _, row := range res.Rows {
		if row[0] != "__aibi_external_value" || row[1] != "EMEA" {
			t.Fatalf("row %v: the literal changed or the filter did not apply", row)
		}
	}
}

func TestRunPlaceholderUsedTwice(t *testing.T) {
	db := openSample(t)
	def := defWithDataset(t, "SELECT region, country, month, amount, units FROM sales WHERE region = __aibi_external_value\n"+
		"UNION ALL\n"+
		"SELECT region, country, month, amount, units FROM sales WHERE region = __aibi_external_value")
	b, err := BindExternalValue(def.Datasets[0].SQL, "APAC")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b.Args, []any{"APAC", "APAC"}) {
		t.Fatalf("args %v, want APAC twice", b.Args)
	}
	once, err := Sample().RunWidget(context.Background(), db, "order_count", "APAC")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := def.RunWidget(context.Background(), db, "w_table", "APAC")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, row := range twice.Rows {
		f, _ := toFloat(row[1])
		sum += f
	}
	orders, _ := toFloat(once.Rows[0][0])
	var units float64
	if err := db.QueryRow("SELECT SUM(units) FROM sales WHERE region = 'APAC'").Scan(&units); err != nil {
		t.Fatal(err)
	}
	if orders == 0 || sum != 2*units {
		t.Errorf("units over both halves = %v, want twice %v", sum, units)
	}
	for _, v := range hostileValues {
		if res, err := def.RunDataset(context.Background(), db, "ds", v); err != nil || len(res.Rows) != 0 {
			t.Errorf("value %q: %v rows, err %v", v, res, err)
		}
	}
}

func TestUnfilteredDatasetSeesEverything(t *testing.T) {
	db := openSample(t)
	def := defWithDataset(t, "SELECT * FROM sales")
	if def.Datasets[0].UsesExternalValue() {
		t.Fatal("UsesExternalValue = true for SQL without the identifier")
	}
	a, err := def.RunWidget(context.Background(), db, "w_counter", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	b, err := def.RunWidget(context.Background(), db, "w_counter", "APAC")
	if err != nil {
		t.Fatal(err)
	}
	if totalRevenue(t, a) != totalRevenue(t, b) {
		t.Error("an unfiltered dataset gave viewers different totals")
	}
}

func TestWidgetQueryShape(t *testing.T) {
	def := Sample()
	cases := []struct {
		widget string
		want   []string
		not    []string
	}{
		{"total_revenue", []string{"SELECT SUM(`amount`) AS f0\nFROM (\n", "\n) AS dataset\nHAVING COUNT(*) > 0\nORDER BY f0\nLIMIT 1001"}, []string{"GROUP BY"}},
		{"revenue_by_month", []string{"SELECT `month` AS f0, SUM(`amount`) AS f1", "GROUP BY `month`\nORDER BY f0, f1\n"}, []string{"HAVING"}},
		{"units_by_month", []string{"GROUP BY `month`, `product`\nORDER BY f0, f1, f2\n"}, nil},
		{"top_countries", []string{"GROUP BY `country`, `product`\nORDER BY f2 DESC, f0, f1, f3, f4\n"}, nil},
		{"revenue_by_product", []string{"ORDER BY f1 DESC, f0\n"}, nil},
		{"product_summary", []string{"COUNT(DISTINCT `country`) AS f4"}, nil},
	}
	for _, c := range cases {
		b, err := def.WidgetQuery(c.widget, "EMEA")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.SQL, w) {
				t.Errorf("%s: SQL lacks %q:\n%s", c.widget, w, b.SQL)
			}
		}
		for _, w := range c.not {
			if strings.Contains(b.SQL, w) {
				t.Errorf("%s: SQL has %q:\n%s", c.widget, w, b.SQL)
			}
		}
		if strings.Contains(b.SQL, "EMEA") || !reflect.DeepEqual(b.Args, []any{"EMEA"}) {
			t.Errorf("%s: value in SQL or args %v", c.widget, b.Args)
		}
	}
	d := baseDef()
	queryOf(d, 2)["disaggregated"] = true
	fieldOf(d, 2, 1)["expression"] = "`units`"
	def2, err := Parse("t.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	b, err := def2.WidgetQuery("w_table", "x")
	if err != nil || strings.Contains(b.SQL, "GROUP BY") || strings.Contains(b.SQL, "HAVING") || !strings.Contains(b.SQL, "ORDER BY f0, f1") {
		t.Errorf("disaggregated table: %v\n%s", err, b.SQL)
	}
	if _, err := def.WidgetQuery("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown widget: %v", err)
	}
}

func TestRunPage(t *testing.T) {
	db := openSample(t)
	def := Sample()
	res, err := def.RunPage(context.Background(), db, "", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	if res.Page != "overview" || len(res.Widgets) != len(def.Pages[0].Widgets) {
		t.Fatalf("page %q with %d widgets", res.Page, len(res.Widgets))
	}
	months, ok := res.Widget("revenue_by_month")
	if !ok || len(months.Rows) != 12 || months.Rows[0][0] != "2025-01" || months.Rows[11][0] != "2025-12" ||
		!reflect.DeepEqual(months.Columns, []string{"month", "sum(amount)"}) {
		t.Errorf("revenue_by_month = %+v", months)
	}
	top, _ := res.Widget("top_countries")
	for i := 1; i < len(top.Rows); i++ {
		a, _ := toFloat(top.Rows[i-1][2])
		b, _ := toFloat(top.Rows[i][2])
		if a < b {
			t.Fatalf("top_countries not sorted by revenue: %v then %v", a, b)
		}
	}
	// Results are plain JSON.
	if _, err := json.Marshal(res); err != nil {
		t.Error(err)
	}
	for _, w := range res.Widgets {
		for _, row := range w.Rows {
			for _, v := range row {
				switch v.(type) {
				case nil, int64, float64, string, bool:
				default:
					t.Errorf("%s: value %v of type %T", w.Widget, v, v)
				}
			}
		}
	}
	if _, err := def.RunPage(context.Background(), db, "nope", "EMEA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown page: %v", err)
	}
	if _, err := def.RunDataset(context.Background(), db, "nope", "EMEA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := def.RunWidget(context.Background(), db, "nope", "EMEA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown widget: %v", err)
	}
}

func TestRunPageWidgetErrorsStayInTheirWidget(t *testing.T) {
	db := openSample(t)
	d := baseDef()
	fieldOf(d, 0, 0)["expression"] = "SUM(`no_such_column`)"
	layout := at(d, "pages", 0).(obj)
	layout["layout"] = append(layout["layout"].(arr), obj{
		"widget":   obj{"name": "flt", "spec": obj{"version": 2, "widgetType": "filter-single-select"}},
		"position": obj{"x": 0, "y": 11, "width": 2, "height": 1}})
	def, err := Parse("t.json", mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := def.RunPage(context.Background(), db, "p1", "EMEA")
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := res.Widget("w_counter"); !strings.Contains(w.Error, "no such column: no_such_column") {
		t.Errorf("counter error %q", w.Error)
	}
	if w, _ := res.Widget("w_bar"); w.Error != "" || len(w.Rows) != 12 {
		t.Errorf("bar: %+v", w)
	}
	if w, _ := res.Widget("flt"); w.Error != "" || w.Columns != nil {
		t.Errorf("unsupported widget: %+v", w)
	}
}

func TestRunTruncates(t *testing.T) {
	db := openSample(t)
	def := defWithDataset(t, "WITH RECURSIVE c(country, units) AS (SELECT 1, 1 UNION ALL SELECT country + 1, 1 FROM c WHERE country < 1500) SELECT * FROM c")
	res, err := def.RunDataset(context.Background(), db, "ds", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != MaxRows || !res.Truncated {
		t.Errorf("dataset: %d rows, truncated %v", len(res.Rows), res.Truncated)
	}
	w, err := def.RunWidget(context.Background(), db, "w_table", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Rows) != MaxRows || !w.Truncated {
		t.Errorf("widget: %d rows, truncated %v", len(w.Rows), w.Truncated)
	}
}

func TestRunHonoursDeadline(t *testing.T) {
	db := openSample(t)
	// Never ends: the recursion has no bound and the filter drops every row.
	def := defWithDataset(t, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS amount FROM c WHERE x < 0")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := def.RunDataset(ctx, db, "ds", "EMEA")
	if err == nil {
		t.Fatal("an endless query returned")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the query ran %v past a 100ms deadline", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := def.RunPage(ctx2, db, "p1", "EMEA"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RunPage past its deadline: %v, want context.DeadlineExceeded", err)
	}
	// The pool is still usable afterwards.
	if _, err := Sample().RunWidget(context.Background(), db, "total_revenue", "EMEA"); err != nil {
		t.Errorf("after a cancelled query: %v", err)
	}
}

func TestRunConcurrently(t *testing.T) {
	db := openSample(t)
	def := Sample()
	want := map[string]*PageResult{}
	for _, r := range SampleExternalValues() {
		res, err := def.RunPage(context.Background(), db, "products", r)
		if err != nil {
			t.Fatal(err)
		}
		want[r] = res
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := SampleExternalValues()[i%3]
			res, err := def.RunPage(context.Background(), db, "products", r)
			if err != nil {
				t.Error(err)
				return
			}
			if !reflect.DeepEqual(res, want[r]) {
				t.Errorf("%s: concurrent result differs", r)
			}
		}()
	}
	wg.Wait()
}

func TestPlainValue(t *testing.T) {
	cases := []struct{ in, want any }{
		{nil, nil}, {int64(3), int64(3)}, {1.5, 1.5}, {"a", "a"}, {true, true},
		{[]byte("b"), "b"}, {"\xff", "\uFFFD"}, {3, int64(3)},
		{time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "2025-01-02T03:04:05Z"},
	}
	for _, c := range cases {
		if got := plainValue(c.in); got != c.want {
			t.Errorf("plainValue(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}
