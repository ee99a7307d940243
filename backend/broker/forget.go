package broker

// Forget drops every cached viewer token and the service principal token,
// so the next request makes a fresh exchange. The fault lab calls it after
// changing the workspace, whose effect would otherwise hide behind the
// cache until the tokens expire. It does not wait for calls in flight: an
// exchange or a step 1 that began before it still answers its callers, but
// its token is not kept.
func (b *Broker) Forget() {
	b.cacheMu.Lock()
	b.cache.forget()
	b.cacheMu.Unlock()
	b.spMu.Lock()
	b.sp = spToken{gen: b.sp.gen + 1}
	b.spMu.Unlock()
}
