package dashboard

import (
	"strings"
	"testing"
)

func TestParseExpression(t *testing.T) {
	ok := []struct {
		in, sql string
		agg     bool
	}{
		{"`month`", "`month`", false},
		{"  `Amount_2` ", "`Amount_2`", false},
		{"SUM(`amount`)", "SUM(`amount`)", true},
		{"sum( `amount` )", "SUM(`amount`)", true},
		{"AVG(`amount`)", "AVG(`amount`)", true},
		{"MIN(`amount`)", "MIN(`amount`)", true},
		{"Max(`amount`)", "MAX(`amount`)", true},
		{"COUNT(`country`)", "COUNT(`country`)", true},
		{"COUNT(*)", "COUNT(*)", true},
		{"COUNT(`*`)", "COUNT(*)", true}, // how Lakeview itself writes it
		{"count(distinct `country`)", "COUNT(DISTINCT `country`)", true},
		{"COUNT( DISTINCT   `country` )", "COUNT(DISTINCT `country`)", true},
	}
	for _, c := range ok {
		e, err := ParseExpression(c.in)
		if err != nil {
			t.Errorf("ParseExpression(%q): %v", c.in, err)
			continue
		}
		if e.SQL() != c.sql || e.Aggregate() != c.agg {
			t.Errorf("ParseExpression(%q) = %q aggregate=%v, want %q aggregate=%v", c.in, e.SQL(), e.Aggregate(), c.sql, c.agg)
		}
	}

	bad := []struct{ in, want string }{
		{"", "empty expression"},
		{"month", "unsupported expression"},
		{"`mon th`", "bad column name"},
		{"`a-b`", "bad column name"},
		{"``", "bad column name"},
		{"`a`; DROP TABLE sales", "unsupported expression"},
		{"`a` + `b`", "unsupported expression"},
		{"SUM(`a`) OVER ()", "unsupported expression"},
		{"MEDIAN(`amount`)", "unsupported function MEDIAN"},
		{"DATE_TRUNC(\"MONTH\", `d`)", "unsupported expression"},
		{"SUM(*)", "only COUNT takes *"},
		{"SUM(DISTINCT `a`)", "only COUNT takes DISTINCT"},
		{"COUNT(DISTINCT *)", "unsupported expression"},
		{"SUM(`amount`", "unsupported expression"},
		{"SUM(`a`)`b`", "unsupported expression"},
		{"`a`)--", "unsupported expression"},
		{"`é`", "bad column name"},
	}
	for _, c := range bad {
		_, err := ParseExpression(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseExpression(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}
