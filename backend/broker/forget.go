package broker

import "time"

// Forget drops every cached viewer token and the service principal token,
// so the next request makes a fresh exchange. The fault lab calls it after
// changing the workspace, whose effect would otherwise hide behind the
// cache until the tokens expire.
func (b *Broker) Forget() {
	b.cacheMu.Lock()
	b.cache = map[string]cacheEntry{}
	b.cacheMu.Unlock()
	b.spMu.Lock()
	b.spToken, b.spExp = "", time.Time{}
	b.spMu.Unlock()
}
