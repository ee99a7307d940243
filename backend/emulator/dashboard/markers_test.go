package dashboard

import (
	"slices"
	"strings"
	"testing"
)

func TestNamedMarkers(t *testing.T) {
	for _, tc := range []struct {
		sql   string
		names []string
		err   string
	}{
		{"SELECT * FROM sales WHERE region = :region AND country = :c OR region = :region", []string{"region", "c"}, ""},
		{"SELECT ':not_a_marker', \":nor\", `:this`, [:one] FROM t -- :nor_here\n/* :nor_this */ WHERE a = :yes", []string{"yes"}, ""},
		{"SELECT 'it''s :x' WHERE b = :_y1;", []string{"_y1"}, ""},
		{"SELECT price$x FROM t", nil, ""},
		{"SELECT * FROM t WHERE a = ?", nil, "positional"},
		{"SELECT * FROM t WHERE a = ?1", nil, "positional"},
		{"SELECT * FROM t WHERE a = @a", nil, "use :name"},
		{"SELECT * FROM t WHERE a = $a", nil, "use :name"},
		{"SELECT * FROM t WHERE a = :1", nil, "starts with a letter"},
		{"SELECT 1; DELETE FROM t", nil, "more than one statement"},
		{"SELECT 'unterminated", nil, "unterminated"},
		{"SELECT 1 /* open", nil, "unterminated"},
	} {
		names, err := NamedMarkers(tc.sql)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.sql, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.sql, err, tc.err)
		case tc.err == "" && !slices.Equal(names, tc.names):
			t.Errorf("%q: %v, want %v", tc.sql, names, tc.names)
		}
	}
}
