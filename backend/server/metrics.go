package server

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
)

// metricPrefix starts the name of every metric of embedlab's own; the Go
// runtime's keep the names Prometheus' Go client gives them (go_...), which
// dashboards expect.
const metricPrefix = "embedlab_"

// family is one metric in the Prometheus text format: one sample, or one
// per value of its label.
type family struct {
	name, help, kind string
	label            string              // the label's name; "" for one sample
	labelValues      []string            // with label: one sample each
	value            func(i int) float64 // sample i (0 without a label)
}

func (f family) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	if f.label == "" {
		fmt.Fprintf(b, "%s %g\n", f.name, f.value(0))
		return
	}
	for i, v := range f.labelValues {
		fmt.Fprintf(b, "%s{%s=%q} %g\n", f.name, f.label, v, f.value(i))
	}
}

// upstreamSteps are the values of the step label, in the broker's order
// (Stats.UpstreamCalls[i] is step i+1).
var upstreamSteps = []string{"service_principal_token", "tokeninfo", "scoped_token"}

// metricsHandler exposes the broker's counters in the Prometheus text
// exposition format (version 0.0.4). It is written by hand: the client
// library and its protobuf dependency would put the build deployed as a
// Databricks App over the 10 MB file limit, and these are plain counters.
func (s *Server) metricsHandler() http.Handler {
	var own []family
	add := func(kind, name, help string, f func() float64) {
		own = append(own, family{name: metricPrefix + name, help: help, kind: kind, value: func(int) float64 { return f() }})
	}
	byStep := func(name, help string, f func(i int) float64) {
		own = append(own, family{name: metricPrefix + name, help: help, kind: "counter", label: "step", labelValues: upstreamSteps, value: f})
	}
	if s.broker != nil {
		b := s.broker
		add("counter", "token_requests_total", "Embed token requests.", func() float64 { return float64(b.Stats().Requests) })
		add("counter", "token_cache_hits_total", "Embed token requests served from the cache.", func() float64 { return float64(b.Stats().CacheHits) })
		add("counter", "token_failures_total", "Embed token requests that failed.", func() float64 { return float64(b.Stats().Failures) })
		byStep("upstream_calls_total", "Upstream calls by exchange step, retries included.",
			func(i int) float64 { return float64(b.Stats().UpstreamCalls[i]) })
		byStep("upstream_seconds_total", "Time spent in upstream calls by exchange step, retries and their waits included.",
			func(i int) float64 { return float64(b.Stats().UpstreamNanos[i]) / 1e9 })
		add("gauge", "token_cache_entries", "Viewers with a cached token.", func() float64 { return float64(b.Cached()) })
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		gauge := func(name, help string, v float64) family {
			return family{name: name, help: help, kind: "gauge", value: func(int) float64 { return v }}
		}
		all := append(own[:len(own):len(own)],
			gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
			gauge("go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", float64(mem.HeapInuse)),
			gauge("go_memstats_sys_bytes", "Bytes obtained from the system.", float64(mem.Sys)))
		var b strings.Builder
		for _, f := range all {
			f.write(&b)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
}
