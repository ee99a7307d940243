package apps

import "testing"

// A classroom's emulator is plain http on the room's private address or
// local name; anything public must be https.
func TestPlainHTTPOnlyOnThisMachineOrARoom(t *testing.T) {
	for host, ok := range map[string]bool{
		"http://127.0.0.1:8000": true, "http://127.0.0.2:8000": true, "http://localhost:8000": true,
		"http://192.168.1.20:8000": true, "http://10.1.2.3:8000": true, "http://trainer.local:8000": true,
		"http://203.0.113.5:8000": false, "http://adb-1.2.azuredatabricks.net": false, "http://evil.example.com": false,
	} {
		if _, err := NormalizeHost(host); (err == nil) != ok {
			t.Errorf("NormalizeHost(%s): %v", host, err)
		}
	}
	c := &Caller{Domains: []string{".localhost:8001"}, Origins: []string{"http://192.168.1.20:8003"}}
	if _, err := c.CheckURL("http://192.168.1.20:8003/api/whoami"); err != nil {
		t.Errorf("a room's app origin: %v", err)
	}
	for _, u := range []string{"http://192.168.1.20:8004/api/whoami", "http://192.168.1.20/api/whoami", "https://192.168.1.20:8003/api/whoami"} {
		if _, err := c.CheckURL(u); err == nil {
			t.Errorf("%s is not one of the room's apps but was accepted", u)
		}
	}
}
