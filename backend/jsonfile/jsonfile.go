// Package jsonfile reads the JSON files people write for embedlab (the
// viewers file, the users file) strictly and says what is wrong in words:
// every unknown field at once, not only the first as
// json.Decoder.DisallowUnknownFields would, and a syntax error with the line
// and column an editor can jump to.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Object decodes a JSON object and returns its fields, and the keys that
// are not in known, sorted.
func Object(data []byte, known []string) (map[string]json.RawMessage, []string, error) {
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

// IsNull reports whether raw is JSON null.
func IsNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// DescribeError turns an error from decoding the whole file data into
// words, with a line and column for a syntax error.
func DescribeError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := Position(data, syn.Offset)
		return fmt.Sprintf("line %d, column %d: invalid JSON: %v", line, col, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("the file holds a JSON %s", typ.Value)
	}
	return err.Error()
}

// Position converts a byte offset in data into a 1-based line and column.
func Position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
