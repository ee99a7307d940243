package jsonfile_test

import (
	"encoding/json"
	"slices"
	"testing"

	"embedlab/backend/jsonfile"
)

func TestObjectReportsEveryUnknownField(t *testing.T) {
	m, unknown, err := jsonfile.Object([]byte(`{"b":1,"name":"x","a":null}`), []string{"name"})
	if err != nil || len(m) != 3 || !slices.Equal(unknown, []string{"a", "b"}) || !jsonfile.IsNull(m["a"]) || jsonfile.IsNull(m["name"]) {
		t.Fatalf("Object = %v, %v, %v", m, unknown, err)
	}
	if _, _, err := jsonfile.Object([]byte(`null`), nil); err == nil {
		t.Fatal("null accepted as an object")
	}
}

func TestDescribeErrorNamesLineAndColumn(t *testing.T) {
	data := []byte("{\n  \"viewers\": [\n    {\"id\": }\n  ]\n}")
	var v any
	err := json.Unmarshal(data, &v)
	if got, want := jsonfile.DescribeError(data, err), "line 3, column 13: invalid JSON: invalid character '}' looking for beginning of value"; got != want {
		t.Fatalf("DescribeError = %q, want %q", got, want)
	}
	var m map[string]any
	err = json.Unmarshal([]byte(`[1]`), &m)
	if got := jsonfile.DescribeError([]byte(`[1]`), err); got != "the file holds a JSON array" {
		t.Fatalf("DescribeError = %q", got)
	}
}
