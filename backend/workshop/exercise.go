package workshop

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

//go:embed exercises/*.json
var bundled embed.FS

// Exercise is one exercise file. Every text may use the template fields of
// Vars, e.g. {{.Instance}}, and {{app "sales-api"}} for an app's URL.
type Exercise struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Goal       string     `json:"goal"`
	Hints      []string   `json:"hints"`
	Commands   []Command  `json:"commands"`
	Checkpoint Checkpoint `json:"checkpoint"`
	// Order sorts the list (then the id); 0 goes last.
	Order int `json:"order,omitempty"`
	// Whose log lines the checkpoint counts when participants have their
	// own identities: "" (their own only) or WhoseAny, for an exercise done
	// through embedlab's shared service principal, whose conditions then
	// name something only this participant uses (e.g. partner-{{.User}}).
	Whose string `json:"whose,omitempty"`
	// Requires names what the commands need beyond a browser (requires.go):
	// curl, jq, go, repo, base64. The page lists it and checks it first.
	Requires []string `json:"requires,omitempty"`

	file string
}

// Command is a terminal command to run.
type Command struct {
	Label string `json:"label,omitempty"`
	Shell string `json:"shell"`
}

// File is the file the exercise came from.
func (x *Exercise) File() string { return x.file }

// Vars are the values exercise texts are templated with.
type Vars struct {
	Instance    string // the workspace's URL
	AppsURL     string // the Apps proxy's base URL
	WorkspaceID string
	DashboardID string
	ClientID    string // the participant's service principal (else the embedding one's) application id
	// Secret is the participant's own service principal's secret (a demo
	// value of the emulated workspace, shown to that participant only);
	// empty without participants.
	Secret string
	// WorkspaceUser and WorkspacePassword are the participant's own
	// workspace user, for U2M; empty without participants.
	WorkspaceUser, WorkspacePassword string
	NoAccessID                       string // a service principal without CAN USE on sales-api
	AppURL                           string // embedlab's own URL
	User                             string // the signed-in participant
	// StateFile is where the service principals' (public demo) secrets are.
	StateFile string
	// Apps maps an app's name to its URL.
	Apps map[string]string
}

// WhoseAny counts every participant's log lines for a checkpoint.
const WhoseAny = "any"

var exerciseID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// FieldError is a problem in one field of one exercise file.
type FieldError struct {
	File, Field, Problem string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Problem)
	}
	return fmt.Sprintf("%s: field %s: %s", e.File, e.Field, e.Problem)
}

// Parse decodes and validates one exercise file; name is used in errors.
func Parse(name string, b []byte) (*Exercise, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var x Exercise
	if err := dec.Decode(&x); err != nil {
		return nil, &FieldError{File: name, Problem: describeJSONError(b, err)}
	}
	x.file = name
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, &FieldError{File: name, Field: field, Problem: fmt.Sprintf(format, a...)})
	}
	if !exerciseID.MatchString(x.ID) {
		bad("id", "%q must be 1-63 lowercase letters, digits or '-'", x.ID)
	}
	if strings.TrimSpace(x.Title) == "" {
		bad("title", "is required")
	}
	if strings.TrimSpace(x.Goal) == "" {
		bad("goal", "is required: say what the participant should achieve")
	}
	if x.Whose != "" && x.Whose != WhoseAny {
		bad("whose", "%q must be %q or left out (the participant's own calls only)", x.Whose, WhoseAny)
	}
	validateRequires(bad, x.Requires)
	if len(x.Commands) == 0 {
		bad("commands", "at least one command is required")
	}
	texts := map[string]string{"title": x.Title, "goal": x.Goal}
	for i, h := range x.Hints {
		texts[fmt.Sprintf("hints[%d]", i)] = h
	}
	for i, c := range x.Commands {
		if strings.TrimSpace(c.Shell) == "" {
			bad(fmt.Sprintf("commands[%d].shell", i), "is required")
		}
		texts[fmt.Sprintf("commands[%d].shell", i)] = c.Shell
		texts[fmt.Sprintf("commands[%d].label", i)] = c.Label
	}
	x.Checkpoint.validate(bad, texts)
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := render(texts[k], sampleVars); err != nil {
			bad(k, "%s", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &x, nil
}

// describeJSONError names the line and, for a wrong type, the field.
func describeJSONError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n")) + 1
		return fmt.Sprintf("not valid JSON at line %d: %s", line, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: must be a %s, not a JSON %s", te.Field, te.Type, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "not valid JSON: the file ends too early (a missing } or ]?)"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("unknown field %s (fields: id, title, goal, hints, commands, checkpoint, order, whose, requires)", f)
	}
	return msg
}

var sampleVars = Vars{Instance: "http://127.0.0.1:8000", AppsURL: "http://localhost:8001", WorkspaceID: "1",
	DashboardID: "d", ClientID: "c", Secret: "s", WorkspaceUser: "u@example.com", WorkspacePassword: "p", NoAccessID: "n", AppURL: "http://localhost:3000", User: "ada", StateFile: "workspace.json",
	Apps: map[string]string{}}

// render fills in a text's template fields.
func render(text string, v Vars) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"app": func(name string) string {
			if u, ok := v.Apps[name]; ok {
				return u
			}
			return "http://" + name + "-" + v.WorkspaceID + ".localhost:8001"
		},
	}).Parse(text)
	if err != nil {
		return "", fmt.Errorf("template: %s", strings.TrimPrefix(err.Error(), "template: :"))
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("template: %s (fields: .Instance .AppsURL .WorkspaceID .DashboardID .ClientID .Secret .WorkspaceUser .WorkspacePassword .NoAccessID .AppURL .User .StateFile, and {{app \"name\"}})",
			strings.TrimPrefix(err.Error(), "template: :"))
	}
	return buf.String(), nil
}

// Load reads the bundled exercises and, when dir is set, every *.json in
// it (a file with a bundled exercise's id replaces it). Every broken file
// is reported, each naming the file and the field.
func Load(dir string) ([]*Exercise, error) {
	var out []*Exercise
	var errs []error
	byID := map[string]int{}
	add := func(name string, b []byte, override bool) {
		x, err := Parse(name, b)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if i, ok := byID[x.ID]; ok {
			if !override || !strings.HasPrefix(out[i].file, "bundled:") {
				errs = append(errs, &FieldError{File: name, Field: "id", Problem: fmt.Sprintf("%q is also the id of %s", x.ID, out[i].file)})
				return
			}
			out[i] = x
			return
		}
		byID[x.ID] = len(out)
		out = append(out, x)
	}
	names, _ := fs.Glob(bundled, "exercises/*.json")
	for _, n := range names {
		b, _ := bundled.ReadFile(n)
		add("bundled:"+n, b, false)
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("exercises folder: %w", err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			add(f, b, true)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("exercise files:\n%w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, oj := out[i].Order, out[j].Order
		if oi == 0 {
			oi = 1 << 30
		}
		if oj == 0 {
			oj = 1 << 30
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
