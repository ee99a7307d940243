package wire

// The SQL Statement Execution API and the SQL warehouses API: how a
// principal runs SQL on a warehouse with its own permissions. The isolation
// check runs a dashboard's datasets through them on a real workspace, and
// the emulator answers them on its SQLite data. Shapes and names follow the
// official SDK (databricks-sdk-go service/sql: ExecuteStatementRequest,
// StatementResponse, StatementStatus, ServiceError, ResultManifest,
// ResultSchema, ColumnInfo, ResultData, StatementParameterListItem,
// GetWarehouseResponse).

// PathStatements is POST /api/2.0/sql/statements: run one statement.
const PathStatements = "/api/2.0/sql/statements"

// StatementPath is GET /api/2.0/sql/statements/{id}: poll a statement.
func StatementPath(id string) string { return PathStatements + "/" + id }

// StatementCancelPath is POST /api/2.0/sql/statements/{id}/cancel. Its
// answer is empty: the caller polls to see the statement CANCELED.
func StatementCancelPath(id string) string { return StatementPath(id) + "/cancel" }

// WarehousePath is GET /api/2.0/sql/warehouses/{id}.
func WarehousePath(id string) string { return "/api/2.0/sql/warehouses/" + id }

// Statement states (status.state).
const (
	StatementPending   = "PENDING"   // waiting for the warehouse
	StatementRunning   = "RUNNING"   // running
	StatementSucceeded = "SUCCEEDED" // done, result available
	StatementFailed    = "FAILED"    // status.error says why
	StatementCanceled  = "CANCELED"  // a cancel call, or wait_timeout with on_wait_timeout CANCEL
	StatementClosed    = "CLOSED"    // succeeded, but the result is no longer available
)

// StatementDone reports whether a state is final: no poll changes it.
func StatementDone(state string) bool {
	switch state {
	case StatementSucceeded, StatementFailed, StatementCanceled, StatementClosed:
		return true
	}
	return false
}

// Values of ExecuteStatementRequest's enumerations.
const (
	DispositionInline      = "INLINE"
	FormatJSONArray        = "JSON_ARRAY"
	OnWaitTimeoutContinue  = "CONTINUE"
	OnWaitTimeoutCancel    = "CANCEL"
	ParameterTypeString    = "STRING"
	WarehouseStateRunning  = "RUNNING"
	WarehouseStateStopped  = "STOPPED"
	WarehouseStateStarting = "STARTING"
)

// Error codes of a failed statement (status.error.error_code, the SDK's
// ServiceErrorCode). A SQL error, a permission on a table included, is
// BAD_REQUEST with the SQL error class in the message, e.g.
// "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: ...".
const (
	StatementErrBadRequest      = "BAD_REQUEST"
	StatementErrCancelled       = "CANCELLED"
	StatementErrDeadline        = "DEADLINE_EXCEEDED"
	StatementErrInternal        = "INTERNAL_ERROR"
	StatementErrResourceExhaust = "RESOURCE_EXHAUSTED"
)

// ExecuteStatementRequest is the body of POST PathStatements.
type ExecuteStatementRequest struct {
	// Statement is the SQL; values go in Parameters, referred to as :name.
	Statement   string `json:"statement"`
	WarehouseID string `json:"warehouse_id"`
	// Parameters bind :name markers. A value is always a value, never SQL.
	Parameters []StatementParameter `json:"parameters,omitempty"`
	Catalog    string               `json:"catalog,omitempty"`
	Schema     string               `json:"schema,omitempty"`
	// WaitTimeout is "0s" (answer at once, poll) or "5s" to "50s" (wait up
	// to that long); the workspace's default is 10s.
	WaitTimeout string `json:"wait_timeout,omitempty"`
	// OnWaitTimeout is CONTINUE (default: keep running, poll) or CANCEL.
	OnWaitTimeout string `json:"on_wait_timeout,omitempty"`
	Disposition   string `json:"disposition,omitempty"` // INLINE (default) or EXTERNAL_LINKS
	Format        string `json:"format,omitempty"`      // JSON_ARRAY (default), ARROW_STREAM, CSV
	// RowLimit caps the rows, like LIMIT, but sets manifest.truncated when
	// there were more.
	RowLimit  int64 `json:"row_limit,omitempty"`
	ByteLimit int64 `json:"byte_limit,omitempty"`
}

// StatementParameter binds one :name marker. A nil Value is NULL; Type
// defaults to STRING.
type StatementParameter struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
	Type  string  `json:"type,omitempty"`
}

// StatementResponse is the answer of POST PathStatements and GET StatementPath.
type StatementResponse struct {
	StatementID string           `json:"statement_id,omitempty"`
	Status      *StatementStatus `json:"status,omitempty"`
	Manifest    *ResultManifest  `json:"manifest,omitempty"`
	Result      *ResultData      `json:"result,omitempty"`
}

// StatementStatus is a statement's state, and its error when it FAILED.
type StatementStatus struct {
	State string        `json:"state,omitempty"`
	Error *ServiceError `json:"error,omitempty"`
}

// ServiceError says why a statement failed.
type ServiceError struct {
	ErrorCode string `json:"error_code,omitempty"`
	Message   string `json:"message,omitempty"`
}

// ResultManifest describes a SUCCEEDED statement's result.
type ResultManifest struct {
	Format          string        `json:"format,omitempty"`
	Schema          *ResultSchema `json:"schema,omitempty"`
	TotalChunkCount int           `json:"total_chunk_count,omitempty"`
	TotalRowCount   int64         `json:"total_row_count,omitempty"`
	TotalByteCount  int64         `json:"total_byte_count,omitempty"`
	// Truncated is true when row_limit or byte_limit cut the result.
	Truncated bool `json:"truncated,omitempty"`
}

// ResultSchema lists the result's columns.
type ResultSchema struct {
	ColumnCount int          `json:"column_count,omitempty"`
	Columns     []ColumnInfo `json:"columns,omitempty"`
}

// ColumnInfo is one column of a result.
type ColumnInfo struct {
	Name     string `json:"name,omitempty"`
	Position int    `json:"position,omitempty"`
	TypeName string `json:"type_name,omitempty"`
	TypeText string `json:"type_text,omitempty"`
}

// ResultData is one chunk of an INLINE result. In JSON_ARRAY every value
// is its string form, or null.
type ResultData struct {
	ChunkIndex     int         `json:"chunk_index,omitempty"`
	RowOffset      int64       `json:"row_offset,omitempty"`
	RowCount       int64       `json:"row_count,omitempty"`
	ByteCount      int64       `json:"byte_count,omitempty"`
	DataArray      [][]*string `json:"data_array,omitempty"`
	NextChunkIndex int         `json:"next_chunk_index,omitempty"`
	// NextChunkInternalLink is the path of the next chunk, when there is one.
	NextChunkInternalLink string `json:"next_chunk_internal_link,omitempty"`
}

// Warehouse is the part of GET WarehousePath the isolation check reads.
type Warehouse struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	State         string `json:"state,omitempty"`
	ClusterSize   string `json:"cluster_size,omitempty"`
	CreatorName   string `json:"creator_name,omitempty"`
	WarehouseType string `json:"warehouse_type,omitempty"`
	// EnableServerlessCompute is true for a serverless warehouse.
	EnableServerlessCompute bool `json:"enable_serverless_compute,omitempty"`
}
