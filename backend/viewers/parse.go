package viewers

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"embedlab/backend/jsonfile"
)

// File fields. "_note" is free text for the file's reader, like the
// emulator's workspace.json has; every other unknown field is refused, so a
// misspelt "external_valeu" cannot silently leave a viewer without its
// row filter.
var (
	fileFields   = []string{"_note", "viewers"}
	viewerFields = []string{"id", "display_name", "external_value", "users"}
)

// Load reads and validates a viewers file.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("viewers file: %w", err)
	}
	return Parse(path, data)
}

// Parse validates a viewers file's contents; name is the file's name in
// error messages. The error has one line per problem, each naming the file
// and the JSON path, e.g. "viewers.json: viewers[1].id: ...".
func Parse(name string, data []byte) (*Set, error) {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", name, path, fmt.Sprintf(format, a...)))
	}

	top, unknown, err := jsonfile.Object(data, fileFields)
	if err != nil {
		return nil, fmt.Errorf("%s: %s; the file must be a JSON object {\"viewers\": [...]}", name, jsonfile.DescribeError(data, err))
	}
	for _, k := range unknown {
		bad(fieldName(k), "unknown field; the file's fields are %s", strings.Join(fileFields, ", "))
	}

	var items []json.RawMessage
	if raw, ok := top["viewers"]; !ok || jsonfile.IsNull(raw) {
		bad("viewers", "is missing: list at least one viewer")
	} else if err := json.Unmarshal(raw, &items); err != nil {
		bad("viewers", "must be an array of viewers")
	} else if len(items) == 0 {
		bad("viewers", "is empty: list at least one viewer")
	}

	var entries []entry
	firstAt := map[string]string{} // id -> path of its first use
	for i, raw := range items {
		path := fmt.Sprintf("viewers[%d]", i)
		e, ok := decodeEntry(raw, path, bad)
		if !ok {
			continue
		}
		l := labels{viewer: path, id: path + ".id", value: path + ".external_value",
			displayName: path + ".display_name", users: path + ".users"}
		for _, err := range checkEntry(e, l) {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		// The id itself is not repeated: it may be one refused as personal data.
		if first, dup := firstAt[e.ID]; dup && e.ID != "" {
			bad(l.id, "same id as %s.id: each external_viewer_id must be unique, because the audit log tells viewers apart by it", first)
		} else {
			firstAt[e.ID] = path
		}
		entries = append(entries, e)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return newSet(entries), nil
}

// decodeEntry decodes one viewer, reporting unknown fields and wrong types.
func decodeEntry(raw json.RawMessage, path string, bad func(path, format string, a ...any)) (entry, bool) {
	fields, unknown, err := jsonfile.Object(raw, viewerFields)
	if err != nil {
		bad(path, "must be an object with the fields %s", strings.Join(viewerFields, ", "))
		return entry{}, false
	}
	for _, k := range unknown {
		bad(path+"."+fieldName(k), "unknown field; a viewer's fields are %s", strings.Join(viewerFields, ", "))
	}
	var e entry
	ok := true
	for _, f := range []struct {
		key string
		dst any
		typ string
	}{
		{"id", &e.ID, "a string"},
		{"display_name", &e.DisplayName, "a string"},
		{"external_value", &e.ExternalValue, "a string"},
		{"users", &e.Users, "an array of login user names"},
	} {
		if raw, found := fields[f.key]; found {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				bad(path+"."+f.key, "must be %s", f.typ)
				ok = false
			}
		}
	}
	return e, ok
}

// FromEnv builds the single viewer of Databricks' sample apps from
// EXTERNAL_VIEWER_ID and EXTERNAL_VALUE; users are the login names allowed to
// act as it (typically every login user). It is validated like a file entry,
// errors naming the variables.
func FromEnv(viewerID, value string, users []string) (*Set, error) {
	e := entry{Viewer: Viewer{ID: viewerID, ExternalValue: value}, Users: slices.Clone(users)}
	l := labels{viewer: "EXTERNAL_VIEWER_ID and EXTERNAL_VALUE", id: "EXTERNAL_VIEWER_ID",
		value: "EXTERNAL_VALUE", displayName: "EXTERNAL_VIEWER_ID", users: "users allowed to act as EXTERNAL_VIEWER_ID"}
	if err := errors.Join(checkEntry(e, l)...); err != nil {
		return nil, err
	}
	return newSet([]entry{e}), nil
}

// fieldName shows a JSON key in a message: as it is when it is plain, else
// quoted, so an empty key or one with a newline cannot break the message's
// one-line-per-problem shape.
func fieldName(k string) string {
	if q := strconv.Quote(k); k == "" || q != `"`+k+`"` {
		return q
	}
	return k
}
