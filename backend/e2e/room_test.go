package e2e

import (
	"embedlab/backend/testkit"
	"strings"
	"testing"
	"time"
)

// A classroom's URLs: the app and the dashboard's frame are served on, and
// named by, the room's address instead of 127.0.0.1. 127.0.0.2 stands in
// for the trainer machine's address, but it is still this machine's
// loopback (and a secure context): the browser shares the stack's network.
// netns_test.go reaches a room from another machine's side of a real link.
func TestRoomDashboardThroughTheRoomAddress(t *testing.T) {
	s := newStack(t, options{room: "127.0.0.2"})
	if !strings.HasPrefix(s.url, "http://127.0.0.2:") || !strings.HasPrefix(s.em.URL(), "http://127.0.0.2:") {
		t.Fatalf("app %s, workspace %s: both should be on the room's address", s.url, s.em.URL())
	}
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the viewer list", `document.querySelectorAll('#viewers a[data-viewer]').length == 2`, 30*time.Second)
	s.open(t, "/?viewer=viewer-emea")
	st := s.waitFrame(t, mainFrame, "rows for viewer-emea", func(st frameState) bool { return ready(st) && st.Rows > 0 }, 45*time.Second)
	if st.Viewer != "viewer-emea" {
		t.Fatalf("frame shows %+v", st)
	}
	src := s.eval(t, `(document.querySelector('iframe[name="`+mainFrame+`"]')||{}).src||""`)
	if !strings.HasPrefix(src, "http://127.0.0.2:") {
		t.Fatalf("the frame's src is %q: it should be the workspace on the room's address", src)
	}
}
