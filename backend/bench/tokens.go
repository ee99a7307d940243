package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// workspaceRate is the real workspace's limit on tokeninfo calls per second,
// which the emulator applies and the broker paces itself to by default.
const workspaceRate = 20

// measureTokens loads /api/embed-token through the whole backend: one viewer
// whose token is cached, then many viewers seen for the first time (each
// costs a tokeninfo call and an exchange), first with the workspace's
// limits off (the cost of the work itself) and then at its 20 calls/s.
func measureTokens(ctx context.Context, e *env) ([]Row, error) {
	s, err := e.workspace()
	if err != nil {
		return nil, err
	}
	o := e.opts
	vs, ids, err := benchViewers(s.dir, max(o.coldViewers, o.limitViewers)+1)
	if err != nil {
		return nil, err
	}
	if err := s.em.SetRateLimit(0); err != nil {
		return nil, err
	}
	defer s.em.SetRateLimit(0)

	var rows []Row
	b, err := s.startBackend(vs, unlimited)
	if err != nil {
		return nil, err
	}
	defer b.close()
	c, err := login(ctx, b.url, o.clients)
	if err != nil {
		return nil, err
	}
	// The first load fetches the service principal's token and ids[0]'s.
	if err := c.token(ctx, ids[0]); err != nil {
		return nil, err
	}

	up, err := b.upstream(ctx)
	if err != nil {
		return rows, err
	}
	deadline := time.Now().Add(o.warmFor)
	r, err := load(ctx, c, o.clients, func(int) (string, bool) { return ids[0], time.Now().Before(deadline) })
	if err != nil {
		return rows, err
	}
	after, err := b.upstream(ctx)
	if err != nil {
		return rows, err
	}
	rows = append(rows, latencyRows("tokens", fmt.Sprintf("1 viewer, warm cache, %d clients", o.clients), r,
		fmt.Sprintf("%d loads, %d upstream calls", len(r.latencies), after-up))...)

	cold := ids[1 : 1+o.coldViewers]
	up = after
	r, err = load(ctx, c, o.clients, func(i int) (string, bool) { return at(cold, i) })
	if err != nil {
		return rows, err
	}
	if after, err = b.upstream(ctx); err != nil {
		return rows, err
	}
	rows = append(rows, latencyRows("tokens", fmt.Sprintf("%d viewers, cold, limits off", len(cold)), r,
		fmt.Sprintf("%d upstream calls (tokeninfo + exchange each)", after-up))...)

	// At the workspace's limits: the broker paces itself to 20 exchanges/s.
	// The emulator's bucket starts full after a second, as the broker's does.
	if err := s.em.SetRateLimit(workspaceRate); err != nil {
		return rows, err
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	lb, err := s.startBackend(vs, workspaceRate)
	if err != nil {
		return rows, err
	}
	defer lb.close()
	lc, err := login(ctx, lb.url, o.clients)
	if err != nil {
		return rows, err
	}
	if err := lc.token(ctx, ids[0]); err != nil {
		return rows, err
	}
	limited := ids[1 : 1+o.limitViewers]
	seq := s.lastSeq()
	r, err = load(ctx, lc, o.clients, func(i int) (string, bool) { return at(limited, i) })
	if err != nil {
		return rows, err
	}
	refused := 0
	for _, e := range s.em.Requests(seq) {
		if e.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	rows = append(rows, latencyRows("tokens", fmt.Sprintf("%d viewers, cold, at %d calls/s", len(limited), workspaceRate), r,
		fmt.Sprintf("paced by the workspace's tokeninfo limit; %d calls refused with 429 and retried", refused))...)
	return rows, nil
}

func at(ids []string, i int) (string, bool) {
	if i >= len(ids) {
		return "", false
	}
	return ids[i], true
}

func latencyRows(group, label string, r loadResult, note string) []Row {
	return []Row{
		{Group: group, Name: "embed-token, " + label + ": throughput", Value: r.perSecond(), Unit: "req/s", Note: note},
		{Group: group, Name: "embed-token, " + label + ": p50", Value: r.percentile(50), Unit: "ms"},
		{Group: group, Name: "embed-token, " + label + ": p99", Value: r.percentile(99), Unit: "ms"},
	}
}

// pageLoads is the number of page loads in the upstream measurement.
const pageLoads = 1000

// measureUpstream counts the workspace calls 1,000 page loads cost when
// they are spread at random over N viewers, each N with a fresh backend:
// one service principal token, then a tokeninfo call and an exchange per
// viewer, and nothing for a viewer whose token is cached.
func measureUpstream(ctx context.Context, e *env) ([]Row, error) {
	s, err := e.workspace()
	if err != nil {
		return nil, err
	}
	if err := s.em.SetRateLimit(0); err != nil {
		return nil, err
	}
	vs, ids, err := benchViewers(s.dir, slices.Max(e.opts.loadsOver))
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, n := range e.opts.loadsOver {
		b, err := s.startBackend(vs, unlimited)
		if err != nil {
			return rows, err
		}
		c, err := login(ctx, b.url, e.opts.clients)
		if err != nil {
			b.close()
			return rows, err
		}
		rng := rand.New(rand.NewPCG(uint64(n), 42))
		picks := make([]string, pageLoads)
		distinct := map[string]bool{}
		for i := range picks {
			picks[i] = ids[rng.IntN(n)]
			distinct[picks[i]] = true
		}
		seq := s.lastSeq()
		_, err = load(ctx, c, e.opts.clients, func(i int) (string, bool) { return at(picks, i) })
		if err != nil {
			b.close()
			return rows, err
		}
		calls, err := b.upstream(ctx)
		b.close()
		if err != nil {
			return rows, err
		}
		note := fmt.Sprintf("%d %s loaded; expected 1 + 2 x %d = %d", len(distinct), plural(len(distinct), "viewer"), len(distinct), 1+2*len(distinct))
		if logged, _, exact := s.upstreamCalls(seq); !exact {
			note += "; the emulator's log overflowed"
		} else if logged != calls {
			note += fmt.Sprintf("; the emulator logged %d", logged)
		} else {
			note += "; the emulator's log agrees"
		}
		rows = append(rows, Row{Group: "upstream", Name: fmt.Sprintf("upstream calls per %d page loads over %d %s", pageLoads, n, plural(n, "viewer")),
			Value: float64(calls), Unit: "calls", Note: note})
	}
	return rows, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
