package dashboard

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzParse: any input either parses into a definition whose every
// supported widget can build its query and whose pages render, or is
// refused with problems that each name the file. Never a panic.
func FuzzParse(f *testing.F) {
	f.Add(SampleFile())
	base, _ := json.Marshal(baseDef())
	f.Add(base)
	for _, s := range []string{
		"", "{}", "null", "[]", `{"pages": []}`, `{"pages": [{"name": "p"}]}`,
		`{"datasets": [{"name": "d", "queryLines": ["SELECT '"]}], "pages": [{"name": "p", "layout": [{}]}]}`,
		`{"pages": [{"name": "p", "layout": [{"widget": {"name": "w", "spec": {"widgetType": "pie", "version": 3, "encodings": {}}}, "position": {"x": 1e400, "y": -0, "width": 1.0, "height": "2"}}]}]}`,
		`{"datasets": [{"name": "d", "queryLines": ["SELECT 1 AS a"]}], "pages": [{"name": "p", "layout": [{"widget": {"name": "w", "queries": [{"query": {"datasetName": "d", "fields": [{"name": "a", "expression": "COUNT(DISTINCT ` + "`a`" + `)"}]}}], "spec": {"widgetType": "table", "version": 1, "encodings": {}}}, "position": {"x": 0, "y": 0, "width": 6, "height": 119}}]}]}`,
		`{"pages": [{"name": "p", "layout": [{"widget": {"name": "w", "multilineTextboxSpec": {}}, "position": {"x": 0, "y": 0, "width": 1, "height": 1}}]}]} x`,
		"{\"pages\": [{\"name\": \"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse("fuzz.json", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error %v is not a *ParseError with problems", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.json: ") {
					t.Fatalf("line %q does not name the file", line)
				}
			}
			return
		}
		if len(def.Pages) == 0 {
			t.Fatal("parsed a definition without pages")
		}
		for _, pg := range def.Pages {
			res := &PageResult{Page: pg.Name}
			for _, w := range pg.Widgets {
				p := w.Position
				if p.X < 0 || p.Width < 1 || p.X+p.Width > GridColumns || p.Y < 0 || p.Height < 1 || p.Y+p.Height > MaxGridRows {
					t.Fatalf("widget %q at %+v is off the grid", w.Name, p)
				}
				if !w.Supported() {
					continue
				}
				if _, err := def.WidgetQuery(w.Name, "v"); err != nil {
					t.Fatalf("widget %q parsed but cannot build its query: %v", w.Name, err)
				}
				// Render with one made-up row, to reach the drawing code.
				row := make([]any, len(w.Query.Fields))
				cols := make([]string, len(w.Query.Fields))
				for i, fl := range w.Query.Fields {
					cols[i], row[i] = fl.Name, float64(i+1)
				}
				res.Widgets = append(res.Widgets, WidgetResult{Widget: w.Name, Result: Result{Columns: cols, Rows: [][]any{row}}})
			}
			if _, err := RenderPage(def, pg.Name, res); err != nil {
				t.Fatalf("render page %q: %v", pg.Name, err)
			}
		}
	})
}

// fuzzDB is one sample database shared by every FuzzBind input, plus a
// table t(a, b) so that fuzzed SQL naming it reaches column resolution.
var fuzzDB = sync.OnceValues(func() (*sql.DB, error) {
	db, err := OpenSampleDB(context.Background())
	if err != nil {
		return nil, err
	}
	_, err = db.Exec("CREATE TABLE t (a TEXT, b TEXT); INSERT INTO t VALUES ('EMEA', 'x')")
	return db, err
})

// FuzzBind: rewriting never panics, the SQL it produces does not depend on
// (so never contains) the value, there is one argument per placeholder,
// and SQLite agrees with the scan: it never finds a parameter we did not
// bind, nor a bare __aibi_external_value we left in place.
func FuzzBind(f *testing.F) {
	sqls := []string{
		"SELECT * FROM sales WHERE region = __aibi_external_value",
		"SELECT * FROM t WHERE a = __aibi_external_value OR b = __aibi_external_value",
		"SELECT '__aibi_external_value', \"__aibi_external_value\", `__aibi_external_value`, [__aibi_external_value] FROM t",
		"SELECT 1 -- __aibi_external_value\n, __aibi_external_value",
		"SELECT /* __aibi_external_value */ __aibi_external_value /**/",
		"SELECT 'it''s', \"a\"\"b\", `c``d` FROM t WHERE a=__aibi_external_value;",
		"SELECT x'00', 1e5, .5, 0x1F, __aibi_external_value$, $__aibi_external_value",
		"SELECT ? ", "SELECT 'unterminated", "SELECT /* open", "SELECT 1; SELECT 2", "SELECT 1;\n-- end",
		"SELECT a FROM t WHERE a = __AIBI_EXTERNAL_VALUE AND t.__aibi_external_value IS NULL",
		"SELECT '--', '/*', \"'\" , __aibi_external_value",
		"SELECT [a]]b], __aibi_external_value",
		"select 1 where 'a' = __aibi_external_value--",
		"SELECT __aibi_external_value\x00",
		"SELECT é__aibi_external_value, __aibi_external_valueé",
	}
	values := []string{"EMEA", "x' OR '1'='1", "EMEA' --", "?", "';DROP TABLE sales;--", "__aibi_external_value", "", "\x00'\""}
	for i, s := range sqls {
		f.Add(s, values[i%len(values)])
	}
	f.Fuzz(func(t *testing.T, sqlText, value string) {
		b, err := BindExternalValue(sqlText, value)
		ref, refErr := BindExternalValue(sqlText, "\x01sentinel\x01")
		if (err == nil) != (refErr == nil) {
			t.Fatalf("the value changed whether the SQL is accepted: %v vs %v", err, refErr)
		}
		if err != nil {
			return
		}
		if b.SQL != ref.SQL {
			t.Fatalf("the SQL depends on the value:\n%q\n%q", b.SQL, ref.SQL)
		}
		if value != "" && strings.Contains(b.SQL, value) && !strings.Contains(ref.SQL, value) {
			t.Fatalf("the SQL contains the value %q: %q", value, b.SQL)
		}
		for _, a := range b.Args {
			if a != value {
				t.Fatalf("argument %q, want %q", a, value)
			}
		}
		if n := strings.Count(b.SQL, "?") - strings.Count(sqlText, "?"); n != len(b.Args) {
			t.Fatalf("%d placeholders added, %d arguments", n, len(b.Args))
		}

		db, err := fuzzDB()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		rows, err := db.QueryContext(ctx, "SELECT * FROM (\n"+b.SQL+"\n) LIMIT 1", b.Args...)
		if err == nil {
			rows.Close()
			return
		}
		msg := strings.ToLower(err.Error())
		if strings.Contains(msg, "missing argument") || strings.Contains(msg, "missing named argument") {
			t.Fatalf("SQLite sees a parameter the scan missed: %v\nSQL: %q", err, b.SQL)
		}
		// A quoted "__aibi_external_value" is a column reference by design
		// and fails the same way, so this check needs SQL without them.
		if missingExternalValue(msg) && !strings.ContainsAny(sqlText, "\"`[") {
			t.Fatalf("SQLite sees a bare %s the scan left in place: %v\nSQL: %q", ExternalValueIdentifier, err, b.SQL)
		}
	})
}

// missingExternalValue reports whether SQLite's (lower-cased) message names
// __aibi_external_value itself as a missing column, not a longer identifier
// that starts with it, such as __aibi_external_value0, which the scan
// rightly leaves alone.
func missingExternalValue(msg string) bool {
	const p = "no such column: " + ExternalValueIdentifier
	i := strings.Index(msg, p)
	return i >= 0 && (i+len(p) == len(msg) || !isIdentChar(msg[i+len(p)]))
}
