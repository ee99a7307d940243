// Package wire is embedlab's reference for what a Databricks workspace
// speaks, and the Go names for it: every request, answer, token and message
// the kit sends or answers. The emulator answers with these types and names,
// and the broker, the Apps caller, the doctor and the browser frame use
// them, so a field renamed on one side breaks both at once, and the same
// client code runs against the emulator and a real workspace. Code elsewhere
// that cites "the wire reference" means this documentation, by section.
//
// What follows is real Databricks' behaviour as the team has established
// it. Where a point comes only from watching real clients it says
// "observed": keep to it, but tolerate extra fields. Where this text and the
// official SDKs' or @databricks/aibi-client's published source disagree,
// the published source wins, and this text is to be corrected.
//
// The package compiles for the browser (GOOS=js) as well as the host: it
// imports nothing beyond the standard library's encoding and text packages.
//
// # Dashboard embedding for external users
//
// A deployment is described by the variables of Databricks' own sample apps:
// INSTANCE_URL (the workspace URL, no trailing slash), WORKSPACE_ID (numeric,
// the o= parameter), DASHBOARD_ID (a published AI/BI dashboard),
// SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET (the secret stays on the
// server), and for the single-viewer samples EXTERNAL_VIEWER_ID and
// EXTERNAL_VALUE. The service principal needs CAN RUN on the published
// dashboard, and SELECT on its data unless the dashboard is published with
// the publisher's credentials (embed_credentials, see [PublishedDashboard]).
//
// A scoped token for one viewer takes three calls, all made by the server:
//
// Step 1, a broad token for the service principal: POST {instance}/oidc/v1/token
// ([PathToken]) with HTTP Basic client credentials and the form
// grant_type=client_credentials&scope=all-apis ([ScopeAllAPIs]). The answer is
// a [TokenResponse]: {"access_token","token_type":"Bearer","expires_in":3600,
// "scope":"all-apis"}. Refusals are OAuth errors ([OAuthError]), e.g. 401
// invalid_client, or 400 invalid_request, invalid_grant,
// unsupported_grant_type, invalid_scope.
//
// Step 2, what the viewer's token must hold: GET
// {instance}/api/2.0/lakeview/dashboards/{id}/published/tokeninfo
// ([TokenInfoPath]) with ?external_viewer_id=...&external_value=...
// ([ParamExternalViewerID], [ParamExternalValue]) and the step-1 token as Bearer.
// The answer ([TokenInfo]) has exactly the three fields the official SDKs
// model: authorization_details (three [AuthorizationDetail] entries granting
// workspace-access and dbsql-access on workspaces/{ws} and dashboard.runner
// on workspaces/{ws}/dashboards/{id}; an entry may also carry
// resource_legacy_acl_path, e.g. "/dashboards/{id}" on the dashboard's),
// custom_claim ([CustomClaim]:
// "urn:aibi:external_data:{value}:{viewer}:{dashboard}") and scope (the
// [EmbedScopes], space separated). Field order varies. Viewer id and value
// together are limited to about 1 KB, and a '|' in the value breaks the
// claim (observed; [ValidateViewer]). Refusals are REST errors ([APIError],
// {"error_code","message","details"}): 404 RESOURCE_DOES_NOT_EXIST for an
// unknown or unpublished dashboard, 403 PERMISSION_DENIED without CAN RUN,
// 401 for a missing or bad bearer token, 400 INVALID_PARAMETER_VALUE without
// a viewer id.
//
// Step 3, the scoped token: POST {instance}/oidc/v1/token with the same Basic
// credentials and grant_type=client_credentials plus tokeninfo's fields, the
// authorization_details array JSON-encoded as one form value
// ([TokenInfo.SDKExchangeForm]; [FormValue]). A client built on an SDK sends
// those three fields; Databricks' sample apps send every top-level field
// they got ([TokenInfo.ExchangeForm]): a workspace accepts both, so neither an
// emulator nor a client may require or invent a field beyond the three. The
// answer is a TokenResponse whose token lives an hour and carries the narrow
// scopes; it is the only token a browser ever receives.
//
// Tokens are JWTs signed RS256 with the header
// {"alg":"RS256","typ":"at+jwt","kid":...}; the keys are a JWKS at
// {instance}/oidc/v1/keys. Their claims are iss ({instance}/oidc), aud, sub
// (the principal), client_id, scope (space separated), iat, exp, jti, and on
// scoped tokens custom_claim and authorization_details; nothing may depend on
// a claim not listed here. The official SDKs discover the workspace with GET
// {instance}/.well-known/databricks-config ([DatabricksConfig]; they carry on
// with a warning without it), then GET
// {instance}/oidc/.well-known/oauth-authorization-server
// ([AuthServerMetadata]: issuer, authorization and token endpoints, jwks_uri,
// grant types, PKCE method S256, scopes).
//
// Limits: external embedding allows 20 dashboard loads a second per
// workspace, and no more than 20 starting at once. Over it, the answer is
// 429 REQUEST_LIMIT_EXCEEDED with Retry-After in seconds. A token without a
// needed scope gets 403 PERMISSION_DENIED, "Provided OAuth token does not
// have required scopes: <scope>"; an expired one 401 or 403 saying so.
//
// Row filtering: a dataset's SQL names __aibi_external_value, and at query
// time the workspace binds the value from the scoped token's custom_claim
// as a parameter, never as SQL text. external_viewer_id goes to the audit
// log: one per viewer, and never personal data (no e-mail address, no
// name); external_value may be personal data.
//
// In the browser, the dashboard is an iframe on the workspace's origin that
// speaks a postMessage protocol with the embedding page; embed.go holds its
// paths, message types and error codes, and describes it. Workspace admins
// choose which origins may embed (all, approved domains, none), and the
// embedding page's CSP needs frame-src {instance}.
//
// A dashboard definition (.lvdash.json; [SerializedDashboard]) has datasets
// (name, displayName, queryLines) and pages whose layout places widgets on a
// grid 6 columns wide; a widget has queries over a dataset (fields with an
// expression, disaggregated) and a spec (version, widgetType, encodings).
// Widget types are counter and table (spec versions 1 and 2) and bar, line
// and pie (version 3). The emulator's dashboard package parses this subset.
//
// # Calling a Databricks App's /api/ routes
//
// An app is served at https://{name}-{workspace id}.{region}.databricksapps.com
// ([AppHostLabel], [ParseAppHost]), and only its routes under /api/ take a bearer
// token (Authorization: Bearer). The caller needs CAN USE on the app. Tokens
// come from one of:
//   - U2M for local development: authorization code with PKCE (S256) at
//     {instance}/oidc/v1/authorize, public client databricks-cli, redirect
//     http://localhost:8020 (8040 as fallback), scopes "offline_access
//     all-apis"; then POST /oidc/v1/token with grant_type=authorization_code,
//     code, code_verifier, redirect_uri and client_id, and refreshes with
//     grant_type=refresh_token. `databricks auth token --profile P` prints
//     {"access_token","token_type","expiry"}.
//   - Custom scopes: an app with user authorization needs the scopes set in
//     its settings (e.g. "sql file.files dashboards.genie"), asked for in
//     the same flow; a CLI token carries only all-apis and may be refused.
//   - M2M, an external program: client credentials as in step 1, from
//     DATABRICKS_HOST, DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET.
//   - App to app: inside an app, the runtime sets DATABRICKS_HOST,
//     DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (the app's own
//     service principal), DATABRICKS_APP_PORT, DATABRICKS_APP_NAME and
//     DATABRICKS_WORKSPACE_ID; M2M with those.
//
// The Apps proxy forwards to the app with X-Forwarded-Email,
// X-Forwarded-User, X-Forwarded-Preferred-Username, X-Real-Ip, X-Request-Id,
// and under user authorization X-Forwarded-Access-Token. A browser without a
// session is redirected (302) to sign in. A refusal means: 401, the token is
// missing, malformed, expired or lacks the app's scopes; 403, the caller
// lacks CAN USE or the scopes fall short; 404, a wrong URL, an app stopped
// or not deployed, or a path outside /api/; no answer at all,
// *.databricksapps.com blocked or a proxy setting. An identity provider's
// token (e.g. Entra ID) must be exchanged first (next section). Tokens are
// never hard-coded or logged, and are renewed before they expire.
//
// An app is deployed with an app.yaml (command, env entries with value or
// valueFrom), listens on 0.0.0.0:$DATABRICKS_APP_PORT, must stop within 15 s
// of SIGTERM, and no file of it may exceed 10 MB.
//
// # Token federation
//
// An app does not take an identity provider's token as it is: the client
// exchanges it first (RFC 8693) with POST {instance}/oidc/v1/token,
// grant_type=urn:ietf:params:oauth:grant-type:token-exchange, subject_token
// (the provider's JWT), subject_token_type=urn:ietf:params:oauth:token-type:jwt,
// scope=all-apis and, for workload identity federation, client_id (the
// service principal's application id); without client_id it is account-wide
// federation, for the user whose e-mail or id is the token's subject. A
// federation policy says what is accepted: issuer, audiences (by default the
// workspace's token endpoint URL, or the account id) and, for a service
// principal, the subject (subject_claim names the claim, sub by default).
// The provider's keys come from its discovery document
// ({issuer}/.well-known/openid-configuration, then jwks_uri;
// [OpenIDConfiguration]). An untrusted issuer, a wrong audience or subject, or
// an expired token is refused with 400 or 401 and an OAuth error
// (invalid_grant or invalid_request). The official SDKs do this as the auth
// types env-oidc (the token in DATABRICKS_OIDC_TOKEN), file-oidc,
// github-oidc and azure-devops-oidc.
package wire
