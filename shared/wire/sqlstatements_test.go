package wire

import (
	"encoding/json"
	"slices"
	"testing"
)

// The JSON names of the SQL Statement Execution API as the official SDK
// (databricks-sdk-go v0.110.0, service/sql/model.go) spells them: a field
// renamed here would break the real-workspace path while the emulator,
// which shares these types, kept agreeing with it.
func TestStatementWireNamesMatchTheSDK(t *testing.T) {
	v := "EMEA"
	for _, tc := range []struct {
		name string
		val  any
		keys []string
	}{
		{"ExecuteStatementRequest", ExecuteStatementRequest{Statement: "s", WarehouseID: "w", Parameters: []StatementParameter{{}}, Catalog: "c",
			Schema: "s", WaitTimeout: "0s", OnWaitTimeout: "CONTINUE", Disposition: "INLINE", Format: "JSON_ARRAY", RowLimit: 1, ByteLimit: 1},
			[]string{"byte_limit", "catalog", "disposition", "format", "on_wait_timeout", "parameters", "row_limit", "schema", "statement", "wait_timeout", "warehouse_id"}},
		{"StatementParameterListItem", StatementParameter{Name: "n", Value: &v, Type: "STRING"}, []string{"name", "type", "value"}},
		{"StatementResponse", StatementResponse{StatementID: "i", Status: &StatementStatus{}, Manifest: &ResultManifest{}, Result: &ResultData{}},
			[]string{"manifest", "result", "statement_id", "status"}},
		{"StatementStatus", StatementStatus{State: "FAILED", Error: &ServiceError{}}, []string{"error", "state"}},
		{"ServiceError", ServiceError{ErrorCode: "BAD_REQUEST", Message: "m"}, []string{"error_code", "message"}},
		{"ResultManifest", ResultManifest{Format: "f", Schema: &ResultSchema{}, TotalChunkCount: 1, TotalRowCount: 1, TotalByteCount: 1, Truncated: true},
			[]string{"format", "schema", "total_byte_count", "total_chunk_count", "total_row_count", "truncated"}},
		{"ResultSchema", ResultSchema{ColumnCount: 1, Columns: []ColumnInfo{{}}}, []string{"column_count", "columns"}},
		{"ColumnInfo", ColumnInfo{Name: "n", Position: 1, TypeName: "STRING", TypeText: "STRING"}, []string{"name", "position", "type_name", "type_text"}},
		{"ResultData", ResultData{ChunkIndex: 1, RowOffset: 1, RowCount: 1, ByteCount: 1, DataArray: [][]*string{{&v, nil}}, NextChunkIndex: 2, NextChunkInternalLink: "l"},
			[]string{"byte_count", "chunk_index", "data_array", "next_chunk_index", "next_chunk_internal_link", "row_count", "row_offset"}},
		{"GetWarehouseResponse", Warehouse{ID: "i", Name: "n", State: "RUNNING", ClusterSize: "s", CreatorName: "c", WarehouseType: "PRO", EnableServerlessCompute: true},
			[]string{"cluster_size", "creator_name", "enable_serverless_compute", "id", "name", "state", "warehouse_type"}},
	} {
		b, err := json.Marshal(tc.val)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.keys) {
			t.Errorf("%s: keys %v, the SDK's %v", tc.name, got, tc.keys)
		}
	}
	// NULL in JSON_ARRAY stays distinct from the empty string.
	var d ResultData
	if err := json.Unmarshal([]byte(`{"data_array":[["", null]]}`), &d); err != nil || d.DataArray[0][0] == nil || d.DataArray[0][1] != nil {
		t.Errorf("data_array: %v %+v", err, d.DataArray)
	}
}
