package api

import "strings"

// Roles a users file may grant ("roles": [...] on a user). A role is needed
// for whatever changes state others share or borrows an identity that is
// not the user's own; everything else is open to every signed-in user.
const (
	// RoleTrainer runs a workshop: the fault lab's toggles and reset, the
	// workshop's "reset the workspace", and the trainer view.
	RoleTrainer = "trainer"
	// RoleServerIdentities may call apps with the server's identities: its
	// service principals (M2M, app to app), its CLI profiles, and identity
	// provider tokens of identities other than the user's own.
	RoleServerIdentities = "server-identities"
)

// RoleInfo describes a role, for error messages and the README.
type RoleInfo struct {
	Name    string
	Meaning string
}

// Roles lists every role a users file may grant.
var Roles = []RoleInfo{
	{RoleTrainer, "runs the workshop: fault lab toggles and reset, the workspace reset, the trainer view"},
	{RoleServerIdentities, "calls apps as the server's identities: M2M, app to app, CLI profiles, and federation as an identity other than one's own"},
}

// KnownRole reports whether name is one of Roles.
func KnownRole(name string) bool {
	for _, r := range Roles {
		if r.Name == name {
			return true
		}
	}
	return false
}

// HasRole reports whether roles holds role.
func HasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// Source ids: the one set of token-source names that the API (AppCallRequest.Source),
// the page and `embedlab call -source` share. Adding a source is an entry
// here and in Sources, plus its code in backend/apps.
const (
	SourceU2M       = "u2m"
	SourceM2M       = "m2m"
	SourceNoAccess  = "m2m-no-access" // emulator only: a service principal without CAN USE
	SourceProfile   = "profile"
	SourceAppToApp  = "app-to-app"
	SourceFederated = "federated"  // an identity provider's token, exchanged first
	SourceIdPDirect = "idp-direct" // the same token sent as is, to see the 401
	SourceNone      = "none"       // no token at all, to see the 401 and the 302
)

// SourceInfo is one way of getting a token, as every side names it.
type SourceInfo struct {
	ID    string
	Label string
	// Description is the default one-line description; a deployment may say more.
	Description string
	// ServerIdentity is true when the token is one of the server's
	// identities rather than the signed-in user's own.
	ServerIdentity bool
	// Role is the role a user needs for it ("" for everyone). For
	// OwnIdentityFree sources it is needed only for identities that are not
	// the user's own.
	Role            string
	OwnIdentityFree bool
	// CLI is true when `embedlab call` and `embedlab token` offer it.
	CLI bool
	// NotAvailableFix says how to make an unconfigured source available.
	NotAvailableFix string
}

// Sources is the table of token sources, in the order the page lists them.
var Sources = []SourceInfo{
	{ID: SourceU2M, Label: "U2M: sign in as a workspace user", CLI: true,
		Description: "Authorization code + PKCE at the workspace, with the scopes you pick; the token stays on embedlab's server."},
	{ID: SourceM2M, Label: "M2M: a service principal", ServerIdentity: true, Role: RoleServerIdentities, CLI: true,
		Description:     "The service principal's client credentials, exchanged at the workspace for an all-apis token.",
		NotAvailableFix: "set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (or SERVICE_PRINCIPAL_ID/SECRET)"},
	{ID: SourceNoAccess, Label: "M2M: a service principal without CAN USE", ServerIdentity: true, Role: RoleServerIdentities,
		Description: "A second service principal of the emulator, which lacks CAN USE on the apps: the 403 to see."},
	{ID: SourceProfile, Label: "Databricks CLI profile", ServerIdentity: true, Role: RoleServerIdentities, CLI: true,
		Description: "A profile of the Databricks CLI.", NotAvailableFix: "use it where embedlab runs on your own machine"},
	{ID: SourceAppToApp, Label: "App to app: this app's own service principal", ServerIdentity: true, Role: RoleServerIdentities, CLI: true,
		Description: "Inside a Databricks App, the runtime's own service principal.", NotAvailableFix: "deploy embedlab as a Databricks App"},
	{ID: SourceFederated, Label: "Token federation: an identity provider's token, exchanged", ServerIdentity: true, Role: RoleServerIdentities, OwnIdentityFree: true, CLI: true,
		Description: "The identity provider's JWT exchanged at the workspace's /oidc/v1/token (RFC 8693 token exchange) for a Databricks token, then sent to the app."},
	{ID: SourceIdPDirect, Label: "The identity provider's token, not exchanged", ServerIdentity: true, Role: RoleServerIdentities, OwnIdentityFree: true, CLI: true,
		Description: "The same JWT sent to the app as is, to see the 401 an app answers: identity provider tokens must be exchanged first."},
	{ID: SourceNone, Label: "No token", CLI: true,
		Description: "Send the call without Authorization, to see what the Apps proxy answers."},
}

// LookupSource returns the source called id.
func LookupSource(id string) (SourceInfo, bool) {
	for _, s := range Sources {
		if s.ID == id {
			return s, true
		}
	}
	return SourceInfo{}, false
}

// SourceIDs lists the ids, e.g. for "use one of ..." messages; cli keeps
// only those `embedlab call` offers.
func SourceIDs(cli bool) string {
	var ids []string
	for _, s := range Sources {
		if !cli || s.CLI {
			ids = append(ids, s.ID)
		}
	}
	return strings.Join(ids, ", ")
}

// RoleRefusal is what a refusal says when a role is missing: which role,
// for what, and how to get it.
func RoleRefusal(user, role, what string) (message, fix string) {
	message = what + " needs the role " + role + ", which " + user + " does not have"
	fix = "sign in as a user with the role " + role + " (the demo user admin has it), or add \"roles\": [\"" + role + "\"] to " + user + " in the users file (EMBEDLAB_USERS_FILE)"
	return message, fix
}
