package broker

import (
	"container/list"
	"time"
)

// cacheEntry is what the cache keeps per viewer: the token, packed, and
// its times. Header and claims are decoded again on a hit, and a hit's
// trace is the cache step, so keeping them would only cost memory (about
// 8 KB a viewer against 1.4 KB).
type cacheEntry struct {
	tok               packedToken
	issued, expiresAt time.Time
}

// tokenCache holds the viewers' tokens in the order they were stored, which
// is about the order they expire in (tokens live an hour): the oldest is
// the first to drop, both when it is stale and when the cache is full, and
// either costs O(1). Its owner locks it.
type tokenCache struct {
	max   int
	byKey map[string]*list.Element // of *cached
	byAge list.List                // oldest first
	gen   uint64                   // counts forget calls
}

type cached struct {
	key string
	cacheEntry
}

func newTokenCache(max int) tokenCache {
	return tokenCache{max: max, byKey: map[string]*list.Element{}}
}

func (c *tokenCache) get(key string) (cacheEntry, bool) {
	el, ok := c.byKey[key]
	if !ok {
		return cacheEntry{}, false
	}
	return el.Value.(*cached).cacheEntry, true
}

// put stores e under key, replacing any entry of that key. Entries at the
// front that expire before staleBefore (no longer served) go first, then
// the oldest while the cache is full.
func (c *tokenCache) put(key string, e cacheEntry, staleBefore time.Time) {
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	for el := c.byAge.Front(); el != nil && !el.Value.(*cached).expiresAt.After(staleBefore); el = c.byAge.Front() {
		c.remove(el)
	}
	for c.byAge.Len() >= c.max {
		c.remove(c.byAge.Front())
	}
	c.byKey[key] = c.byAge.PushBack(&cached{key: key, cacheEntry: e})
}

func (c *tokenCache) remove(el *list.Element) {
	delete(c.byKey, el.Value.(*cached).key)
	c.byAge.Remove(el)
}

func (c *tokenCache) len() int { return len(c.byKey) }

// forget empties the cache and starts a new generation.
func (c *tokenCache) forget() {
	c.byKey = map[string]*list.Element{}
	c.byAge.Init()
	c.gen++
}
