package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler exposes the broker's counters in the Prometheus format.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "embedlab", Name: name, Help: help}, f))
	}
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
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "embedlab", Name: "token_cache_entries", Help: "Viewers with a cached token."},
			func() float64 { return float64(b.Cached()) }))
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
