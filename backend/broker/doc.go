// Package broker performs the confidential three-step exchange that gives
// one external viewer a scoped dashboard token (the wire reference, package
// wire, "Dashboard embedding for external users"): a client_credentials
// token for the service principal, tokeninfo for the viewer, and the
// exchange for a narrow token. It holds the service
// principal's secret and its all-apis token and never lets either out: the
// trace it returns is redacted for the browser.
//
// It caches scoped tokens per (dashboard, viewer, value) until a margin
// before expiry, shares one exchange among concurrent requests for the same
// viewer, reuses the service principal token, paces upstream work, retries
// 429 and 5xx with backoff, and maps failures to errors that say what to fix.
package broker
