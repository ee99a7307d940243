package viewers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// backend/session/jsonobj.go is a copy of this file: keep the two in step.

// object decodes a JSON object and returns its keys that are not in known,
// sorted, so every unknown field is reported rather than the first only
// (json.Decoder.DisallowUnknownFields stops at the first).
func object(data []byte, known []string) (map[string]json.RawMessage, []string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, errors.New("it is null")
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	return m, unknown, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// describeJSONError turns a decoding error of the whole file into words with
// a line and column, which an editor can jump to.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(data, syn.Offset)
		return fmt.Sprintf("line %d, column %d: invalid JSON: %v", line, col, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("the file holds a JSON %s", typ.Value)
	}
	return err.Error()
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
