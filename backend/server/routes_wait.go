package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"embedlab/backend/broker"
	"embedlab/shared/api"
)

// tokenWaits holds, per viewer, what the pending token requests wait for
// (the broker's retries and pacing), so the dashboard page can show it
// while it waits (issue #14). An entry lives while a request is pending.
type tokenWaits struct {
	mu sync.Mutex
	m  map[string]*pendingToken
}

type pendingToken struct {
	requests int
	wait     broker.Wait
	at       time.Time // when wait was reported
}

func newTokenWaits() *tokenWaits { return &tokenWaits{m: map[string]*pendingToken{}} }

// begin registers a pending request for viewer and returns its wait
// observer and the func that ends it.
func (w *tokenWaits) begin(viewer string) (func(broker.Wait), func()) {
	w.mu.Lock()
	p := w.m[viewer]
	if p == nil {
		p = &pendingToken{}
		w.m[viewer] = p
	}
	p.requests++
	w.mu.Unlock()
	observe := func(bw broker.Wait) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if q := w.m[viewer]; q != nil {
			q.wait, q.at = bw, time.Now()
		}
	}
	end := func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if q := w.m[viewer]; q != nil {
			if q.requests--; q.requests <= 0 {
				delete(w.m, viewer)
			}
		}
	}
	return observe, end
}

// get says what viewer's pending request waits for now.
func (w *tokenWaits) get(viewer string) api.EmbedTokenWait {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := api.EmbedTokenWait{Viewer: viewer}
	p := w.m[viewer]
	if p == nil || p.at.IsZero() {
		return out
	}
	left := time.Until(p.at.Add(p.wait.For))
	if left < 0 {
		return out // the wait is over; the attempt is being made
	}
	out.Waiting, out.Step, out.Reason = true, p.wait.Step, p.wait.Reason
	out.Attempt, out.Attempts, out.RetryInMS = p.wait.Attempt, p.wait.Attempts, left.Milliseconds()
	return out
}

// embedTokenWait answers GET /api/embed-token/wait?viewer=ID for one of
// the user's own viewers.
func (s *Server) embedTokenWait(c echo.Context) error {
	v, err := s.queryViewer(c, api.PathEmbedTokenWait)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.waits.get(v.ID))
}
