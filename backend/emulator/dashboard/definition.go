package dashboard

import "slices"

// GridColumns is the width of a page's layout grid, as in Lakeview.
const GridColumns = 6

// MaxGridRows bounds a widget's bottom edge (y+height). The stylesheet
// carries one placement class per row, because the embed page's CSP forbids
// inline style attributes; this keeps that stylesheet a fixed size.
const MaxGridRows = 120

// Widget types this package runs and draws. Any other type still parses and
// is drawn as a labelled placeholder.
const (
	TypeCounter = "counter"
	TypeTable   = "table"
	TypeBar     = "bar"
	TypeLine    = "line"
	TypePie     = "pie"
)

// specVersions lists the spec versions each supported widget type is
// written with (counter and table use the older v1/v2 specs, charts v3).
var specVersions = map[string][]int{
	TypeCounter: {1, 2},
	TypeTable:   {1, 2},
	TypeBar:     {3},
	TypeLine:    {3},
	TypePie:     {3},
}

// Definition is a parsed dashboard: its datasets and its pages.
type Definition struct {
	// Name is where the definition came from (a file name), used in messages.
	Name     string
	Datasets []Dataset
	Pages    []Page
}

// Dataset is a named SQL query that widgets aggregate over.
type Dataset struct {
	Name        string
	DisplayName string
	// SQL is the dataset's queryLines joined, with any trailing semicolon
	// removed so it can be wrapped as a subquery.
	SQL string
}

// Page is one tab of the dashboard.
type Page struct {
	Name        string
	DisplayName string
	Widgets     []Widget // in layout order
}

// Position places a widget on the grid: X and Width in columns (0-based,
// 6 wide), Y and Height in rows.
type Position struct {
	X, Y, Width, Height int
}

// Widget is one tile of a page.
type Widget struct {
	Name string
	// Type is spec.widgetType; "text" for a text box, which has no spec.
	Type    string
	Version int
	// Title and ShowTitle come from spec.frame.
	Title     string
	ShowTitle bool
	Position  Position
	// Query is the widget's query; nil for unsupported types, whose queries
	// (filters have several, in expressions outside our grammar) are not read.
	Query     *Query
	Encodings Encodings
}

// Supported reports whether the widget's type is one this package runs and
// draws; others are drawn as a placeholder.
func (w Widget) Supported() bool {
	_, ok := specVersions[w.Type]
	return ok
}

// Query is a widget's query over a dataset.
type Query struct {
	Name          string
	DatasetName   string
	Fields        []Field
	Disaggregated bool
}

// Field is one output column of a widget query: Name is how encodings refer
// to it, Expression is in the grammar ParseExpression accepts.
type Field struct {
	Name       string
	Expression string
}

// Field returns the query's field with that name.
func (q *Query) Field(name string) (Field, bool) {
	i := slices.IndexFunc(q.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return q.Fields[i], true
}

// Encodings map query fields to a widget's visual channels. Which ones are
// set depends on the type: Value (counter), Columns (table), X, Y and
// optionally Color (bar, line: one series per color value), Angle and Color
// (pie).
type Encodings struct {
	X, Y, Color, Value, Angle *Encoding
	Columns                   []Encoding
}

// Encoding names the query field a channel shows and its label.
type Encoding struct {
	FieldName   string
	DisplayName string
}

// Label is the display name, or the field name when there is none.
func (e *Encoding) Label() string {
	if e == nil {
		return ""
	}
	if e.DisplayName != "" {
		return e.DisplayName
	}
	return e.FieldName
}

// Dataset returns the dataset with that name.
func (d *Definition) Dataset(name string) (Dataset, bool) {
	i := slices.IndexFunc(d.Datasets, func(ds Dataset) bool { return ds.Name == name })
	if i < 0 {
		return Dataset{}, false
	}
	return d.Datasets[i], true
}

// Page returns the page with that name; an empty name means the first page,
// as an embed URL without /pages/{id} shows it.
func (d *Definition) Page(name string) (*Page, bool) {
	if name == "" && len(d.Pages) > 0 {
		return &d.Pages[0], true
	}
	for i := range d.Pages {
		if d.Pages[i].Name == name {
			return &d.Pages[i], true
		}
	}
	return nil, false
}

// Widget returns the widget with that name, on whichever page it is.
func (d *Definition) Widget(name string) (*Widget, bool) {
	for i := range d.Pages {
		for j := range d.Pages[i].Widgets {
			if d.Pages[i].Widgets[j].Name == name {
				return &d.Pages[i].Widgets[j], true
			}
		}
	}
	return nil, false
}
