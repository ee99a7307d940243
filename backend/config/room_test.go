package config

import (
	"strings"
	"testing"
)

func TestRoomDerivesEverythingFromTheHost(t *testing.T) {
	for _, tc := range []struct {
		host, listen, public, emu string
	}{
		{"192.168.1.20", "192.168.1.20", "http://192.168.1.20:3180", "192.168.1.20:8000"},
		{"trainer.local", "", "http://trainer.local:3180", ":8000"},
		{"fd00::20", "fd00::20", "http://[fd00::20]:3180", "[fd00::20]:8000"},
	} {
		c, err := Load(env(map[string]string{"EMBEDLAB_ROOM_HOST": tc.host, "PORT": "3180"}))
		if err != nil {
			t.Fatalf("%s: %v", tc.host, err)
		}
		if c.RoomHost != tc.host || c.ListenHost != tc.listen || c.PublicURL != tc.public || c.EmulatorAddr != tc.emu {
			t.Errorf("%s: listen %q public %q emulator %q", tc.host, c.ListenHost, c.PublicURL, c.EmulatorAddr)
		}
		if !strings.Contains(c.String(), "room="+tc.host) {
			t.Errorf("%s: the printed config does not name the room: %s", tc.host, c)
		}
	}
	// Explicit settings still win.
	c, err := Load(env(map[string]string{"EMBEDLAB_ROOM_HOST": "10.0.0.5", "EMBEDLAB_PUBLIC_URL": "https://lab.example.com", "EMBEDLAB_EMULATOR_ADDR": "10.0.0.5:9000"}))
	if err != nil || c.PublicURL != "https://lab.example.com" || c.EmulatorAddr != "10.0.0.5:9000" {
		t.Fatalf("%+v %v", c, err)
	}
	// Local use is exactly as before.
	c, _ = Load(env(nil))
	if c.RoomHost != "" || c.ListenHost != "" || c.PublicURL != "" || c.EmulatorAddr != "127.0.0.1:8000" {
		t.Fatalf("local: %+v", c)
	}
}

func TestRoomHostRefusals(t *testing.T) {
	for h, want := range map[string]string{
		"http://192.168.1.20": "no http://",
		"trainer.local:3000":  "must not carry a port",
		"localhost":           "this machine only",
		"0.0.0.0":             "not 0.0.0.0",
		"bad host":            "host name",
	} {
		_, err := Load(env(map[string]string{"EMBEDLAB_ROOM_HOST": h}))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "EMBEDLAB_ROOM_HOST") {
			t.Errorf("%q: %v", h, err)
		}
	}
}
