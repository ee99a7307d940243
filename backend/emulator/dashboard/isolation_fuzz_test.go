package dashboard

import (
	"context"
	"database/sql"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// isolation is the bundled dashboard, its sample data and every page as
// each region sees it, plus as a viewer whose value matches no row sees it.
var isolation = sync.OnceValues(func() (*isolationFixture, error) {
	db, err := OpenSampleDB(context.Background())
	if err != nil {
		return nil, err
	}
	fx := &isolationFixture{def: Sample(), db: db, pages: map[string]map[string]*PageResult{}}
	for _, v := range append(SampleExternalValues(), noRegion) {
		fx.pages[v] = map[string]*PageResult{}
		for _, p := range fx.def.Pages {
			r, err := fx.def.RunPage(context.Background(), db, p.Name, v)
			if err != nil {
				return nil, err
			}
			fx.pages[v][p.Name] = r
		}
	}
	return fx, nil
})

const noRegion = "\x01no such region\x01"

type isolationFixture struct {
	def   *Definition
	db    *sql.DB
	pages map[string]map[string]*PageResult // by value, then page
}

// FuzzRowsStayWithTheirViewer: whatever external_value a token carries,
// quotes, comments, wildcards, another region's name in other case or with
// padding, the rows are that value's own: the raw dataset returns only
// rows whose region is exactly the value, and every page renders exactly
// what a region sees when the value is that region, and exactly what a
// viewer matching no row sees otherwise. No value reaches a foreign row.
func FuzzRowsStayWithTheirViewer(f *testing.F) {
	for _, v := range []string{
		"EMEA", "APAC", "AMER", "emea", "EMEA ", " EMEA", "EMEA\x00", "EMEA' OR '1'='1", "x' OR '1'='1", "' OR 1=1 --",
		"EMEA' --", "EMEA\" OR 1=1 --", "%", "_", "E%", "EMEA;DROP TABLE sales", "') UNION SELECT * FROM sales --",
		"?", "?1", ":v", "@v", "$v", "__aibi_external_value", "EMEA' UNION SELECT region, country, month, product, amount, units FROM sales WHERE '1'='1",
		"", "\xff", "ＥＭＥＡ",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		fx, err := isolation()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := fx.def.RunDataset(ctx, fx.db, "sales_region", value)
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(res.Columns, "region")
		if col < 0 {
			t.Fatalf("sales_region has no region column: %v", res.Columns)
		}
		own := slices.Contains(SampleExternalValues(), value)
		if !own && len(res.Rows) > 0 {
			t.Fatalf("external_value %q, which is no region, sees %d rows, e.g. %v", value, len(res.Rows), res.Rows[0])
		}
		for _, row := range res.Rows {
			if row[col] != value {
				t.Fatalf("external_value %q sees a row of region %v", value, row[col])
			}
		}
		want := value
		if !own {
			want = noRegion
		}
		for _, p := range fx.def.Pages {
			got, err := fx.def.RunPage(ctx, fx.db, p.Name, value)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, fx.pages[want][p.Name]) {
				t.Fatalf("page %s for external_value %q differs from what %q sees", p.Name, value, want)
			}
		}
	})
}
