package dashboard_test

import (
	"fmt"

	"embedlab/backend/emulator/dashboard"
)

func ExampleBindExternalValue() {
	b, err := dashboard.BindExternalValue(
		"SELECT * FROM sales WHERE region = __aibi_external_value -- not '__aibi_external_value'",
		"EMEA' OR '1'='1")
	if err != nil {
		panic(err)
	}
	fmt.Println(b.SQL)
	fmt.Printf("%q\n", b.Args)
	// Output:
	// SELECT * FROM sales WHERE region = ? -- not '__aibi_external_value'
	// ["EMEA' OR '1'='1"]
}

func ExampleParse() {
	_, err := dashboard.Parse("broken.lvdash.json", []byte(`{
  "datasets": [{"name": "sales", "queryLines": ["SELECT * FROM sales"]}],
  "pages": [{"name": "p1", "layout": [
    {"widget": {"name": "w1",
      "queries": [{"query": {"datasetName": "sale", "fields": [{"name": "m", "expression": "UPPER(`+"`month`"+`)"}]}}],
      "spec": {"version": 3, "widgetType": "bar", "encodings": {"x": {"fieldName": "m"}, "y": {"fieldName": "total"}}}},
     "position": {"x": 4, "y": 0, "width": 3, "height": 4}}]}]}`))
	fmt.Println(err)
	// Output:
	// broken.lvdash.json: pages[0].layout[0].position: x=4 width=3 is outside the 6-column grid (need x >= 0, width >= 1, x+width <= 6)
	// broken.lvdash.json: pages[0].layout[0].widget.queries[0].query.datasetName: unknown dataset "sale" (the file defines "sales")
	// broken.lvdash.json: pages[0].layout[0].widget.queries[0].query.fields[0].expression: unsupported function UPPER in "UPPER(`month`)": want `column`, SUM|AVG|MIN|MAX|COUNT(`column`), COUNT(*) or COUNT(DISTINCT `column`)
	// broken.lvdash.json: pages[0].layout[0].widget.spec.encodings.y.fieldName: field "total" is not in the widget's query (it has "m")
}
