package config

import (
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// A classroom: one trainer's machine serves the app and the emulator to
// participants' laptops on the same network. EMBEDLAB_ROOM_HOST names the
// host they use (an address such as 192.168.1.20, or a name their machines
// resolve, such as trainer.local); everything else follows from it.

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// checkRoomHost accepts an IP address or a DNS host name, without a scheme
// or port: the ports are embedlab's own (PORT, the emulator's).
func checkRoomHost(h string) error {
	switch {
	case strings.Contains(h, "://"):
		return errors.New("must be a host name or address only, e.g. 192.168.1.20 or trainer.local (no http://)")
	case net.ParseIP(h) != nil:
		if ip := net.ParseIP(h); ip.IsUnspecified() {
			return errors.New("must be the address participants use, not 0.0.0.0: e.g. this machine's address on the room's network (ip -brief addr)")
		}
		return nil
	case strings.Contains(h, ":"):
		return errors.New("must not carry a port: embedlab uses PORT for the app and 8000-8005 for the emulator")
	case strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost"):
		return errors.New("localhost is this machine only: name the address or host name participants' laptops reach it by")
	case !hostName.MatchString(h):
		return errors.New("must be a host name (letters, digits, '-' and '.') or an IP address")
	}
	return nil
}

// RoomListenHost is where a room's servers listen: the room's address when
// it is one (only that interface), else every interface (a name may
// resolve to any of this machine's addresses).
func RoomListenHost(room string) string {
	if ip := net.ParseIP(room); ip != nil {
		return ip.String()
	}
	return ""
}

// roomDefaults derives the room's settings; variables set explicitly
// (EMBEDLAB_PUBLIC_URL, EMBEDLAB_EMULATOR_ADDR) still win.
func (c *Config) roomDefaults(h string) {
	c.RoomHost = h
	if c.PublicURL == "" {
		c.PublicURL = "http://" + net.JoinHostPort(h, strconv.Itoa(c.Port))
	}
	if c.ListenHost == "" {
		c.ListenHost = RoomListenHost(h)
	}
	c.EmulatorAddr = net.JoinHostPort(RoomListenHost(h), "8000")
}
