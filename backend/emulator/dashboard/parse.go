package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// maxFileSize bounds what LoadFile reads; real definitions are kilobytes.
const maxFileSize = 8 << 20

// Problem is one thing wrong with a definition file.
type Problem struct {
	// Path is the JSON path inside the file, e.g.
	// pages[0].layout[2].widget.queries[0].query.datasetName, or a
	// "line L, column C" position for malformed JSON.
	Path    string
	Message string
}

// ParseError lists every problem found in a definition file, not just the
// first, so one edit-and-reload cycle fixes them all.
type ParseError struct {
	File     string
	Problems []Problem
}

// Error has one line per problem, each naming the file, the path and what
// is wrong.
func (e *ParseError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = fmt.Sprintf("%s: %s: %s", e.File, p.Path, p.Message)
	}
	return strings.Join(lines, "\n")
}

// LoadFile reads and parses a definition file; its path names it in errors.
func LoadFile(path string) (*Definition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load dashboard definition: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load dashboard definition %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("load dashboard definition %s: larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Parse reads a .lvdash.json definition. Unknown fields are ignored (real
// files carry many); every problem with the fields this package reads is
// reported in one *ParseError. name is used in messages only.
func Parse(name string, data []byte) (*Definition, error) {
	p := &parser{}
	root, ok := p.decode(data)
	var def *Definition
	if ok {
		def = p.definition(root)
	}
	if len(p.problems) > 0 {
		return nil, &ParseError{File: name, Problems: p.problems}
	}
	def.Name = name
	return def, nil
}

// parser walks the generic JSON tree (decoded first, so a syntax error can
// be reported with a line and column and every later problem with its
// exact path) and collects problems instead of stopping at the first.
type parser struct {
	problems []Problem
}

func (p *parser) fail(path, format string, args ...any) {
	p.problems = append(p.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) decode(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	err := dec.Decode(&root)
	offset := dec.InputOffset()
	if err == nil {
		// Anything after the top-level object is a broken file too.
		rest := bytes.TrimLeft(data[offset:], " \t\r\n")
		if len(rest) == 0 {
			return root, true
		}
		offset = int64(len(data) - len(rest))
		err = errors.New("unexpected data after the top-level object")
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte; point at it, not past it.
		offset = max(syn.Offset-1, 0)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		offset = int64(len(data))
		err = errors.New("unexpected end of JSON input")
	}
	line, col := position(data, offset)
	p.fail(fmt.Sprintf("line %d, column %d", line, col), "invalid JSON: %v", err)
	return nil, false
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func (p *parser) definition(root any) *Definition {
	def := &Definition{}
	if root == nil {
		p.fail("(top level)", "want an object, got null")
		return def
	}
	obj, ok := p.object(root, "(top level)")
	if !ok {
		return def
	}
	datasetPaths := map[string]string{}
	for i, raw := range p.array(obj, "datasets", "datasets", false) {
		path := fmt.Sprintf("datasets[%d]", i)
		ds, ok := p.dataset(raw, path)
		if !ok {
			continue
		}
		if first, dup := datasetPaths[ds.Name]; dup {
			p.fail(path+".name", "duplicate dataset name %q (first at %s)", ds.Name, first)
			continue
		}
		datasetPaths[ds.Name] = path
		def.Datasets = append(def.Datasets, ds)
	}
	pages := p.array(obj, "pages", "pages", true)
	if _, present := obj["pages"]; present && len(pages) == 0 {
		p.fail("pages", "the dashboard has no pages")
	}
	pagePaths, widgetPaths := map[string]string{}, map[string]string{}
	for i, raw := range pages {
		path := fmt.Sprintf("pages[%d]", i)
		po, ok := p.object(raw, path)
		if !ok {
			continue
		}
		// The global-filters side panel is a page in the file but not a tab.
		if t, _ := po["pageType"].(string); t == "PAGE_TYPE_GLOBAL_FILTERS" {
			continue
		}
		pg := Page{Name: p.str(po, "name", path, true), DisplayName: p.str(po, "displayName", path, false)}
		if pg.Name != "" {
			if first, dup := pagePaths[pg.Name]; dup {
				p.fail(path+".name", "duplicate page name %q (first at %s)", pg.Name, first)
			}
			pagePaths[pg.Name] = path
		}
		for j, item := range p.array(po, "layout", path+".layout", false) {
			lpath := fmt.Sprintf("%s.layout[%d]", path, j)
			w, ok := p.widget(item, lpath, def)
			if !ok {
				continue
			}
			if first, dup := widgetPaths[w.Name]; dup {
				p.fail(lpath+".widget.name", "duplicate widget name %q (first at %s)", w.Name, first)
			}
			widgetPaths[w.Name] = lpath + ".widget.name"
			pg.Widgets = append(pg.Widgets, w)
		}
		def.Pages = append(def.Pages, pg)
	}
	return def
}

func (p *parser) dataset(raw any, path string) (Dataset, bool) {
	obj, ok := p.object(raw, path)
	if !ok {
		return Dataset{}, false
	}
	ds := Dataset{Name: p.str(obj, "name", path, true), DisplayName: p.str(obj, "displayName", path, false)}
	sqlPath := path + ".queryLines"
	if _, has := obj["queryLines"]; has {
		var b strings.Builder
		lines := p.array(obj, "queryLines", sqlPath, true)
		for i, l := range lines {
			s, ok := l.(string)
			if !ok {
				p.fail(fmt.Sprintf("%s[%d]", sqlPath, i), "want a string, got %s", jsonKind(l))
				continue
			}
			b.WriteString(s)
			// Real files end each line with "\n"; hand-written ones may not,
			// and "SELECT *" + "FROM t" must not become "SELECT *FROM t", nor
			// a "-- comment" swallow the next line.
			if i < len(lines)-1 && !strings.HasSuffix(s, "\n") {
				b.WriteByte('\n')
			}
		}
		ds.SQL = b.String()
	} else if _, has := obj["query"]; has {
		// Older exports hold the SQL as one string.
		sqlPath = path + ".query"
		ds.SQL = p.str(obj, "query", path, true)
	} else {
		p.fail(sqlPath, "missing field queryLines (the dataset's SQL)")
		return ds, ds.Name != ""
	}
	sqlText, err := checkDatasetSQL(ds.SQL)
	if err != nil {
		p.fail(sqlPath, "%v", err)
	}
	ds.SQL = sqlText
	return ds, ds.Name != ""
}

func (p *parser) widget(raw any, path string, def *Definition) (Widget, bool) {
	item, ok := p.object(raw, path)
	if !ok {
		return Widget{}, false
	}
	wpath := path + ".widget"
	wo, ok := p.object(item["widget"], wpath)
	var w Widget
	if ok {
		w.Name = p.str(wo, "name", wpath, true)
	}
	if pos, ok := p.object(item["position"], path+".position"); ok {
		w.Position = p.position(pos, path+".position")
	}
	if wo == nil || w.Name == "" {
		return w, false
	}

	spath := wpath + ".spec"
	spec, hasSpec := wo["spec"]
	switch {
	case hasSpec:
		so, ok := p.object(spec, spath)
		if !ok {
			return w, true
		}
		w.Type = p.str(so, "widgetType", spath, true)
		if v, ok := p.integer(so, "version", spath); ok {
			w.Version = v
		}
		if fo, ok := so["frame"].(map[string]any); ok {
			w.Title, _ = fo["title"].(string)
			w.ShowTitle, _ = fo["showTitle"].(bool)
		}
		if !w.Supported() {
			return w, true
		}
		if versions := specVersions[w.Type]; !slices.Contains(versions, w.Version) {
			p.fail(spath+".version", "%s widgets are written with spec version %s, not %d", w.Type, joinInts(versions), w.Version)
		}
		w.Query = p.widgetQuery(wo, wpath, w.Type, def)
		w.Encodings = p.encodings(so, spath, w.Type, w.Query)
	case wo["multilineTextboxSpec"] != nil:
		w.Type = "text"
	default:
		w.Type = "unknown"
	}
	return w, true
}

func (p *parser) position(obj map[string]any, path string) Position {
	var pos Position
	var ok [4]bool
	pos.X, ok[0] = p.integer(obj, "x", path)
	pos.Y, ok[1] = p.integer(obj, "y", path)
	pos.Width, ok[2] = p.integer(obj, "width", path)
	pos.Height, ok[3] = p.integer(obj, "height", path)
	for i, name := range []string{"x", "y", "width", "height"} {
		if _, present := obj[name]; !present {
			p.fail(path, "missing field %s", name)
			ok[i] = false
		}
	}
	if ok[0] && ok[2] && (pos.X < 0 || pos.Width < 1 || pos.X+pos.Width > GridColumns) {
		p.fail(path, "x=%d width=%d is outside the %d-column grid (need x >= 0, width >= 1, x+width <= %d)",
			pos.X, pos.Width, GridColumns, GridColumns)
	}
	if ok[1] && ok[3] && (pos.Y < 0 || pos.Height < 1 || pos.Y+pos.Height > MaxGridRows) {
		p.fail(path, "y=%d height=%d is outside the grid (need y >= 0, height >= 1, y+height <= %d)",
			pos.Y, pos.Height, MaxGridRows)
	}
	return pos
}

func (p *parser) widgetQuery(wo map[string]any, wpath, typ string, def *Definition) *Query {
	queries := p.array(wo, "queries", wpath+".queries", true)
	if len(queries) != 1 {
		if _, present := wo["queries"]; present {
			p.fail(wpath+".queries", "a %s widget takes exactly one query, found %d", typ, len(queries))
		}
		return nil
	}
	qpath := wpath + ".queries[0]"
	qo, ok := p.object(queries[0], qpath)
	if !ok {
		return nil
	}
	q := &Query{Name: p.str(qo, "name", qpath, false)}
	qpath += ".query"
	inner, ok := p.object(qo["query"], qpath)
	if !ok {
		return nil
	}
	q.DatasetName = p.str(inner, "datasetName", qpath, true)
	if q.DatasetName != "" {
		if _, ok := def.Dataset(q.DatasetName); !ok {
			p.fail(qpath+".datasetName", "unknown dataset %q (the file defines %s)", q.DatasetName, datasetNames(def))
		}
	}
	if v, present := inner["disaggregated"]; present {
		b, ok := v.(bool)
		if !ok {
			p.fail(qpath+".disaggregated", "want true or false, got %s", jsonKind(v))
		}
		q.Disaggregated = b
	}
	fields := p.array(inner, "fields", qpath+".fields", true)
	if _, present := inner["fields"]; present && len(fields) == 0 {
		p.fail(qpath+".fields", "the query has no fields")
	}
	seen := map[string]int{}
	for i, raw := range fields {
		fpath := fmt.Sprintf("%s.fields[%d]", qpath, i)
		fo, ok := p.object(raw, fpath)
		if !ok {
			continue
		}
		f := Field{Name: p.str(fo, "name", fpath, true), Expression: p.str(fo, "expression", fpath, true)}
		if f.Name != "" {
			if first, dup := seen[f.Name]; dup {
				p.fail(fpath+".name", "duplicate field name %q (first at fields[%d])", f.Name, first)
			}
			seen[f.Name] = i
		}
		if f.Expression != "" {
			e, err := ParseExpression(f.Expression)
			switch {
			case err != nil:
				p.fail(fpath+".expression", "%v", err)
			case e.Aggregate() && q.Disaggregated:
				p.fail(fpath+".expression", "aggregate %s in a disaggregated query (set disaggregated to false, or use a plain `column`)", f.Expression)
			}
		}
		q.Fields = append(q.Fields, f)
	}
	return q
}

// encodings reads the channels the widget type needs and checks that each
// names a field of the query.
func (p *parser) encodings(so map[string]any, spath, typ string, q *Query) Encodings {
	var enc Encodings
	epath := spath + ".encodings"
	eo, ok := p.object(so["encodings"], epath)
	if !ok {
		return enc
	}
	one := func(key string, required bool) *Encoding {
		path := epath + "." + key
		raw, present := eo[key]
		if !present {
			if required {
				p.fail(epath, "a %s widget needs encodings.%s", typ, key)
			}
			return nil
		}
		e, ok := p.encoding(raw, path, q)
		if !ok {
			return nil
		}
		return &e
	}
	switch typ {
	case TypeCounter:
		enc.Value = one("value", true)
	case TypeBar, TypeLine:
		enc.X = one("x", true)
		enc.Y = one("y", true)
		enc.Color = one("color", false)
	case TypePie:
		enc.Angle = one("angle", true)
		enc.Color = one("color", true)
	case TypeTable:
		// Without columns a table shows every field of its query.
		if _, present := eo["columns"]; present {
			for i, raw := range p.array(eo, "columns", epath+".columns", true) {
				if e, ok := p.encoding(raw, fmt.Sprintf("%s.columns[%d]", epath, i), q); ok {
					enc.Columns = append(enc.Columns, e)
				}
			}
		}
	}
	return enc
}

func (p *parser) encoding(raw any, path string, q *Query) (Encoding, bool) {
	obj, ok := p.object(raw, path)
	if !ok {
		return Encoding{}, false
	}
	if _, multi := obj["fields"]; multi {
		if _, one := obj["fieldName"]; !one {
			p.fail(path, "several fields on one channel are not supported: name one with fieldName")
			return Encoding{}, false
		}
	}
	e := Encoding{FieldName: p.str(obj, "fieldName", path, true), DisplayName: p.str(obj, "displayName", path, false)}
	if e.FieldName == "" {
		return e, false
	}
	if q != nil {
		if _, ok := q.Field(e.FieldName); !ok {
			p.fail(path+".fieldName", "field %q is not in the widget's query (it has %s)", e.FieldName, fieldNames(q))
			return e, false
		}
	}
	return e, true
}

// object returns v as a JSON object, or records why it is not one.
func (p *parser) object(v any, path string) (map[string]any, bool) {
	switch o := v.(type) {
	case map[string]any:
		return o, true
	case nil:
		p.fail(path, "missing object")
	default:
		p.fail(path, "want an object, got %s", jsonKind(v))
	}
	return nil, false
}

func (p *parser) array(obj map[string]any, key, path string, required bool) []any {
	v, present := obj[key]
	if !present || v == nil {
		if required {
			p.fail(path, "missing field %s", key)
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		p.fail(path, "want an array, got %s", jsonKind(v))
	}
	return a
}

func (p *parser) str(obj map[string]any, key, path string, required bool) string {
	v, present := obj[key]
	if !present || v == nil {
		if required {
			p.fail(path, "missing field %s", key)
		}
		return ""
	}
	s, ok := v.(string)
	switch {
	case !ok:
		p.fail(path+"."+key, "want a string, got %s", jsonKind(v))
	case required && strings.TrimSpace(s) == "":
		p.fail(path+"."+key, "must not be empty")
	}
	return s
}

// integer reads a whole number; absent is not reported here (callers know
// whether it is required), but a wrong type or a fraction is.
func (p *parser) integer(obj map[string]any, key, path string) (int, bool) {
	v, present := obj[key]
	if !present {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		p.fail(path+"."+key, "want a number, got %s", jsonKind(v))
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		p.fail(path+"."+key, "want a whole number, got %s", n)
		return 0, false
	}
	return int(f), true
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + string(v)
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func datasetNames(def *Definition) string {
	if len(def.Datasets) == 0 {
		return "no datasets"
	}
	names := make([]string, len(def.Datasets))
	for i, ds := range def.Datasets {
		names[i] = strconv.Quote(ds.Name)
	}
	return strings.Join(names, ", ")
}

func fieldNames(q *Query) string {
	if len(q.Fields) == 0 {
		return "no fields"
	}
	names := make([]string, len(q.Fields))
	for i, f := range q.Fields {
		names[i] = strconv.Quote(f.Name)
	}
	return strings.Join(names, ", ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " or ")
}
