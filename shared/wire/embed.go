package wire

import (
	"net/url"
	"time"
)

// The embedded dashboard in the browser: the page a dashboard iframe loads
// on the workspace's origin, and the postMessage protocol that page speaks
// with the embedding page. The app's frame (app/ui), the emulator's embed
// page (backend/emulator, whose embed.js is checked against these names by
// a test), the doctor and the lab all take the names from here.
//
// The protocol, as @databricks/aibi-client speaks it:
//   - the iframe's src is EmbedURL: the first token travels in the URL
//     fragment (#token=...), so it never reaches a server log;
//   - the frame posts MsgEmbedReady once it has loaded; the embedding page
//     answers with MsgSetConfig ({"version":1,...}) and, whenever it has a
//     new token, MsgSetToken, to the instance's origin only;
//   - the embedding page may post MsgNavigate
//     ({"dashboardId":...,"pageId":...}, pageId optional) to switch the
//     frame to another page or dashboard in place (navigate() of
//     @databricks/aibi-client 1.0.1-alpha.0 and later);
//   - the embedding page ignores messages from any origin but the
//     instance's, and the frame ignores messages from any origin but the
//     workspace's allowed embedding origins; the emulator's frame also
//     posts to, and takes messages from, its parent's origin only.
const (
	// EmbedPagePath is followed by the dashboard id, then optionally
	// "/pages/{pageId}", then "?o={workspaceId}".
	EmbedPagePath = "/embed/dashboardsv3/"
	// EmbedPagesSegment comes between the dashboard id and a page id.
	EmbedPagesSegment = "/pages/"

	MsgEmbedReady = "DATABRICKS_EMBED_READY"
	MsgSetConfig  = "DATABRICKS_SET_CONFIG"
	MsgSetToken   = "DATABRICKS_SET_TOKEN"
	// MsgNavigate asks the frame for another page or dashboard without a
	// reload; its fields are NavigateDashboardID and NavigatePageID.
	MsgNavigate = "DATABRICKS_NAVIGATE"
	// Fields of MsgNavigate, as @databricks/aibi-client names them.
	NavigateDashboardID = "dashboardId"
	NavigatePageID      = "pageId"

	// EmbedConfigVersion is the only SET_CONFIG version the client and the
	// frame accept.
	EmbedConfigVersion = 1
)

// EmbedClientRefreshLead is how long before a token's exp the official
// client (@databricks/aibi-client, every published version) calls
// getNewToken: max(0, exp - now - 5 min). A token that arrives with less
// than this left is renewed at once, and again, in a loop; before the frame
// is READY the client gives up with IFRAME_NOT_LOADED_TOKEN_EXPIRED ("The
// iframe has not been fully initialized, but the token is about to
// expire"). Lifetimes must therefore be longer than this.
const EmbedClientRefreshLead = 5 * time.Minute

// Error codes the official client reports to the embedding page.
const (
	EmbedErrInstanceDestroyed = "INSTANCE_DESTROYED"
	// EmbedErrNotLoaded: navigate() was called before the frame was READY.
	EmbedErrNotLoaded             = "IFRAME_NOT_LOADED"
	EmbedErrInvalidTokenFormat    = "INVALID_TOKEN_FORMAT"
	EmbedErrNotLoadedTokenExpired = "IFRAME_NOT_LOADED_TOKEN_EXPIRED"
	EmbedErrExpiredNoRefresh      = "TOKEN_EXPIRED_NO_REFRESH_METHOD"
	EmbedErrInvalidConfigVersion  = "INVALID_CONFIG_VERSION"
)

// EmbedPath is the path (no query) of a dashboard's embed page, or of one
// of its pages when page is not empty.
func EmbedPath(dashboardID, page string) string {
	p := EmbedPagePath + url.PathEscape(dashboardID)
	if page != "" {
		p += EmbedPagesSegment + url.PathEscape(page)
	}
	return p
}

// EmbedURL is an iframe src for the dashboard on instanceURL (no trailing
// slash), with the token in the fragment when it is not empty.
func EmbedURL(instanceURL, workspaceID, dashboardID, page, token string) string {
	u := instanceURL + EmbedPath(dashboardID, page) + "?o=" + url.QueryEscape(workspaceID)
	if token != "" {
		u += "#token=" + url.QueryEscape(token)
	}
	return u
}
