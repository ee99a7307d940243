package dashboard

import (
	"fmt"
	"strings"
)

// NamedMarkers reads a statement the way SQLite's tokenizer does (string
// literals, quoted identifiers, comments) and returns the names of its
// :name parameter markers, each once, in order of first use. It refuses
// what the SQL Statement Execution API does not bind (positional ?
// markers) and what SQLite would take as a marker of another kind (@name,
// $name), so every marker of the statement is one the caller must bind by
// name, and a value is never SQL text. A second statement after ; is
// refused too: one request runs one statement.
func NamedMarkers(s string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	ended := false
	for i := 0; i < len(s); {
		c := s[i]
		if ended && !isSpace(c) && c != ';' && !strings.HasPrefix(s[i:], "--") && !strings.HasPrefix(s[i:], "/*") {
			return nil, fmt.Errorf("more than one statement (text after ; at %s): send one statement per request", where(s, i))
		}
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			j := endQuoted(s, i, closer)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %s starting at %s", quotedKind(c), where(s, i))
			}
			i = j
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated /* comment starting at %s", where(s, i))
			}
			i += 2 + j + 2
		case c == ':' && i+1 < len(s) && isIdentChar(s[i+1]):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			name := s[i+1 : j]
			if name[0] >= '0' && name[0] <= '9' || strings.Contains(name, "$") {
				return nil, fmt.Errorf("parameter marker %q at %s: a name starts with a letter or _ and holds letters, digits and _", s[i:j], where(s, i))
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
			i = j
		case c == '?':
			return nil, fmt.Errorf("positional parameter marker ? at %s: the Statement Execution API binds named markers only (:name)", where(s, i))
		case (c == '@' || c == '$' || c == '#') && i+1 < len(s) && isIdentChar(s[i+1]):
			return nil, fmt.Errorf("parameter marker %q at %s: use :name markers", paramAt(s, i), where(s, i))
		case c == ';':
			ended = true
			i++
		case isIdentChar(c):
			// A whole word, so that a $ inside an identifier is not a marker.
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
		default:
			i++
		}
	}
	return names, nil
}
