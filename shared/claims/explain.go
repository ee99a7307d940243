package claims

// Plain-words explanations for the token inspector. They say what each
// part of a workspace token means for the person embedding a dashboard.

// ClaimInfo explains one claim.
type ClaimInfo struct {
	Name    string
	Meaning string
}

// ClaimMeanings lists the claims of a workspace token in the order the
// inspector shows them.
var ClaimMeanings = []ClaimInfo{
	{"iss", "Issuer: the workspace's OIDC endpoint that signed the token. Consumers check it and the signature against its JWKS."},
	{"sub", "Subject: the principal the token acts as, here the service principal. The external viewer is not a workspace identity."},
	{"aud", "Audience: who the token is meant for."},
	{"client_id", "The OAuth client that asked for the token: the service principal's application id."},
	{"scope", "What the token may do, space separated. A scoped embed token carries only the narrow dashboard scopes, never all-apis."},
	{"iat", "Issued at: when the workspace made the token."},
	{"exp", "Expires at: after this the workspace refuses the token. The page asks for a new one 5 minutes before."},
	{"jti", "Token id: unique per token; the workspace's audit log names it."},
	{"custom_claim", "The external viewer: urn:aibi:external_data:<external_value>:<external_viewer_id>:<dashboard_id>. The workspace binds external_value into every dataset that uses __aibi_external_value."},
	{"authorization_details", "What the token is allowed to touch (RFC 9396): the workspace, SQL access, and this one dashboard as a runner."},
}

// ScopeMeanings explains the scopes a token may carry.
var ScopeMeanings = map[string]string{
	"all-apis":                          "Every REST API the principal may call. Broad: it stays on the server and never reaches a browser.",
	"dashboards.lakeview-embedded:read": "Load the embedded (published) dashboard.",
	"dashboards.query-execution":        "Run the dashboard's dataset queries, with the viewer's external_value bound in.",
	"settings:read":                     "Read the workspace settings the dashboard needs to render (theme, locale).",
	"sql.redash-config:read":            "Read the SQL configuration the dashboard's visualisations need.",
	"sql":                               "Databricks SQL: warehouses and queries (custom scope for Apps with user authorization).",
	"file.files":                        "Files in volumes and workspace files (custom scope for Apps).",
	"dashboards.genie":                  "Genie spaces (custom scope for Apps).",
	"offline_access":                    "A refresh token is issued with the access token.",
}

// PermissionSetMeanings explains the permission sets of
// authorization_details.
var PermissionSetMeanings = map[string]string{
	"permissionSets/workspace.workspace-access": "Enter the workspace.",
	"permissionSets/workspace.dbsql-access":     "Use Databricks SQL, which runs the dashboard's queries.",
	"permissionSets/dashboard.runner":           "Run this one published dashboard, and no other.",
}
