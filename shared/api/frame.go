package api

// The dashboard page's frame watchdog and waiting display (issue #14).

// CodeEmbedPageNotFound: the workspace's embed page for the dashboard (or
// the page of it the frame asked for) answered 404.
const CodeEmbedPageNotFound = "embed_page_not_found"

// PathEmbedTokenWait is GET ?viewer=ID: what the backend's pending token
// request for that viewer waits for, if anything.
const PathEmbedTokenWait = "/api/embed-token/wait"

// EmbedTokenWait says what a pending token request waits for: the
// workspace's rate limit or a retry after a failed call, which attempt
// comes next and when. Waiting is false when nothing waits.
type EmbedTokenWait struct {
	Waiting bool   `json:"waiting"`
	Viewer  string `json:"viewer"`
	// Step is the upstream call: "client_credentials", "tokeninfo",
	// "exchange" or "rate limit" (embedlab's own pacing of the workspace's limit).
	Step string `json:"step,omitempty"`
	// Reason is what the last answer was, e.g. "429 Too Many Requests".
	Reason string `json:"reason,omitempty"`
	// Attempt is the attempt that comes next, of Attempts.
	Attempt  int `json:"attempt,omitempty"`
	Attempts int `json:"attempts,omitempty"`
	// RetryInMS is how long until that attempt, from when the answer was made.
	RetryInMS int64 `json:"retry_in_ms,omitempty"`
}
