// Package doctor proves that a deployment of embedded dashboards is set up
// right, and that no external viewer sees another's rows, before a
// customer finds out otherwise.
//
// Doctor.Run checks the configured workspace, real or emulated, with only
// the HTTP APIs a real workspace has, and returns a checklist in which each
// line passes, fails, warns or is skipped, with the reason and the fix:
//
//	workspace     discovery answers (and names the configured WORKSPACE_ID)
//	clock         the workspace's Date header is within a minute of this host's clock
//	secret        client_credentials accepts the service principal's secret;
//	              when it expires, where SCIM and the secrets API say
//	tokeninfo     answers for the dashboard (else: unknown id, unpublished, no CAN RUN)
//	scoped_token  the exchange mints a token whose custom_claim names this
//	              dashboard, with the embed scopes, no all-apis, and a valid signature
//	origin        the embed page's CSP frame-ancestors allow the app's origin
//	viewers       every external_viewer_id is unique and not personal data
//	datasets      every dataset of the definition (GET /api/2.0/lakeview/dashboards/{id})
//	              uses __aibi_external_value; one that does not is named unfiltered
//	credentials   published with the publisher's or the viewer's credentials,
//	              and what that means
//
// With Options.Isolation it also runs every dataset as each of two or more
// viewers and reports per dataset whether the rows differ, are identical,
// overlap or are empty. On a real workspace (Options.Via ViaStatements) the
// datasets' SQL goes to the SQL Statement Execution API on the dashboard's
// warehouse with the viewer's external_value bound as a named parameter,
// as the caller (the service principal), not the publisher: statements are
// polled, capped, cancelled when the run stops, and a refusal names the
// missing grant and who can give it (isolation_statements.go,
// statements.go). On the emulator (ViaEmbedQuery) they go through the
// scoped tokens the embed page would get and the emulator's query API, and
// tokens that must get nothing (none, expired, forged, tampered, the
// service principal's own, another dashboard's) are sent too and must be
// refused.
//
// The package does not import the emulator, so the build without it (the
// Databricks App) has the doctor too.
package doctor
