package dashboard

import (
	"fmt"
	"regexp"
	"strings"
)

// Expression is a parsed widget field expression. The grammar is
// deliberately tiny, because expressions are pasted into SQL:
//
//	`col`
//	SUM(`col`)  AVG(`col`)  MIN(`col`)  MAX(`col`)  COUNT(`col`)
//	COUNT(*)    COUNT(DISTINCT `col`)
//
// Column names hold only ASCII letters, digits and underscores, so
// the SQL that SQL returns can never carry anything but a column reference.
type Expression struct {
	Func     string // "" for a plain column, else SUM, AVG, MIN, MAX or COUNT
	Column   string // "" for COUNT(*)
	Distinct bool   // COUNT(DISTINCT `col`)
}

// Aggregate reports whether the expression aggregates rows.
func (e Expression) Aggregate() bool { return e.Func != "" }

// SQL renders the expression for SQLite. Columns are quoted with backquotes,
// not double quotes: SQLite reads an unknown "name" as a string literal,
// which would turn a misspelt column into a silently wrong number.
func (e Expression) SQL() string {
	col := "`" + e.Column + "`"
	switch {
	case e.Func == "":
		return col
	case e.Column == "":
		return "COUNT(*)"
	case e.Distinct:
		return "COUNT(DISTINCT " + col + ")"
	}
	return e.Func + "(" + col + ")"
}

var (
	// Groups: 1 plain column, 2 function, 3 star, 4 DISTINCT column, 5 argument column.
	exprRe = regexp.MustCompile("^\\s*(?:`([^`]*)`|([A-Za-z_]+)\\s*\\(\\s*(?:(\\*|`\\*`)|(?i:DISTINCT)\\s+`([^`]*)`|`([^`]*)`)\\s*\\))\\s*$")
	colRe  = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

const exprGrammar = "want `column`, SUM|AVG|MIN|MAX|COUNT(`column`), COUNT(*) or COUNT(DISTINCT `column`)"

// ParseExpression parses a field expression, refusing anything outside the
// grammar described on Expression.
func ParseExpression(s string) (Expression, error) {
	m := exprRe.FindStringSubmatchIndex(s)
	if m == nil {
		if strings.TrimSpace(s) == "" {
			return Expression{}, fmt.Errorf("empty expression: %s", exprGrammar)
		}
		return Expression{}, fmt.Errorf("unsupported expression %q: %s", s, exprGrammar)
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return s[m[2*i]:m[2*i+1]], true
	}
	var e Expression
	if col, ok := group(1); ok {
		e.Column = col
	} else {
		name, _ := group(2)
		e.Func = strings.ToUpper(name)
		switch e.Func {
		case "SUM", "AVG", "MIN", "MAX", "COUNT":
		default:
			return Expression{}, fmt.Errorf("unsupported function %s in %q: %s", name, s, exprGrammar)
		}
		if _, star := group(3); star {
			if e.Func != "COUNT" {
				return Expression{}, fmt.Errorf("unsupported expression %q: only COUNT takes *", s)
			}
			return e, nil
		}
		if col, ok := group(4); ok {
			if e.Func != "COUNT" {
				return Expression{}, fmt.Errorf("unsupported expression %q: only COUNT takes DISTINCT", s)
			}
			e.Column, e.Distinct = col, true
		} else {
			e.Column, _ = group(5)
		}
	}
	if !colRe.MatchString(e.Column) {
		return Expression{}, fmt.Errorf("bad column name %q in %q: use only letters, digits and underscores", e.Column, s)
	}
	return e, nil
}
