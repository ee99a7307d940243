package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"embedlab/backend/broker"
)

// measureEmulator is the load the workspace emulator holds: dashboard loads
// (its query API, GET /embed/api/dashboards/{id}/render, the call the
// embedded page makes) per second from concurrent clients, each with a
// viewer's scoped token, with the emulator's limit off and at 20/s.
// Every load runs the page's SQL on the in-memory database and renders
// the widgets; a 429 is counted and not retried.
func measureEmulator(ctx context.Context, e *env) ([]Row, error) {
	s, err := e.workspace()
	if err != nil {
		return nil, err
	}
	if err := s.em.SetRateLimit(0); err != nil {
		return nil, err
	}
	defer s.em.SetRateLimit(0)

	// One scoped token per region, through the three steps (the broker).
	brk, err := broker.New(broker.Config{InstanceURL: s.em.URL(), ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Rate: unlimited})
	if err != nil {
		return nil, err
	}
	var tokens []viewerToken
	for _, v := range []struct{ id, value string }{{"viewer-emea", "EMEA"}, {"viewer-amer", "AMER"}, {"viewer-apac", "APAC"}} {
		r, err := brk.Token(ctx, broker.Request{DashboardID: s.cfg.DashboardID, ExternalViewerID: v.id, ExternalValue: v.value})
		if err != nil {
			return nil, fmt.Errorf("scoped token for %s: %w", v.id, err)
		}
		tokens = append(tokens, viewerToken{token: r.Token, want: []byte(`"external_viewer_id":"` + v.id + `"`)})
	}
	pages := s.em.Pages(s.cfg.DashboardID)
	if len(pages) == 0 {
		return nil, errors.New("the emulator's dashboard has no page")
	}
	u := s.em.URL() + "/embed/api/dashboards/" + url.PathEscape(s.cfg.DashboardID) + "/render?page=" + url.QueryEscape(pages[0].Name)
	clients, dur := e.opts.clients, e.opts.emulatorFor
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, DisableCompression: true}}
	defer hc.CloseIdleConnections()

	var rows []Row
	off, err := hammer(ctx, hc, u, tokens, clients, dur)
	if err != nil {
		return rows, err
	}
	label := fmt.Sprintf("emulator dashboard loads, limit off, %d clients", clients)
	rows = append(rows,
		Row{Group: "emulator", Name: label + ": throughput", Value: off.perSecond(), Unit: "loads/s",
			Note: fmt.Sprintf("%d loads of page %q in %.1fs, 3 viewers' tokens; each checks the token and runs the page's queries", off.ok, pages[0].Name, off.elapsed.Seconds())},
		Row{Group: "emulator", Name: label + ": p50", Value: off.percentile(50), Unit: "ms"},
		Row{Group: "emulator", Name: label + ": p99", Value: off.percentile(99), Unit: "ms"},
	)

	// At the workspace's 20/s: the bucket starts full (a burst of 20).
	if err := s.em.SetRateLimit(workspaceRate); err != nil {
		return rows, err
	}
	if err := sleepCtx(ctx, time.Second+100*time.Millisecond); err != nil {
		return rows, err
	}
	on, err := hammer(ctx, hc, u, tokens, clients, dur)
	if err != nil {
		return rows, err
	}
	label = fmt.Sprintf("emulator dashboard loads, limit %d/s, %d clients", workspaceRate, clients)
	total := on.ok + on.refused
	rows = append(rows,
		Row{Group: "emulator", Name: label + ": served", Value: on.perSecond(), Unit: "loads/s",
			Note: fmt.Sprintf("%d served in %.1fs: a burst of %d, then %d/s", on.ok, on.elapsed.Seconds(), workspaceRate, workspaceRate)},
		Row{Group: "emulator", Name: label + ": refused with 429", Value: float64(on.refused), Unit: "responses",
			Note: fmt.Sprintf("%.1f%% of %d requests; clients did not wait for Retry-After (the embed page does)", 100*float64(on.refused)/float64(max(total, 1)), total)},
		Row{Group: "emulator", Name: label + ": p50 of served loads", Value: on.percentile(50), Unit: "ms"},
		Row{Group: "emulator", Name: label + ": p99 of served loads", Value: on.percentile(99), Unit: "ms"},
	)
	return rows, nil
}

type viewerToken struct {
	token string
	want  []byte // the viewer id as the answer must name it
}

// hammerResult is what one run of hammer saw.
type hammerResult struct {
	latencies []time.Duration // of 200 answers, sorted
	ok        int
	refused   int // 429
	elapsed   time.Duration
}

func (r hammerResult) perSecond() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r hammerResult) percentile(p float64) float64 {
	return loadResult{latencies: r.latencies}.percentile(p)
}

// hammer loads u from clients goroutines for dur, each client cycling
// through the tokens. A 200 must name the token's viewer; a 429 is counted;
// anything else stops the run.
func hammer(parent context.Context, hc *http.Client, u string, tokens []viewerToken, clients int, dur time.Duration) (hammerResult, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		mu       sync.Mutex
		res      hammerResult
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			refused := 0
			fail := func(err error) {
				mu.Lock()
				if firstErr == nil && ctx.Err() == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
			defer func() {
				mu.Lock()
				res.latencies = append(res.latencies, mine...)
				res.refused += refused
				mu.Unlock()
			}()
			for i := c; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				tok := tokens[i%len(tokens)]
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+tok.token)
				t := time.Now()
				r, err := hc.Do(req)
				if err != nil {
					fail(err)
					return
				}
				body, err := io.ReadAll(r.Body)
				r.Body.Close()
				took := time.Since(t)
				switch {
				case err != nil:
					fail(err)
					return
				case r.StatusCode == http.StatusTooManyRequests:
					refused++
				case r.StatusCode != http.StatusOK:
					fail(fmt.Errorf("render: %d %.300s", r.StatusCode, body))
					return
				case !bytes.Contains(body, tok.want):
					fail(fmt.Errorf("render: the answer does not name %s", tok.want))
					return
				default:
					mine = append(mine, took)
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.ok = len(res.latencies)
	slices.Sort(res.latencies)
	if firstErr == nil && res.ok == 0 {
		firstErr = errors.New("no dashboard load succeeded")
	}
	return res, errors.Join(firstErr, parent.Err())
}
