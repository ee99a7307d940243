package dashboard

import (
	"errors"
	"fmt"
	"strings"
)

// ExternalValueIdentifier is the identifier dataset SQL uses for the
// viewer's external_value. It is matched ASCII-case-insensitively, as SQL
// matches unquoted identifiers.
const ExternalValueIdentifier = "__aibi_external_value"

// Bound is dataset SQL ready to run: every bare __aibi_external_value
// replaced by a ? placeholder, and one argument per placeholder.
type Bound struct {
	SQL  string
	Args []any
}

// BindExternalValue rewrites sqlText so the external value is a bound
// parameter, never SQL text: the value appears only in Args, once per use.
// Occurrences inside string literals, quoted identifiers and comments are
// left alone, as SQLite reads them.
func BindExternalValue(sqlText, externalValue string) (Bound, error) {
	out, n, err := rewriteExternalValue(sqlText)
	if err != nil {
		return Bound{}, err
	}
	args := make([]any, n)
	for i := range args {
		args[i] = externalValue
	}
	return Bound{SQL: out, Args: args}, nil
}

// UsesExternalValue reports whether the dataset's SQL names
// __aibi_external_value as a bare identifier, i.e. whether its rows depend
// on the viewer. SQL that does not scan (see checkDatasetSQL) counts the
// uses before the fault.
func (ds Dataset) UsesExternalValue() bool {
	_, n, _ := rewriteExternalValue(ds.SQL)
	return n > 0
}

// rewriteExternalValue scans SQL the way SQLite's tokenizer does (string
// literals '...', quoted identifiers "..." `...` [...], -- and /* */
// comments) and replaces each bare __aibi_external_value with ?, returning
// how many it replaced. The scan must agree with SQLite: if it thought a
// literal ended where SQLite does not, text it left alone would be live SQL.
// It refuses SQL it cannot place safely: unterminated literals or comments,
// a second statement after ;, and parameter markers of its own (?, :name,
// @name, $name, #name), which would shift the positional arguments.
// A trailing ; is dropped so the SQL can be wrapped as a subquery.
func rewriteExternalValue(s string) (string, int, error) {
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	ended := false // a ; was seen: only blanks and comments may follow
	for i := 0; i < len(s); {
		c := s[i]
		if ended && !isSpace(c) && c != ';' && !strings.HasPrefix(s[i:], "--") && !strings.HasPrefix(s[i:], "/*") {
			return "", n, fmt.Errorf("more than one statement (text after ; at %s): a dataset is a single SELECT", where(s, i))
		}
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			j := endQuoted(s, i, closer)
			if j < 0 {
				return "", n, fmt.Errorf("unterminated %s starting at %s", quotedKind(c), where(s, i))
			}
			b.WriteString(s[i:j])
			i = j
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return "", n, fmt.Errorf("unterminated /* comment starting at %s", where(s, i))
			}
			b.WriteString(s[i : i+2+j+2])
			i += 2 + j + 2
		case c == '?' || ((c == ':' || c == '@' || c == '$' || c == '#') && i+1 < len(s) && isIdentChar(s[i+1])):
			return "", n, fmt.Errorf("parameter marker %q at %s: dataset SQL may not have its own parameters; use %s for the viewer's value", paramAt(s, i), where(s, i), ExternalValueIdentifier)
		case c == ';':
			ended = true
			i++
		case isIdentChar(c):
			// A whole word, so that x__aibi_external_value or a number like
			// 1__aibi_external_value is not split apart.
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := s[i:j]
			// t.__aibi_external_value is a column of t, not the parameter.
			if asciiEqualFold(word, ExternalValueIdentifier) && (i == 0 || s[i-1] != '.') {
				b.WriteByte('?')
				n++
			} else {
				b.WriteString(word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimRight(b.String(), " \t\r\n\f"), n, nil
}

// endQuoted returns the index just past the quote closing the one at i, or
// -1. A doubled closing quote is an escaped quote (SQLite has no backslash
// escapes); brackets have no escape at all.
func endQuoted(s string, i int, closer byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] != closer {
			continue
		}
		if closer != ']' && j+1 < len(s) && s[j+1] == closer {
			j++
			continue
		}
		return j + 1
	}
	return -1
}

// isIdentChar is SQLite's: ASCII letters, digits, _, $ and every byte of a
// multi-byte UTF-8 character.
func isIdentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// asciiEqualFold is SQLite's identifier comparison. strings.EqualFold would
// also match Unicode look-alikes (e.g. K, KELVIN SIGN), which SQLite does not.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func quotedKind(c byte) string {
	switch c {
	case '\'':
		return "string literal"
	case '[':
		return "[identifier]"
	}
	return "quoted identifier " + string(c) + "..." + string(c)
}

func paramAt(s string, i int) string {
	j := i + 1
	for j < len(s) && isIdentChar(s[j]) && j-i < 40 {
		j++
	}
	return s[i:j]
}

// where names a byte offset of SQL text as a line and column.
func where(s string, i int) string {
	line, col := position([]byte(s), int64(i))
	return fmt.Sprintf("line %d, column %d of the SQL", line, col)
}

// checkDatasetSQL validates dataset SQL when a definition is parsed and
// returns it with any trailing semicolon removed.
func checkDatasetSQL(sqlText string) (string, error) {
	if _, _, err := rewriteExternalValue(sqlText); err != nil {
		return sqlText, err
	}
	// Widgets wrap the SQL as a subquery, so anything but a query would fail
	// there anyway; saying so here gives a clearer message.
	first := strings.ToUpper(firstWord(sqlText))
	if first != "SELECT" && first != "WITH" && first != "VALUES" {
		if first == "" {
			return sqlText, errors.New("the dataset has no SQL")
		}
		return sqlText, fmt.Errorf("the dataset SQL starts with %q: it must be a single SELECT (or WITH ... SELECT) statement", clipText(first, 40))
	}
	out := strings.TrimRight(sqlText, " \t\r\n\f")
	for strings.HasSuffix(out, ";") {
		out = strings.TrimRight(strings.TrimSuffix(out, ";"), " \t\r\n\f")
	}
	return out, nil
}

// firstWord returns the first token of SQL after blanks and comments (a
// word, or one punctuation byte).
func firstWord(s string) string {
	for i := 0; i < len(s); {
		switch {
		case isSpace(s[i]):
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return ""
			}
			i += 2 + j + 2
		case isIdentChar(s[i]):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			return s[i:j]
		default:
			return s[i : i+1]
		}
	}
	return ""
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
