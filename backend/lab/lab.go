// Package lab is the fault lab: switches that break the emulated workspace
// on purpose, live (revoke the secret, remove CAN RUN, block the embedding
// origin…), each saying what the user will see and which cause the UI
// names. It also feeds the workshop's checkpoints from the emulator's logs.
// Only the build with the emulator compiles it.
package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"embedlab/backend/emulator"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// Toggle ids.
const (
	ShortLifetime = "short-lifetime"
	ClockSkew     = "clock-skew"
	RateStorm     = "rate-limit-storm"
	RevokeSecret  = "revoke-secret"
	Unpublish     = "unpublish"
	NoCanRun      = "no-can-run"
	DropScope     = "drop-scope"
	BlockOrigin   = "block-origin"
	WorkspaceDown = "workspace-down"
)

// ShortTokenLifetime is the short-lifetime toggle's token lifetime: a
// little over the official client's refresh lead, the shortest lifetime it
// survives with a minute to spare (see wire.EmbedClientRefreshLead).
const ShortTokenLifetime = wire.EmbedClientRefreshLead + time.Minute

// Lab drives the fault lab over one emulator.
type Lab struct {
	em       *emulator.Emulator
	forget   func()
	initial  *emulator.State
	clientID string
	dashID   string

	mu sync.Mutex
	on map[string]bool
}

// New takes the workspace as it is now as the state "reset" restores.
// clientID and dashboardID are the embedding app's; forget drops the
// app's cached tokens (the broker's), so a toggle shows on the next load.
func New(em *emulator.Emulator, clientID, dashboardID string, forget func()) *Lab {
	return &Lab{em: em, forget: forget, initial: em.Snapshot(), clientID: clientID, dashID: dashboardID, on: map[string]bool{}}
}

// definitions are the toggles, in the order the page lists them.
var definitions = []api.LabToggle{
	{ID: ShortLifetime, Title: "Tokens live 6 minutes",
		Action:    "New tokens get a 6-minute lifetime instead of an hour.",
		Effect:    "Open the dashboard: the token inspector counts down from 6:00, and before it runs out the page asks for a new token (embedlab's frame renews at half the lifetime, 3:00, when that is sooner than its margin) and lists a refresh under frame events; the frame keeps its rows.",
		Diagnosis: "Nothing fails: this is what a working refresh looks like. Why 6 minutes: the official browser client (@databricks/aibi-client) asks for a new token 5 minutes before exp, so it renews these once a minute; a token of 5 minutes or less makes it ask again at once, in a loop, or stop with \"The iframe has not been fully initialized, but the token is about to expire\".",
		Try:       "/?viewer=viewer-emea"},
	{ID: ClockSkew, Title: "Workspace clock 2 hours behind",
		Action:    "The workspace's clock runs 2 hours behind this machine's.",
		Effect:    "Fresh tokens arrive with iat and exp 2 hours in the past by your clock: a warning above the frame names the difference between the clocks, and the inspector shows a token that expired an hour ago although it was just issued; the frame itself still shows its rows, because the workspace checks exp on its own clock.",
		Diagnosis: "Clock skew: the inspector says the token arrived already expired and names the difference between the workspace's clock and yours.",
		Try:       "/?viewer=viewer-emea"},
	{ID: RateStorm, Title: "Rate-limit storm",
		Action:    "tokeninfo answers 429 Too Many Requests (Retry-After: 1) to the next 100 calls, and dashboard loads are limited to 1 per second.",
		Effect:    "Switching to a viewer takes a few seconds while the backend retries; the page shows what it waits for (tokeninfo's 429), a countdown and the attempt, then the rate-limit diagnosis with Try again; frames of several viewers wait and retry.",
		Diagnosis: "The workspace is rate limiting dashboard tokens (upstream_rate_limited).",
		Try:       "/?viewer=viewer-apac"},
	{ID: RevokeSecret, Title: "Revoke the service principal's secret",
		Action:    "The embedding service principal's OAuth secret is replaced by a new one that embedlab does not know (turning it off restores the old secret).",
		Effect:    "The next token exchange fails at step 1 with 401 invalid_client; the dashboard page shows no frame.",
		Diagnosis: "The workspace refused the service principal's secret (upstream_bad_secret).",
		Try:       "/?viewer=viewer-emea"},
	{ID: Unpublish, Title: "Unpublish the dashboard",
		Action:    "The embedded dashboard is no longer published.",
		Effect:    "tokeninfo answers 404, and frames already open show 'Dashboard not found' on their next load.",
		Diagnosis: "The dashboard is unknown or not published (upstream_unknown_dashboard).",
		Try:       "/?viewer=viewer-emea"},
	{ID: NoCanRun, Title: "Remove CAN RUN",
		Action:    "The embedding service principal loses CAN RUN on the dashboard.",
		Effect:    "tokeninfo answers 403; tokens already handed out stop loading data too (the query API checks CAN RUN on every load).",
		Diagnosis: "The service principal may not run this dashboard (upstream_no_can_run).",
		Try:       "/?viewer=viewer-emea"},
	{ID: DropScope, Title: "Drop the query-execution scope",
		Action:    "tokeninfo leaves dashboards.query-execution out of the scopes a viewer's token gets.",
		Effect:    "The exchange still succeeds, but the frame shows a notice that the token lacks a required scope, and the inspector's scope list is one short.",
		Diagnosis: "In the frame: the token does not have required scopes: dashboards.query-execution.",
		Try:       "/?viewer=viewer-emea"},
	{ID: BlockOrigin, Title: "Block the embedding origin",
		Action:    "The workspace allows embedding from no origin: its embed page's CSP frame-ancestors becomes 'none'.",
		Effect:    "The token is fine, but the browser refuses to show the frame (a blank or 'refused to connect' box); after a few seconds the page checks the workspace's frame-ancestors.",
		Diagnosis: "The workspace does not allow embedding from this origin (origin_not_allowed): add it to the approved embedding domains.",
		Try:       "/?viewer=viewer-emea"},
	{ID: WorkspaceDown, Title: "Workspace down",
		Action:    "The workspace stops listening: every connection to its origin (token endpoint, tokeninfo, embed page, query API) is refused, as when it is unreachable.",
		Effect:    "A new token cannot be got: the dashboard page names the unreachable workspace with a Try again button. A frame that loads now stays blank; after a few seconds the page says why over it, offers Retry, and checks again every 3 seconds. Turn it off and the frame reloads by itself.",
		Diagnosis: "The workspace could not be reached (upstream_unreachable), in the token card or over the frame.",
		Try:       "/?viewer=viewer-emea&page=products"},
}

// Toggles lists the toggles and which are on.
func (l *Lab) Toggles() api.Lab {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := api.Lab{Toggles: make([]api.LabToggle, len(definitions))}
	for i, d := range definitions {
		d.On = l.on[d.ID]
		out.Toggles[i] = d
	}
	return out
}

// BadToggle is an unknown toggle id.
type BadToggle struct{ ID string }

func (e *BadToggle) Error() string { return fmt.Sprintf("no fault lab toggle %q", e.ID) }

// HTTPStatus is 404, for the server's error handler.
func (e *BadToggle) HTTPStatus() int { return 404 }

// ErrorCode is the API's error code.
func (e *BadToggle) ErrorCode() string { return "not_found" }

// Set turns one toggle on or off and applies every toggle anew.
func (l *Lab) Set(id string, on bool) (api.Lab, error) {
	known := false
	for _, d := range definitions {
		known = known || d.ID == id
	}
	if !known {
		return api.Lab{}, &BadToggle{ID: id}
	}
	l.mu.Lock()
	if on {
		l.on[id] = true
	} else {
		delete(l.on, id)
	}
	err := l.applyLocked()
	l.mu.Unlock()
	return l.Toggles(), err
}

// Reset turns every toggle off and restores the workspace as it started.
func (l *Lab) Reset() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = map[string]bool{}
	return l.applyLocked()
}

// applyLocked restores the initial workspace, then applies the toggles
// that are on, then makes the app forget its cached tokens.
func (l *Lab) applyLocked() (retErr error) {
	defer func() {
		if l.forget != nil {
			l.forget()
		}
	}()
	l.em.ResetFaults()
	l.em.RestoreEmbedScopes()
	if err := l.em.Restore(l.initial); err != nil {
		return err
	}
	on := l.on
	if on[ShortLifetime] {
		if err := l.em.SetTokenLifetime(ShortTokenLifetime); err != nil {
			return err
		}
	}
	if on[ClockSkew] {
		if err := l.em.SetClockSkew(-2 * time.Hour); err != nil {
			return err
		}
	}
	if on[RateStorm] {
		if err := l.em.InjectFault(emulator.Fault{Endpoint: emulator.EndpointTokenInfo, Status: 429, Count: 100, RetryAfterSeconds: 1}); err != nil {
			return err
		}
		if err := l.em.SetRateLimit(1); err != nil {
			return err
		}
	}
	if on[DropScope] {
		if err := l.em.DropEmbedScope("dashboards.query-execution"); err != nil {
			return err
		}
	}
	// Last, so the state above is in place when the workspace comes back.
	defer func() {
		if err := l.em.SetDown(on[WorkspaceDown]); err != nil && retErr == nil {
			retErr = err
		}
	}()
	return l.em.Update(func(s *emulator.State) {
		for i := range s.ServicePrincipals {
			if on[RevokeSecret] && s.ServicePrincipals[i].ApplicationID == l.clientID {
				s.ServicePrincipals[i].Secret = "revoked-by-the-fault-lab-" + randomHex()
			}
		}
		for i := range s.Dashboards {
			d := &s.Dashboards[i]
			if d.ID != l.dashID {
				continue
			}
			if on[Unpublish] {
				d.Published = false
			}
			if on[NoCanRun] {
				d.CanRun = slices.DeleteFunc(d.CanRun, func(p string) bool { return p == l.clientID })
			}
		}
		if on[BlockOrigin] {
			s.EmbeddingOrigins = []string{}
		}
	})
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
