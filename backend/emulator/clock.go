package emulator

import (
	"sync/atomic"
	"time"
)

// clock is the emulator's notion of now: the real time shifted by a skew
// that tests and the fault lab set, to show what clock drift does to tokens.
type clock struct{ skew atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *clock) setSkew(d time.Duration) { c.skew.Store(int64(d)) }
func (c *clock) getSkew() time.Duration  { return time.Duration(c.skew.Load()) }

func unix(sec int64) time.Time { return time.Unix(sec, 0) }
