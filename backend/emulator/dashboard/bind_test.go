package dashboard

import (
	"strings"
	"testing"
)

func TestBindExternalValue(t *testing.T) {
	cases := []struct {
		name, in, out string
		n             int
	}{
		{"plain", "SELECT * FROM sales WHERE region = __aibi_external_value",
			"SELECT * FROM sales WHERE region = ?", 1},
		{"twice", "SELECT * FROM t WHERE a = __aibi_external_value OR b = __aibi_external_value",
			"SELECT * FROM t WHERE a = ? OR b = ?", 2},
		{"no spaces", "SELECT 1 WHERE x=__aibi_external_value||'a'", "SELECT 1 WHERE x=?||'a'", 1},
		{"case-insensitive", "SELECT __AIBI_External_Value", "SELECT ?", 1},
		{"in parentheses", "SELECT * FROM t WHERE r IN (__aibi_external_value)", "SELECT * FROM t WHERE r IN (?)", 1},
		{"unused", "SELECT * FROM sales", "SELECT * FROM sales", 0},
		{"string literal", "SELECT '__aibi_external_value' AS s", "SELECT '__aibi_external_value' AS s", 0},
		{"literal with doubled quote", "SELECT 'it''s __aibi_external_value', __aibi_external_value",
			"SELECT 'it''s __aibi_external_value', ?", 1},
		{"double-quoted identifier", `SELECT "__aibi_external_value" FROM t`, `SELECT "__aibi_external_value" FROM t`, 0},
		{"backquoted identifier", "SELECT `__aibi_external_value` FROM t", "SELECT `__aibi_external_value` FROM t", 0},
		{"bracketed identifier", "SELECT [__aibi_external_value] FROM t", "SELECT [__aibi_external_value] FROM t", 0},
		{"line comment", "SELECT 1 -- __aibi_external_value\nWHERE r = __aibi_external_value",
			"SELECT 1 -- __aibi_external_value\nWHERE r = ?", 1},
		{"block comment", "SELECT /* __aibi_external_value */ 1", "SELECT /* __aibi_external_value */ 1", 0},
		{"longer word", "SELECT x__aibi_external_value, __aibi_external_value_2, __aibi_external_value$",
			"SELECT x__aibi_external_value, __aibi_external_value_2, __aibi_external_value$", 0},
		{"number prefix", "SELECT 1__aibi_external_value", "SELECT 1__aibi_external_value", 0},
		{"qualified column", "SELECT t.__aibi_external_value FROM t", "SELECT t.__aibi_external_value FROM t", 0},
		{"unicode look-alike", "SELECT __aibi_external_vaLue, __aıbi_external_value", "SELECT ?, __aıbi_external_value", 1},
		{"trailing semicolon", "SELECT __aibi_external_value;\n", "SELECT ?", 1},
		{"semicolon then comment", "SELECT 1; -- done", "SELECT 1 -- done", 0},
		{"semicolon in literal", "SELECT ';DROP' AS s", "SELECT ';DROP' AS s", 0},
		{"question mark in literal", "SELECT '?' AS s", "SELECT '?' AS s", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := BindExternalValue(c.in, "EMEA")
			if err != nil {
				t.Fatal(err)
			}
			if b.SQL != c.out {
				t.Errorf("SQL = %q, want %q", b.SQL, c.out)
			}
			if len(b.Args) != c.n {
				t.Errorf("%d args, want %d", len(b.Args), c.n)
			}
			for _, a := range b.Args {
				if a != "EMEA" {
					t.Errorf("arg %v, want EMEA", a)
				}
			}
			if got := (Dataset{SQL: c.in}).UsesExternalValue(); got != (c.n > 0) {
				t.Errorf("UsesExternalValue = %v, want %v", got, c.n > 0)
			}
		})
	}
}

func TestBindRefuses(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unterminated literal", "SELECT 'abc", "unterminated string literal starting at line 1, column 8"},
		{"unterminated identifier", "SELECT \"abc", "unterminated quoted identifier"},
		{"unterminated bracket", "SELECT [abc", "unterminated [identifier]"},
		{"unterminated comment", "SELECT 1\n/* x", "unterminated /* comment starting at line 2, column 1"},
		{"second statement", "SELECT 1; DELETE FROM sales", "more than one statement"},
		{"positional parameter", "SELECT * FROM t WHERE a = ?", `parameter marker "?"`},
		{"numbered parameter", "SELECT ?1", `parameter marker "?1"`},
		{"named parameter", "SELECT * FROM t WHERE a = :region", `parameter marker ":region"`},
		{"at parameter", "SELECT @region", `parameter marker "@region"`},
		{"dollar parameter", "SELECT $region", `parameter marker "$region"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := BindExternalValue(c.in, "EMEA")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestCheckDatasetSQL(t *testing.T) {
	good := map[string]string{
		"SELECT 1":         "SELECT 1",
		"  select 1 ;; \n": "  select 1",
		"-- note\nWITH a AS (SELECT 1) SELECT * FROM a": "-- note\nWITH a AS (SELECT 1) SELECT * FROM a",
		"/* c */ VALUES (1)":                            "/* c */ VALUES (1)",
	}
	for in, want := range good {
		got, err := checkDatasetSQL(in)
		if err != nil || got != want {
			t.Errorf("checkDatasetSQL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                         "has no SQL",
		"-- only a comment":        "has no SQL",
		"DELETE FROM sales":        `starts with "DELETE"`,
		"(SELECT 1)":               `starts with "("`,
		"SELECT 1; SELECT 2":       "more than one statement",
		"SELECT 'x":                "unterminated",
		"PRAGMA table_info(sales)": `starts with "PRAGMA"`,
	}
	for in, want := range bad {
		if _, err := checkDatasetSQL(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkDatasetSQL(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
