package api

import "time"

// PathDoctor runs the doctor against the configured workspace:
// GET /api/doctor[?isolation=1]; the answer is a DoctorReport.
const (
	PathDoctor     = "/api/doctor"
	QueryIsolation = "isolation"
	// QueryVia picks how the isolation check runs the datasets: "sql" (the
	// SQL Statement Execution API, as on a real workspace) or "embed" (the
	// emulator's embed query API); empty lets the server choose.
	QueryVia = "via"
)

// Statuses of a doctor check, an isolation dataset and a probe.
const (
	StatusPass = "pass"
	StatusWarn = "warn"
	StatusFail = "fail"
	StatusSkip = "skip"
)

// Check ids, in the order the doctor runs them.
const (
	CheckWorkspace   = "workspace"
	CheckClock       = "clock"
	CheckSecret      = "secret"
	CheckTokenInfo   = "tokeninfo"
	CheckScopedToken = "scoped_token"
	CheckOrigin      = "origin"
	CheckViewers     = "viewers"
	CheckAIBIClient  = "aibi_client"
	CheckDatasets    = "datasets"
	CheckCredentials = "credentials"
	CheckIsolation   = "isolation"
)

// DoctorReport is the doctor's checklist for one deployment.
type DoctorReport struct {
	InstanceURL string `json:"instance_url"`
	WorkspaceID string `json:"workspace_id"`
	DashboardID string `json:"dashboard_id"`
	// ClientID is the service principal's application id (never its secret).
	ClientID string `json:"client_id"`
	// Origin is the app origin checked against the workspace's embedding
	// settings ("" when none was given).
	Origin     string    `json:"origin,omitempty"`
	Emulated   bool      `json:"emulated"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	// OK is true when no check failed (warnings allowed): a deployment gate.
	OK     bool          `json:"ok"`
	Checks []DoctorCheck `json:"checks"`
	// Credentials says whose permissions the published dashboard's queries
	// run with, when the workspace said.
	Credentials *EmbedCredentials `json:"embed_credentials,omitempty"`
	// Isolation is the isolation check's table, when it was asked for.
	Isolation *IsolationReport `json:"isolation,omitempty"`
}

// DoctorCheck is one line of the checklist.
type DoctorCheck struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
	// Reason says what was found, Fix what to do when it is not a pass.
	Reason  string   `json:"reason"`
	Fix     string   `json:"fix,omitempty"`
	Details []string `json:"details,omitempty"`
}

// Embed credential modes of a published dashboard.
const (
	CredentialsPublisher = "publisher"
	CredentialsViewer    = "viewer"
)

// EmbedCredentials is how the dashboard was published.
type EmbedCredentials struct {
	// Mode is CredentialsPublisher (embed_credentials true) or
	// CredentialsViewer.
	Mode    string `json:"mode"`
	Meaning string `json:"meaning"`
}

// IsolationReport runs every dataset as each viewer: datasets are the
// table's rows, viewers its columns.
type IsolationReport struct {
	Status   string             `json:"status"`
	Reason   string             `json:"reason"`
	Fix      string             `json:"fix,omitempty"`
	Viewers  []IsolationViewer  `json:"viewers"`
	Datasets []IsolationDataset `json:"datasets"`
	// Probes are tokens that must get nothing at all.
	Probes []IsolationProbe `json:"probes"`
	// Method is how the datasets ran: MethodEmbedQuery or MethodStatements.
	Method string `json:"method,omitempty"`
	// RunsAs says whose permissions the queries ran with, and how that
	// differs from the embedded dashboard.
	RunsAs string `json:"runs_as,omitempty"`
	// WarehouseID is the warehouse the statements ran on (MethodStatements).
	WarehouseID string `json:"warehouse_id,omitempty"`
	// MissingGrants are the grants the caller lacks, and who can give them.
	MissingGrants []MissingGrant `json:"missing_grants,omitempty"`
	// Cancelled counts statements cancelled because the run was stopped or
	// a statement ran past its timeout.
	Cancelled int `json:"cancelled_statements,omitempty"`
}

// How the isolation check runs the datasets.
const (
	// MethodEmbedQuery: the emulator's embed page query API, with each
	// viewer's scoped token (real workspaces do not publish theirs).
	MethodEmbedQuery = "embed_query_api"
	// MethodStatements: the SQL Statement Execution API on the dashboard's
	// warehouse, with the caller's own token and the viewer's
	// external_value bound as a named parameter.
	MethodStatements = "sql_statements"
)

// MissingGrant is one permission the isolation check's caller lacks.
type MissingGrant struct {
	// Privilege is e.g. "CAN USE" or "SELECT".
	Privilege string `json:"privilege"`
	// Securable is what it is on, e.g. "SQL warehouse Starter Warehouse
	// (e0e0b1c2d3e4f5a6)" or "table main.embedlab.sales".
	Securable string `json:"securable"`
	// Principal lacks it (the service principal's application id).
	Principal string `json:"principal"`
	// GrantedBy says who can give it, How how.
	GrantedBy string `json:"granted_by"`
	How       string `json:"how"`
}

// IsolationViewer is one column of the table.
type IsolationViewer struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// Error says why no token could be got for this viewer.
	Error string `json:"error,omitempty"`
}

// Verdicts on one dataset.
const (
	VerdictIsolated  = "isolated"  // every viewer got rows of its own
	VerdictIdentical = "identical" // viewers with different values got the same rows
	VerdictOverlap   = "overlap"   // some rows reached viewers with different values
	VerdictEmpty     = "empty"     // a viewer got no rows
	VerdictError     = "error"     // a query failed
	VerdictSkipped   = "skipped"   // nothing to compare
)

// IsolationDataset is one row of the table.
type IsolationDataset struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	// UsesExternalValue: the dataset's SQL names __aibi_external_value.
	UsesExternalValue bool   `json:"uses_external_value"`
	Verdict           string `json:"verdict"`
	Status            string `json:"status"`
	Reason            string `json:"reason"`
	// Cells has one entry per viewer, in the order of Viewers.
	Cells []IsolationCell `json:"cells"`
}

// IsolationCell is what one viewer got from one dataset: counts and a
// fingerprint, never the rows themselves.
type IsolationCell struct {
	Rows      int  `json:"rows"`
	Truncated bool `json:"truncated,omitempty"`
	// Fingerprint is a short hash of the rows, order ignored: equal
	// fingerprints mean the same rows.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Shared counts rows that a viewer with another external_value got too.
	Shared int    `json:"shared,omitempty"`
	Error  string `json:"error,omitempty"`
	// StatementID is the last statement run for this cell (MethodStatements).
	StatementID string `json:"statement_id,omitempty"`
}

// IsolationProbe is one token the query API must refuse.
type IsolationProbe struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
	// HTTPStatus is the query API's answer, 0 when the probe did not run.
	HTTPStatus int    `json:"http_status,omitempty"`
	Reason     string `json:"reason"`
}
