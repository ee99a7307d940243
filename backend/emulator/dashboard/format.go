package dashboard

import (
	"math"
	"strconv"
	"strings"
)

// toFloat reads a numeric cell; text that is a number counts too, since
// SQLite columns are loosely typed.
func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, int:
		return true
	}
	return false
}

// label turns a cell into category text for axes and legends.
func label(v any) string {
	switch v := v.(type) {
	case nil:
		return "(null)"
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// formatNumber writes f with the given decimals and commas between
// thousands: 1234567.891 with 2 decimals is "1,234,567.89".
func formatNumber(f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if f < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// formatCell formats a table cell; decimals is the column's (0 for whole
// numbers, 2 when any value in the column has a fraction).
func formatCell(v any, decimals int) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return formatNumber(float64(v), 0)
	case float64:
		return formatNumber(v, decimals)
	}
	return label(v)
}

// formatCounter formats a counter's big number: whole units from a
// thousand up (cents on a headline figure are noise), else two decimals at
// most.
func formatCounter(v any) string {
	f, ok := toFloat(v)
	if !ok || !isNumber(v) {
		return label(v)
	}
	if _, whole := v.(int64); whole || math.Abs(f) >= 1000 {
		return formatNumber(f, 0)
	}
	return strings.TrimSuffix(strings.TrimRight(formatNumber(f, 2), "0"), ".")
}

// formatCompact is for axis ticks and chart labels: 1.25M, 350K, 12.5.
func formatCompact(f float64) string {
	abs := math.Abs(f)
	if abs >= 1e15 {
		return strconv.FormatFloat(f, 'g', 3, 64)
	}
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}} {
		if abs >= u.div {
			return trimDecimals(f/u.div, 2) + u.suffix
		}
	}
	return trimDecimals(f, 2)
}

func trimDecimals(f float64, decimals int) string {
	s := strconv.FormatFloat(f, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// niceTicks returns about n evenly spaced round tick values (steps of 1, 2,
// 2.5 or 5 times a power of ten) covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		if hi == 0 {
			hi = 1
		} else {
			lo, hi = math.Min(0, lo), math.Max(0, hi)
		}
	}
	raw := (hi - lo) / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	if math.IsInf(raw, 0) || math.IsNaN(raw) || raw == 0 || mag == 0 || math.IsInf(mag*10, 0) {
		// Values near the float64 limits: no round steps, just the ends.
		return []float64{lo, hi}
	}
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	// Rounding to the step's decimals snaps away float noise such as
	// 3*0.1 = 0.30000000000000004.
	scale := math.Pow(10, max(0, 1-math.Floor(math.Log10(step))))
	var ticks []float64
	for i := 0; i <= 100; i++ {
		t := start + float64(i)*step
		if t > end+step/2 {
			break
		}
		if r := math.Round(t*scale) / scale; !math.IsInf(r, 0) && !math.IsNaN(r) {
			t = r
		}
		ticks = append(ticks, t)
	}
	return ticks
}
