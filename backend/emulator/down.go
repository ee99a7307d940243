package emulator

import (
	"fmt"
	"net"
	"sync"
)

// downSwitch is the fault lab's "workspace down": the workspace's listener
// closed, so connections to it are refused as they are when a workspace is
// unreachable, then opened again on the same address.
type downSwitch struct {
	mu   sync.Mutex
	down bool
	addr string // the workspace listener's address, set by Start
}

// SetDown stops the workspace's HTTP listener (down) or starts it again on
// the same address. While down, every connection to the workspace's origin
// (OIDC, tokeninfo, the embed page, the query API) is refused; the Apps
// proxy and the identity provider keep running. Only for an emulator made
// by Start.
func (e *Emulator) SetDown(down bool) error {
	e.down.mu.Lock()
	defer e.down.mu.Unlock()
	if down == e.down.down {
		return nil
	}
	if e.srv == nil || e.down.addr == "" {
		return fmt.Errorf("emulator: not started, so it cannot go down")
	}
	if down {
		// Close, not Shutdown: a workspace that goes away does not finish
		// its requests, and open keep-alive connections must break too.
		if err := e.srv.Close(); err != nil {
			return fmt.Errorf("emulator: stop listening: %w", err)
		}
		e.down.down = true
		return nil
	}
	ln, err := net.Listen("tcp", e.down.addr)
	if err != nil {
		return fmt.Errorf("emulator: listen again on %s: %w", e.down.addr, err)
	}
	e.srv = e.server(e.handler, ln, "emulator")
	e.down.down = false
	return nil
}

// Down reports whether the workspace's listener is stopped.
func (e *Emulator) Down() bool {
	e.down.mu.Lock()
	defer e.down.mu.Unlock()
	return e.down.down
}
