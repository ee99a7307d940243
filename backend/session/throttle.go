package session

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle counts failed logins per key (a user name or a client address)
// in token buckets: a key may fail burst times at once, then once more per
// window/burst. Only failures take tokens, but an attempt in flight holds one
// until it is decided; without that, a burst of parallel guesses would all
// pass the check before the first failure was counted.
//
// Memory is bounded: at most max keys, the least recently used evicted
// first. A key whose bucket is full again and that has nothing in flight is
// dropped at once, since it is the same as no key.
type throttle struct {
	limit rate.Limit
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  *list.List               // front: most recently used
}

type bucket struct {
	key      string
	lim      *rate.Limiter
	inflight int
}

func newThrottle(failures int, window time.Duration, maxKeys int) *throttle {
	return &throttle{
		limit: rate.Every(window / time.Duration(failures)),
		burst: failures,
		max:   maxKeys,
		keys:  map[string]*list.Element{},
		lru:   list.New(),
	}
}

// begin holds room for one attempt under key. When there is none, it
// returns nil and how long until there will be.
func (t *throttle) begin(key string, now time.Time) (*bucket, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.keys[key]
	if !ok {
		for t.lru.Len() >= t.max {
			t.drop(t.lru.Back())
		}
		el = t.lru.PushFront(&bucket{key: key, lim: rate.NewLimiter(t.limit, t.burst)})
		t.keys[key] = el
	}
	t.lru.MoveToFront(el)
	b := el.Value.(*bucket)
	if short := 1 - (b.lim.TokensAt(now) - float64(b.inflight)); short > 0 {
		return nil, time.Duration(short / float64(t.limit) * float64(time.Second))
	}
	b.inflight++
	return b, 0
}

// busyOnly reports whether key is short of room only because of attempts
// still in flight: its failures alone would let one more begin. Such an
// attempt may wait for them to settle instead of being refused, so that a
// classroom signing in at once from one address (a NAT) is slowed, not
// refused, while a guesser still gets no more attempts than failures allow.
func (t *throttle) busyOnly(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.keys[key]
	if !ok {
		return false
	}
	b := el.Value.(*bucket)
	return b.inflight > 0 && b.lim.TokensAt(now) >= 1
}

// outcome of an attempt, for end.
type outcome int

const (
	countFailure outcome = iota // takes a token
	release                     // takes nothing
	refill                      // takes nothing and fills the bucket again
)

// end settles an attempt begun with begin.
func (t *throttle) end(b *bucket, now time.Time, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b.inflight--
	switch o {
	case countFailure:
		b.lim.AllowN(now, 1)
	case refill:
		b.lim = rate.NewLimiter(t.limit, t.burst)
	}
	if el, ok := t.keys[b.key]; ok && el.Value == b && b.inflight == 0 && b.lim.TokensAt(now) >= float64(t.burst) {
		t.drop(el)
	}
}

func (t *throttle) drop(el *list.Element) {
	t.lru.Remove(el)
	delete(t.keys, el.Value.(*bucket).key)
}

// size is the number of keys held, for tests.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// userKey is the throttle key of a typed name: lower-cased like Login does,
// and cut to the longest possible name so junk cannot grow the keys.
func userKey(name string) string {
	if len(name) > maxNameBytes {
		name = name[:maxNameBytes]
	}
	return name
}

// ipKey is the throttle key of a client address. IPv6 clients are counted
// per /64, the block one subscriber usually gets: counting single addresses
// would give an attacker 2^64 fresh buckets.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > 64 {
			ip = ip[:64]
		}
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64) // cannot fail for an IPv6 address
	return p.String()
}
