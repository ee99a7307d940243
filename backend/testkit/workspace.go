package testkit

import (
	"strings"

	"embedlab/backend/emulator"
	"embedlab/shared/wire"
)

// The bundled workspace's own identities (workspace.json): its users, who
// sign in on its login page (U2M) and at its identity provider, and the
// identity provider's workloads. They are not the app's login users (Ada,
// Grace, ...), whose passwords happen to be alike. Public demo values;
// TestWorkspaceIdentitiesAreTheBundledOnes keeps them in step with the file.

// WorkspaceUser is a person of the bundled workspace or identity provider.
type WorkspaceUser struct {
	// ID is the workspace's user id ("" for someone who is no user of it).
	ID       string
	Email    string
	Password string
}

var (
	// WorkspaceAda may use the sample apps sales-api and sales-sql.
	WorkspaceAda = WorkspaceUser{ID: "7001", Email: "ada@example.com", Password: "ada-demo-pass"}
	// WorkspaceGrace may use sales-sql only.
	WorkspaceGrace = WorkspaceUser{ID: "7002", Email: "grace@example.com", Password: "grace-demo-pass"}
	// IdPLinus signs in at the identity provider but is no user of the
	// workspace.
	IdPLinus = WorkspaceUser{Email: "linus@example.com", Password: "linus-demo-pass"}
)

// Workload is a program of the identity provider, e.g. a CI job, with its
// client credentials and the subject of its tokens.
type Workload struct{ ClientID, Secret, Subject string }

var (
	// CIMain is trusted by a federation policy as the embedder
	// (EmbedderID).
	CIMain = Workload{"embedlab-ci-main", "dosedemo0cimain0not0a0real0secret", "repo:embedlab/demo:ref:refs/heads/main"}
	// CIBranch is trusted by no policy.
	CIBranch = Workload{"embedlab-ci-branch", "dosedemo0cibranch0not0a0real0secret", "repo:embedlab/demo:ref:refs/heads/experiment"}
)

const (
	// WorkspaceID is the bundled workspace's id.
	WorkspaceID = "1234567890123456"
	// CLIClient is the public OAuth client of the Databricks CLI, and
	// CLIRedirect the first redirect URI it registers.
	CLIClient   = "databricks-cli"
	CLIRedirect = "http://localhost:8020"
)

// ExchangeCalls counts the calls em has had to its token endpoint and to
// tokeninfo: what the token exchange has cost the workspace so far (a
// fresh token for a viewer is three, or two once the service principal's
// token is held; a cached one none).
func ExchangeCalls(em *emulator.Emulator) int {
	n := 0
	for _, r := range em.Requests(0) {
		if r.Path == wire.PathToken || strings.HasSuffix(r.Path, "/tokeninfo") {
			n++
		}
	}
	return n
}
