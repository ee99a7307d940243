package workshop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Logs a checkpoint step can look at.
const (
	LogRequest = "request" // every request to the workspace (tokens redacted)
	LogAudit   = "audit"   // tokens issued, dashboards loaded, apps called
)

// Fields each log's entries have. A request's query parameters are the
// fields "query.<name>".
var logFields = map[string][]string{
	LogRequest: {"method", "path", "query", "status", "principal", "error", "app", "fault", "owner"},
	LogAudit:   {"action", "external_viewer_id", "dashboard_id", "client_id", "principal", "scope", "app", "path", "status", "owner"},
}

// Entry is one log line as the matcher sees it: named string fields.
type Entry struct {
	Log    string
	Seq    int64
	Time   time.Time
	Fields map[string]string
}

// Checkpoint is what the workspace's logs must show, in order, after the
// exercise was started.
type Checkpoint struct {
	// Description says in words what is checked.
	Description string `json:"description"`
	Steps       []Step `json:"steps"`
	// NearMisses are attempts that went wrong in a known way; when one is
	// seen and the checkpoint is not met, its hint is shown.
	NearMisses []NearMiss `json:"near_misses,omitempty"`
}

// Step is one entry that must appear, after the previous step's.
type Step struct {
	// Expect says what the step is, e.g. "a 200 from tokeninfo".
	Expect string          `json:"expect"`
	Log    string          `json:"log"`
	Where  map[string]Cond `json:"where"`
	// Capture names fields of the matched entry for later steps'
	// "same_as" conditions, e.g. {"caller": "principal"}.
	Capture map[string]string `json:"capture,omitempty"`
	// Hint is shown when this is the first step not seen.
	Hint string `json:"hint"`
}

// NearMiss is a known wrong attempt and what to say about it.
type NearMiss struct {
	Log   string          `json:"log"`
	Where map[string]Cond `json:"where"`
	Hint  string          `json:"hint"`
}

// Cond is a condition on one field: a JSON string means equals; an object
// has exactly one operator.
type Cond struct {
	Equals   *string  `json:"equals,omitempty"`
	Prefix   string   `json:"prefix,omitempty"`
	Contains string   `json:"contains,omitempty"`
	Regex    string   `json:"regex,omitempty"`
	HasWord  string   `json:"has_word,omitempty"` // a word of a space-separated list, e.g. a scope
	In       []string `json:"in,omitempty"`
	NotIn    []string `json:"not_in,omitempty"`
	SameAs   string   `json:"same_as,omitempty"` // a value captured by an earlier step
	Absent   bool     `json:"absent,omitempty"`  // the field is empty or missing

	re *regexp.Regexp
}

// UnmarshalJSON accepts a string (equals) or an object with one operator.
func (c *Cond) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		c.Equals = &s
		return nil
	}
	type plain Cond
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("a condition is a string or an object with one of equals, prefix, contains, regex, has_word, in, not_in, same_as, absent: %w", err)
	}
	*c = Cond(p)
	return nil
}

func (c *Cond) operators() int {
	n := 0
	for _, set := range []bool{c.Equals != nil, c.Prefix != "", c.Contains != "", c.Regex != "", c.HasWord != "", c.In != nil, c.NotIn != nil, c.SameAs != "", c.Absent} {
		if set {
			n++
		}
	}
	return n
}

func validateWhere(bad func(field, format string, a ...any), field, log string, where map[string]Cond, captured map[string]bool, texts map[string]string) {
	if _, ok := logFields[log]; !ok {
		bad(field+".log", "%q must be %q or %q", log, LogRequest, LogAudit)
		return
	}
	if len(where) == 0 {
		bad(field+".where", "at least one condition is required")
	}
	for _, k := range slices.Sorted(maps.Keys(where)) {
		c := where[k]
		f := field + ".where." + k
		known := strings.HasPrefix(k, "query.") && log == LogRequest
		for _, lf := range logFields[log] {
			known = known || lf == k
		}
		if !known {
			bad(f, "the %s log has no field %q (fields: %s)", log, k, strings.Join(logFields[log], ", "))
		}
		if n := c.operators(); n != 1 {
			bad(f, "has %d operators; use exactly one", n)
		}
		if c.Regex != "" {
			re, err := regexp.Compile(c.Regex)
			if err != nil {
				bad(f+".regex", "%s", err)
			}
			c.re = re
			where[k] = c
		}
		if c.SameAs != "" && !captured[c.SameAs] {
			bad(f+".same_as", "%q is not captured by an earlier step", c.SameAs)
		}
		for _, v := range append(append([]string{c.Prefix, c.Contains, c.HasWord}, c.In...), c.NotIn...) {
			texts[f] += v
		}
		if c.Equals != nil {
			texts[f] += *c.Equals
		}
	}
}

func (cp *Checkpoint) validate(bad func(field, format string, a ...any), texts map[string]string) {
	if strings.TrimSpace(cp.Description) == "" {
		bad("checkpoint.description", "is required: say what the checkpoint checks")
	}
	if len(cp.Steps) == 0 {
		bad("checkpoint.steps", "at least one step is required")
	}
	captured := map[string]bool{}
	for i, s := range cp.Steps {
		f := fmt.Sprintf("checkpoint.steps[%d]", i)
		if strings.TrimSpace(s.Expect) == "" {
			bad(f+".expect", "is required: say what this step looks for")
		}
		if strings.TrimSpace(s.Hint) == "" {
			bad(f+".hint", "is required: what to try when this step is not seen")
		}
		validateWhere(bad, f, s.Log, s.Where, captured, texts)
		for _, name := range slices.Sorted(maps.Keys(s.Capture)) {
			field := s.Capture[name]
			known := strings.HasPrefix(field, "query.") && s.Log == LogRequest
			for _, lf := range logFields[s.Log] {
				known = known || lf == field
			}
			if !known {
				bad(f+".capture."+name, "the %s log has no field %q", s.Log, field)
			}
			captured[name] = true
		}
		texts[f+".expect"], texts[f+".hint"] = s.Expect, s.Hint
	}
	for i, m := range cp.NearMisses {
		f := fmt.Sprintf("checkpoint.near_misses[%d]", i)
		if strings.TrimSpace(m.Hint) == "" {
			bad(f+".hint", "is required")
		}
		validateWhere(bad, f, m.Log, m.Where, map[string]bool{}, texts)
		texts[f+".hint"] = m.Hint
	}
	texts["checkpoint.description"] = cp.Description
}

// matches reports whether e satisfies every condition, with string values
// templated by fill.
func matches(e Entry, where map[string]Cond, captured map[string]string, fill func(string) string) bool {
	for k, c := range where {
		v := e.Fields[k]
		if !c.holds(v, captured, fill) {
			return false
		}
	}
	return true
}

func (c Cond) holds(v string, captured map[string]string, fill func(string) string) bool {
	switch {
	case c.Equals != nil:
		return v == fill(*c.Equals)
	case c.Prefix != "":
		return strings.HasPrefix(v, fill(c.Prefix))
	case c.Contains != "":
		return strings.Contains(v, fill(c.Contains))
	case c.Regex != "":
		re := c.re
		if re == nil {
			re = regexp.MustCompile(c.Regex) // validated
		}
		return re.MatchString(v)
	case c.HasWord != "":
		for _, w := range strings.Fields(v) {
			if w == fill(c.HasWord) {
				return true
			}
		}
		return false
	case c.In != nil:
		for _, x := range c.In {
			if v == fill(x) {
				return true
			}
		}
		return false
	case c.NotIn != nil:
		if v == "" {
			return false
		}
		for _, x := range c.NotIn {
			if v == fill(x) {
				return false
			}
		}
		return true
	case c.SameAs != "":
		want, ok := captured[c.SameAs]
		return ok && v == want
	case c.Absent:
		return v == ""
	}
	return false
}

// Result is what a check found.
type Result struct {
	Passed bool
	// Seen describes the entries that matched each step met, in order.
	Seen []string
	// Missing is the first step not seen; Hint what to try.
	Missing string
	Hint    string
}

// Evaluate runs the checkpoint over the entries of both logs. Steps must
// match in order: a step's entry must come after the previous step's (by
// sequence within one log, by time across logs). Every candidate for a
// step is tried, so an early entry that leads nowhere (a 403 for another
// caller) does not hide a later one that does.
func (cp *Checkpoint) Evaluate(entries []Entry, fill func(string) string) Result {
	byLog := map[string][]Entry{}
	for _, e := range entries {
		byLog[e.Log] = append(byLog[e.Log], e)
	}
	for _, l := range byLog {
		sort.Slice(l, func(i, j int) bool { return l[i].Seq < l[j].Seq })
	}
	deepest, deepSeen := 0, []string(nil)
	var try func(step int, prev *Entry, captured map[string]string, seen []string) bool
	try = func(step int, prev *Entry, captured map[string]string, seen []string) bool {
		if step > deepest || deepSeen == nil {
			deepest, deepSeen = step, append([]string{}, seen...)
		}
		if step == len(cp.Steps) {
			return true
		}
		s := cp.Steps[step]
		for i := range byLog[s.Log] {
			e := &byLog[s.Log][i]
			if prev != nil {
				// Across logs, a second's leeway: the audit log may run
				// on the workspace's skewed clock.
				if (prev.Log == s.Log && e.Seq <= prev.Seq) || (prev.Log != s.Log && e.Time.Before(prev.Time.Add(-time.Second))) {
					continue
				}
			}
			if !matches(*e, s.Where, captured, fill) {
				continue
			}
			next := map[string]string{}
			for k, v := range captured {
				next[k] = v
			}
			for name, field := range s.Capture {
				next[name] = e.Fields[field]
			}
			if try(step+1, e, next, append(seen, fill(s.Expect)+": "+describe(*e))) {
				return true
			}
		}
		return false
	}
	if try(0, nil, map[string]string{}, nil) {
		return Result{Passed: true, Seen: deepSeen}
	}
	res := Result{Seen: deepSeen}
	s := cp.Steps[deepest]
	res.Missing, res.Hint = fill(s.Expect), fill(s.Hint)
	for _, m := range cp.NearMisses {
		if hit := lastMatch(byLog[m.Log], m.Where, fill); hit != nil {
			res.Hint = fill(m.Hint)
			res.Seen = append(res.Seen, "seen instead: "+describe(*hit))
			break
		}
	}
	return res
}

func lastMatch(es []Entry, where map[string]Cond, fill func(string) string) *Entry {
	for i := len(es) - 1; i >= 0; i-- {
		if matches(es[i], where, nil, fill) {
			return &es[i]
		}
	}
	return nil
}

// describe is one line about an entry, for people.
func describe(e Entry) string {
	f := e.Fields
	at := e.Time.Local().Format("15:04:05")
	if e.Log == LogAudit {
		s := f["action"]
		for _, k := range []string{"external_viewer_id", "principal", "app", "scope", "status"} {
			if f[k] != "" {
				s += " " + k + "=" + f[k]
			}
		}
		return s + " at " + at
	}
	s := f["method"] + " " + f["path"] + " → " + f["status"]
	if f["error"] != "" {
		s += " " + f["error"]
	}
	return s + " at " + at
}
