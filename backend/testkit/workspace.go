package testkit

// Demo identities of the bundled workspace itself (workspace.json), not of
// embedlab's login: the workspace user who signs in on the emulator's
// login page (U2M) and at its identity provider, and the identity
// provider's own. Public demo values; TestWorkspaceIdentitiesAreTheBundledOnes
// keeps them in step with the file.
var (
	// WorkspaceAda is the workspace user 7001, a user of the identity
	// provider too (token federation), with the same password there.
	WorkspaceAda = User{"ada@example.com", "ada-demo-pass"}
	// IdPLinus is a user of the identity provider only: the workspace
	// refuses to exchange his token ("user not found").
	IdPLinus = User{"linus@example.com", "linus-demo-pass"}
)

// CIMainClientID and CIMainSecret are the identity provider's workload
// whose tokens the workspace exchanges for the embedder (EmbedderID).
const (
	CIMainClientID = "embedlab-ci-main"
	CIMainSecret   = "dosedemo0cimain0not0a0real0secret"
)
