package doctor

import "strings"

// externalValue is the identifier dataset SQL binds the viewer's value to.
const externalValue = "__aibi_external_value"

// scanExternalValue counts the bare uses of __aibi_external_value in
// dataset SQL, and its mentions anywhere (comments and string literals
// included), so a dataset that names it only in a comment is called out.
//
// It reads Databricks SQL the way its tokenizer does: '...' and "..."
// literals with backslash escapes and doubled quotes, `...` identifiers,
// -- and /* */ comments. The emulator's binder (backend/emulator/dashboard)
// reads SQLite's dialect and refuses SQL it cannot bind; this scan must
// read any real dashboard's datasets (named :parameters included), and the
// doctor must not pull the emulator's SQLite engine into the build without
// it, so it is its own small scanner.
func scanExternalValue(sql string) (uses, mentions int) {
	mentions = strings.Count(strings.ToLower(sql), externalValue)
	eachExternalValue(sql, func(int, int) { uses++ })
	return uses, mentions
}

// bindExternalValue turns each bare use of __aibi_external_value into the
// named parameter marker :name, so that the statement execution API binds
// the viewer's value as a value: it is never pasted into the SQL. It
// returns the statement and how many uses it replaced.
func bindExternalValue(sql, name string) (string, int) {
	var b strings.Builder
	last, n := 0, 0
	eachExternalValue(sql, func(i, j int) {
		b.WriteString(sql[last:i])
		b.WriteString(":" + name)
		last = j
		n++
	})
	b.WriteString(sql[last:])
	return b.String(), n
}

// hasMarker reports whether SQL already has the :name marker outside
// literals and comments.
func hasMarker(sql, name string) bool {
	found := false
	eachWord(sql, func(i, j int) {
		if i > 0 && sql[i-1] == ':' && strings.EqualFold(sql[i:j], name) {
			found = true
		}
	})
	return found
}

// eachExternalValue calls fn with the bounds of every bare use.
func eachExternalValue(sql string, fn func(i, j int)) {
	eachWord(sql, func(i, j int) {
		// A :name or $name parameter is not the identifier, nor t.name a column.
		if strings.EqualFold(sql[i:j], externalValue) && (i == 0 || (sql[i-1] != ':' && sql[i-1] != '$' && sql[i-1] != '.')) {
			fn(i, j)
		}
	})
}

// eachWord calls fn with the bounds of every identifier-like word outside
// literals, quoted identifiers and comments.
func eachWord(sql string, fn func(i, j int)) {
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, c)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(sql)
			}
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			fn(i, j)
			i = j
		default:
			i++
		}
	}
}

// skipQuoted returns the index after the literal or quoted identifier that
// starts at i: a doubled quote stays inside it, and so does a backslash
// escape in a string literal.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
