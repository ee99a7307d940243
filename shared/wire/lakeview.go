package wire

import "strings"

// The Lakeview (AI/BI dashboard) REST API, the SCIM service principal
// lookup and the service principal secrets proxy: the workspace APIs the
// doctor reads besides the token endpoints. A principal needs CAN READ or
// CAN RUN on a dashboard to read it.

// LakeviewDashboardPath is GET /api/2.0/lakeview/dashboards/{id}: the draft
// dashboard with its definition (serialized_dashboard).
func LakeviewDashboardPath(dashboardID string) string {
	return "/api/2.0/lakeview/dashboards/" + dashboardID
}

// PublishedDashboardPath is GET /api/2.0/lakeview/dashboards/{id}/published:
// the published revision, 404 when the dashboard is not published.
func PublishedDashboardPath(dashboardID string) string {
	return LakeviewDashboardPath(dashboardID) + "/published"
}

// LakeviewDashboard is the answer of GET LakeviewDashboardPath.
type LakeviewDashboard struct {
	DashboardID    string `json:"dashboard_id"`
	DisplayName    string `json:"display_name"`
	Path           string `json:"path,omitempty"`
	ParentPath     string `json:"parent_path,omitempty"`
	LifecycleState string `json:"lifecycle_state,omitempty"`
	WarehouseID    string `json:"warehouse_id,omitempty"`
	CreateTime     string `json:"create_time,omitempty"`
	UpdateTime     string `json:"update_time,omitempty"`
	Etag           string `json:"etag,omitempty"`
	// SerializedDashboard is the .lvdash.json definition as one string.
	SerializedDashboard string `json:"serialized_dashboard,omitempty"`
}

// PublishedDashboard is the answer of GET PublishedDashboardPath.
type PublishedDashboard struct {
	DisplayName string `json:"display_name"`
	WarehouseID string `json:"warehouse_id,omitempty"`
	// EmbedCredentials is true when the publisher's credentials are embedded
	// (Lakeview's default): every query runs with the publisher's
	// permissions, whoever views. False: queries run as the viewer, which
	// for external embedding is the service principal.
	EmbedCredentials   bool   `json:"embed_credentials"`
	RevisionCreateTime string `json:"revision_create_time,omitempty"`
}

// SerializedDashboard is the part of a serialized_dashboard the doctor
// reads: the datasets. Real files carry much more.
type SerializedDashboard struct {
	Datasets []SerializedDataset `json:"datasets"`
}

// SerializedDataset is one dataset of a serialized_dashboard: its SQL in
// queryLines, or in query in older files.
type SerializedDataset struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName,omitempty"`
	QueryLines  []string `json:"queryLines,omitempty"`
	Query       string   `json:"query,omitempty"`
	// Catalog and Schema, when the dashboard's editor set them, are where
	// the dataset's unqualified table names resolve; the isolation check
	// passes them to the statement execution API.
	Catalog string `json:"catalog,omitempty"`
	Schema  string `json:"schema,omitempty"`
}

// SQL is the dataset's query text: queryLines joined, a newline added
// after a line that lacks one (real files end each line with "\n"; a
// hand-written one may not, and a -- comment must not swallow the next).
func (d SerializedDataset) SQL() string {
	if len(d.QueryLines) == 0 {
		return d.Query
	}
	var b strings.Builder
	for i, l := range d.QueryLines {
		b.WriteString(l)
		if i < len(d.QueryLines)-1 && !strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Label is the display name, or the name when there is none.
func (d SerializedDataset) Label() string {
	if d.DisplayName != "" {
		return d.DisplayName
	}
	return d.Name
}

// PathSCIMServicePrincipals lists service principals; the doctor asks for
// its own with ?filter=applicationId eq "<id>" to learn its numeric id.
const PathSCIMServicePrincipals = "/api/2.0/preview/scim/v2/ServicePrincipals"

// SCIMListResponse is a SCIM list of service principals.
type SCIMListResponse struct {
	Schemas      []string               `json:"schemas,omitempty"`
	TotalResults int                    `json:"totalResults"`
	Resources    []SCIMServicePrincipal `json:"Resources"`
}

// SCIMServicePrincipal is one service principal in SCIM.
type SCIMServicePrincipal struct {
	ID            string `json:"id"`
	ApplicationID string `json:"applicationId"`
	DisplayName   string `json:"displayName,omitempty"`
	Active        bool   `json:"active"`
}

// SCIMListSchema names a SCIM list response.
const SCIMListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// SecretsPath is the workspace-level service principal secrets proxy:
// GET lists a service principal's OAuth secrets (never their values).
func SecretsPath(servicePrincipalID string) string {
	return "/api/2.0/accounts/servicePrincipals/" + servicePrincipalID + "/credentials/secrets"
}

// SecretList is the answer of GET SecretsPath.
type SecretList struct {
	Secrets       []SecretInfo `json:"secrets"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}

// SecretInfo describes one OAuth secret. ExpireTime is absent for a secret
// that does not expire.
type SecretInfo struct {
	ID         string `json:"id"`
	SecretHash string `json:"secret_hash,omitempty"`
	Status     string `json:"status"`
	CreateTime string `json:"create_time,omitempty"`
	UpdateTime string `json:"update_time,omitempty"`
	ExpireTime string `json:"expire_time,omitempty"`
}
