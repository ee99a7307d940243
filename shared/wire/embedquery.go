package wire

// The embed page's query API. A real workspace's embedded dashboard calls
// internal APIs that are not documented; embedlab's emulator stands in for
// them with these routes, checked exactly as the page's render route is: the
// viewer's scoped token as a bearer token, external_value bound from its
// custom_claim.

// EmbedDatasetPath is GET .../datasets/{name}: one dataset's rows as the
// token's viewer sees them, for the isolation check.
func EmbedDatasetPath(dashboardID, dataset string) string {
	return "/embed/api/dashboards/" + dashboardID + "/datasets/" + dataset
}

// DatasetResult is the answer of GET EmbedDatasetPath.
type DatasetResult struct {
	DashboardID      string   `json:"dashboard_id"`
	Dataset          string   `json:"dataset"`
	ExternalViewerID string   `json:"external_viewer_id"`
	Columns          []string `json:"columns"`
	Rows             [][]any  `json:"rows"`
	// Truncated is true when the dataset had more rows than were returned.
	Truncated bool `json:"truncated,omitempty"`
}
