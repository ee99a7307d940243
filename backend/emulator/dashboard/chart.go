package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Nominal size of a grid cell on a page about 860 pixels wide, the width a
// dashboard gets in embedlab's frame beside the viewer list on a 1280-pixel
// projector. A chart's viewBox is computed from them, so there it is drawn
// about 1:1 (12px text stays 12px, issue #14) and it scales uniformly at
// other widths.
const (
	cellWidth  = 130
	cellHeight = 40
	cellGap    = 12
	widgetPad  = 12
	titleSpace = 30
	fontSize   = 12
	charWidth  = 7.0 // average advance of a 12px sans-serif glyph
	maxLabel   = 18  // characters of a category label before it is cut
	maxSlices  = 8   // pie slices; smaller ones are summed into "Other"
)

// palette is the series colours, as SVG fill/stroke attributes (presentation
// attributes are not styles, so the page's CSP does not block them).
var palette = []string{"#077a9d", "#f59e0b", "#00a972", "#e5484d", "#6e56cf", "#8bcae7", "#ab4057", "#5d6b7a"}

func colour(i int) string { return palette[i%len(palette)] }

// chartSize is the drawing area of a widget in nominal pixels.
func chartSize(w *Widget, titled bool) (float64, float64) {
	width := w.Position.Width*cellWidth + (w.Position.Width-1)*cellGap - 2*widgetPad
	height := w.Position.Height*cellHeight + (w.Position.Height-1)*cellGap - 2*widgetPad
	if titled {
		height -= titleSpace
	}
	return float64(max(width, 160)), float64(max(height, 100))
}

// svg accumulates SVG markup. Text goes through esc and numbers through
// num, so nothing from the data reaches the markup unescaped.
type svg struct{ strings.Builder }

func (s *svg) printf(format string, args ...any) { fmt.Fprintf(&s.Builder, format, args...) }

func esc(s string) string { return html.EscapeString(strings.ToValidUTF8(s, "\uFFFD")) }

func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:max(n-1, 1)]) + "…"
}

func textWidth(s string) float64 { return float64(len([]rune(s))) * charWidth }

func (s *svg) open(w, h float64, title string) {
	s.printf(`<svg class="dash-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s"><title>%s</title>`,
		num(w), num(h), esc(title), esc(title))
}

// legend draws coloured keys in rows from (x, y), wrapping at maxX; it
// returns the height used.
func (s *svg) legend(names []string, x, y, maxX float64) float64 {
	cx, cy := x, y
	for i, n := range names {
		n = clip(n, maxLabel)
		w := 14 + textWidth(n) + 14
		if cx > x && cx+w > maxX {
			cx, cy = x, cy+16
		}
		s.printf(`<rect class="dash-key" x="%s" y="%s" width="10" height="10" rx="2" fill="%s"/><text class="dash-legend" x="%s" y="%s">%s</text>`,
			num(cx), num(cy), colour(i), num(cx+14), num(cy+9), esc(n))
		cx += w
	}
	return cy - y + 16
}

func fieldIndex(r *Result, e *Encoding) int {
	if e == nil {
		return -1
	}
	return slices.Index(r.Columns, e.FieldName)
}

// xyChart draws a bar or line chart: categories of X along the bottom, Y up
// the side, one series per Color value (stacked for bars).
func xyChart(w *Widget, r *Result, title string) (template.HTML, error) {
	xi, yi, ci := fieldIndex(r, w.Encodings.X), fieldIndex(r, w.Encodings.Y), fieldIndex(r, w.Encodings.Color)
	if xi < 0 || yi < 0 || (w.Encodings.Color != nil && ci < 0) {
		return "", fmt.Errorf("the result lacks the fields the %s chart encodes", w.Type)
	}
	var cats, series []string
	catIdx, serIdx := map[string]int{}, map[string]int{}
	type key struct{ cat, ser string }
	vals := map[key]float64{}
	for _, row := range r.Rows {
		y, ok := toFloat(row[yi])
		if !ok {
			continue // NULL measure: nothing to draw
		}
		k := key{label(row[xi]), w.Encodings.Y.Label()}
		if ci >= 0 {
			k.ser = label(row[ci])
		}
		if _, seen := catIdx[k.cat]; !seen {
			catIdx[k.cat] = len(cats)
			cats = append(cats, k.cat)
		}
		if _, seen := serIdx[k.ser]; !seen {
			serIdx[k.ser] = len(series)
			series = append(series, k.ser)
		}
		vals[k] += y
	}
	if len(cats) == 0 {
		return "", errNoRows
	}
	// Sorted series keep colours stable between viewers and pages.
	slices.Sort(series)
	stacked := w.Type == TypeBar
	lo, hi := 0.0, 0.0
	for _, c := range cats {
		pos, neg := 0.0, 0.0
		for _, s := range series {
			v, ok := vals[key{c, s}]
			switch {
			case !ok:
			case stacked && v >= 0:
				pos += v
			case stacked:
				neg += v
			default:
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		lo, hi = min(lo, neg), max(hi, pos)
	}

	W, H := chartSize(w, title != "")
	var s svg
	s.open(W, H, title)
	legendH := 0.0
	if len(series) > 1 {
		legendH = s.legend(series, 8, 4, W-8) + 6
	}
	ticks := niceTicks(lo, hi, max(3, int((H-legendH-70)/36)))
	lo, hi = ticks[0], ticks[len(ticks)-1]
	tickW := 0.0
	for _, t := range ticks {
		tickW = max(tickW, textWidth(formatCompact(t)))
	}
	left, right, top := 4+14+6+min(tickW, W/3)+6, 12.0, 8+legendH
	plotW := W - left - right
	band := plotW / float64(len(cats))

	// Category labels: level if they fit, else turned 40 degrees and cut;
	// when even that is too dense, only every step-th is written.
	labels := make([]string, len(cats))
	widest := 0.0
	for i, c := range cats {
		labels[i] = clip(c, maxLabel)
		widest = max(widest, textWidth(labels[i]))
	}
	rotate := widest > band-6
	step, labelH := 1, float64(fontSize)+2
	if rotate {
		step = max(1, int(math.Ceil((fontSize+4)/band)))
		labelH = widest*math.Sin(40*math.Pi/180) + fontSize
	}
	bottom := 8 + labelH + 10 + 14
	plotH := max(H-top-bottom, 30)
	py := func(v float64) float64 { return top + plotH*(hi-v)/(hi-lo) }

	for _, t := range ticks {
		s.printf(`<line class="dash-gridline" x1="%s" x2="%s" y1="%s" y2="%s"/><text class="dash-tick" x="%s" y="%s" text-anchor="end">%s</text>`,
			num(left), num(W-right), num(py(t)), num(py(t)), num(left-6), num(py(t)+4), esc(formatCompact(t)))
	}
	for i, l := range labels {
		if i%step != 0 {
			continue
		}
		cx, ty := left+band*(float64(i)+0.5), top+plotH+8+fontSize
		if rotate {
			ty -= 4
			s.printf(`<text class="dash-tick" x="%s" y="%s" text-anchor="end" transform="rotate(-40 %s %s)">%s</text>`, num(cx), num(ty), num(cx), num(ty), esc(l))
		} else {
			s.printf(`<text class="dash-tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(cx), num(ty), esc(l))
		}
	}
	s.printf(`<text class="dash-axis-title" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+plotW/2), num(H-4), esc(w.Encodings.X.Label()))
	s.printf(`<text class="dash-axis-title" text-anchor="middle" transform="translate(14 %s) rotate(-90)">%s</text>`, num(top+plotH/2), esc(clip(w.Encodings.Y.Label(), int(plotH/charWidth))))

	tip := func(c, ser string, v float64) string {
		if len(series) > 1 {
			return c + " · " + ser + ": " + formatNumber(v, decimalsOf(v))
		}
		return c + ": " + formatNumber(v, decimalsOf(v))
	}
	if w.Type == TypeBar {
		barW := min(band*0.72, 64)
		for i, c := range cats {
			x := left + band*float64(i) + (band-barW)/2
			pos, neg := 0.0, 0.0
			for si, ser := range series {
				v, ok := vals[key{c, ser}]
				if !ok {
					continue
				}
				from := &pos
				if v < 0 {
					from = &neg
				}
				y0, y1 := *from, *from+v
				*from = y1
				ry, height := math.Min(py(y0), py(y1)), math.Abs(py(y0)-py(y1))
				s.printf(`<rect class="dash-bar" x="%s" y="%s" width="%s" height="%s" fill="%s" data-x="%s" data-series="%s" data-value="%s"><title>%s</title></rect>`,
					num(x), num(ry), num(barW), num(height), colour(si), esc(c), esc(ser), strconv.FormatFloat(v, 'g', -1, 64), esc(tip(c, ser, v)))
			}
		}
	} else {
		for si, ser := range series {
			var pts []string
			var dots svg
			for i, c := range cats {
				v, ok := vals[key{c, ser}]
				if !ok {
					continue
				}
				x, y := left+band*(float64(i)+0.5), py(v)
				pts = append(pts, num(x)+","+num(y))
				dots.printf(`<circle class="dash-dot" cx="%s" cy="%s" r="3" fill="%s" data-x="%s" data-series="%s" data-value="%s"><title>%s</title></circle>`,
					num(x), num(y), colour(si), esc(c), esc(ser), strconv.FormatFloat(v, 'g', -1, 64), esc(tip(c, ser, v)))
			}
			s.printf(`<polyline class="dash-line" fill="none" stroke="%s" stroke-width="2" points="%s"/>%s`, colour(si), strings.Join(pts, " "), dots.String())
		}
	}
	// The zero line last, so it sits on top of the bars.
	s.printf(`<line class="dash-axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(W-right), num(py(0)), num(py(0)))
	s.printf(`</svg>`)
	return template.HTML(s.String()), nil
}

// pieChart draws one slice per Color value sized by Angle, with a legend
// giving each slice's share and value. Slices beyond maxSlices are summed
// into "Other"; values that are not positive cannot be slices and are left out.
func pieChart(w *Widget, r *Result, title string) (template.HTML, error) {
	ai, ci := fieldIndex(r, w.Encodings.Angle), fieldIndex(r, w.Encodings.Color)
	if ai < 0 || ci < 0 {
		return "", fmt.Errorf("the result lacks the fields the pie chart encodes")
	}
	type slice struct {
		name string
		v    float64
	}
	var parts []slice
	total := 0.0
	for _, row := range r.Rows {
		if v, ok := toFloat(row[ai]); ok && v > 0 {
			parts = append(parts, slice{label(row[ci]), v})
			total += v
		}
	}
	if len(parts) == 0 || total <= 0 || math.IsInf(total, 0) {
		return "", errNoRows
	}
	slices.SortStableFunc(parts, func(a, b slice) int { return -cmpFloat(a.v, b.v) })
	if len(parts) > maxSlices {
		other := slice{"Other", 0}
		for _, sl := range parts[maxSlices-1:] {
			other.v += sl.v
		}
		parts = append(parts[:maxSlices-1], other)
	}

	// Colours follow the sorted names, as in xyChart, so a product has the
	// same colour in a pie and in a bar chart beside it.
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.name
	}
	slices.Sort(names)
	colourOf := func(name string) string { i, _ := slices.BinarySearch(names, name); return colour(i) }

	W, H := chartSize(w, title != "")
	var s svg
	s.open(W, H, title)
	legendW := 0.0
	items := make([]string, len(parts))
	for i, sl := range parts {
		items[i] = fmt.Sprintf("%s · %s%% · %s", clip(sl.name, maxLabel), trimDecimals(100*(sl.v/total), 1), formatCompact(sl.v))
		legendW = max(legendW, 14+textWidth(items[i]))
	}
	legendW = min(legendW, W*0.55)
	radius := max(math.Min((W-legendW-40)/2, (H-16)/2), 20)
	// Pie and legend are centred together in the tile.
	cx, cy := max(8, (W-(2*radius+24+legendW))/2)+radius, H/2
	angle := -math.Pi / 2 // start at twelve o'clock, clockwise
	for _, sl := range parts {
		share := sl.v / total
		tip := esc(fmt.Sprintf("%s: %s (%s%%)", sl.name, formatNumber(sl.v, decimalsOf(sl.v)), trimDecimals(100*share, 1)))
		attrs := fmt.Sprintf(`fill="%s" data-label="%s" data-value="%s"`, colourOf(sl.name), esc(sl.name), strconv.FormatFloat(sl.v, 'g', -1, 64))
		if share >= 0.9999 {
			s.printf(`<circle class="dash-slice" cx="%s" cy="%s" r="%s" %s><title>%s</title></circle>`, num(cx), num(cy), num(radius), attrs, tip)
			continue
		}
		end := angle + 2*math.Pi*share
		large := 0
		if end-angle > math.Pi {
			large = 1
		}
		s.printf(`<path class="dash-slice" d="M%s %s L%s %s A%s %s 0 %d 1 %s %s Z" %s><title>%s</title></path>`,
			num(cx), num(cy), num(cx+radius*math.Cos(angle)), num(cy+radius*math.Sin(angle)),
			num(radius), num(radius), large, num(cx+radius*math.Cos(end)), num(cy+radius*math.Sin(end)), attrs, tip)
		angle = end
	}
	lx := cx + radius + 24
	ly := cy - float64(len(items))*20/2
	maxChars := int((W - lx - 14) / charWidth)
	for i, it := range items {
		y := ly + float64(i)*20
		s.printf(`<rect class="dash-key" x="%s" y="%s" width="10" height="10" rx="2" fill="%s"/><text class="dash-legend" x="%s" y="%s">%s</text>`,
			num(lx), num(y+2), colourOf(parts[i].name), num(lx+16), num(y+11), esc(clip(it, maxChars)))
	}
	s.printf(`</svg>`)
	return template.HTML(s.String()), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decimalsOf is 0 for whole numbers, else 2.
func decimalsOf(f float64) int {
	if f == math.Trunc(f) {
		return 0
	}
	return 2
}
