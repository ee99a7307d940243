package server

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
)

// metric is one sample in the Prometheus text format.
type metric struct {
	name, help, kind string
	value            func() float64
}

// metricsHandler exposes the broker's counters in the Prometheus text
// exposition format (version 0.0.4). It is written by hand: the client
// library and its protobuf dependency would put the build deployed as a
// Databricks App over the 10 MB file limit, and these are plain counters.
func (s *Server) metricsHandler() http.Handler {
	var ms []metric
	counter := func(name, help string, f func() float64) {
		ms = append(ms, metric{"embedlab_" + name, help, "counter", f})
	}
	gauge := func(name, help string, f func() float64) { ms = append(ms, metric{name, help, "gauge", f}) }
	if s.broker != nil {
		b := s.broker
		counter("token_requests_total", "Embed token requests.", func() float64 { return float64(b.Stats().Requests) })
		counter("token_cache_hits_total", "Embed token requests served from the cache.", func() float64 { return float64(b.Stats().CacheHits) })
		counter("token_failures_total", "Embed token requests that failed.", func() float64 { return float64(b.Stats().Failures) })
		for i, step := range []string{"service_principal_token", "tokeninfo", "scoped_token"} {
			counter("upstream_"+step+"_calls_total", "Upstream calls of exchange step "+step+", retries included.",
				func() float64 { return float64(b.Stats().UpstreamCalls[i]) })
			counter("upstream_"+step+"_seconds_total", "Time spent in exchange step "+step+".",
				func() float64 { return float64(b.Stats().UpstreamNanos[i]) / 1e9 })
		}
		gauge("embedlab_token_cache_entries", "Viewers with a cached token.", func() float64 { return float64(b.Cached()) })
	}
	gauge("go_goroutines", "Number of goroutines that currently exist.", func() float64 { return float64(runtime.NumGoroutine()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		all := append(ms[:len(ms):len(ms)],
			metric{"go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", "gauge", func() float64 { return float64(mem.HeapInuse) }},
			metric{"go_memstats_sys_bytes", "Bytes obtained from the system.", "gauge", func() float64 { return float64(mem.Sys) }})
		var b strings.Builder
		for _, m := range all {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %g\n", m.name, m.help, m.name, m.kind, m.name, m.value())
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
}
