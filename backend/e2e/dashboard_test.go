package e2e

import (
	"strings"
	"testing"
	"time"

	"embedlab/backend/browsertest"
	"embedlab/backend/testkit"
)

const mainFrame = "dashboard-frame-main"

func TestLoginSwitchViewersAndWatchRowsChange(t *testing.T) {
	s := newStack(t, options{})

	s.loginAs(t, testkit.Ada)
	s.wait(t, "the viewer list", `document.querySelectorAll('#viewers a[data-viewer]').length == 2`, 30*time.Second)
	// Ada may act as two viewers; open EMEA's by its link.
	if err := s.click(`#viewers a[data-viewer="viewer-emea"]`); err != nil {
		t.Fatal(err)
	}
	emea := s.waitFrame(t, mainFrame, "EMEA rows", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-emea" }, 30*time.Second)
	if emea.Revenue == "" || emea.Rows == 0 {
		t.Fatalf("EMEA frame shows no rows: %+v", emea)
	}
	if got := s.eval(t, `location.search`); !strings.Contains(got, "viewer=viewer-emea") {
		t.Errorf("the selected viewer is not in the URL: %q", got)
	}
	s.wait(t, "the inspector", `(document.getElementById('claim-viewer')||{}).innerText == 'viewer-emea'`, 10*time.Second)
	if v := s.eval(t, `document.getElementById('claim-value').innerText`); v != "EMEA" {
		t.Errorf("inspector external_value = %q", v)
	}
	browsertest.Screenshot(t, s.ctx, "app-dashboard-emea")

	// Switch to the other viewer: a new token, a remounted frame, other rows.
	if err := s.click(`#viewers a[data-viewer="viewer-amer"]`); err != nil {
		t.Fatal(err)
	}
	amer := s.waitFrame(t, mainFrame, "AMER rows", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-amer" }, 30*time.Second)
	if amer.Revenue == emea.Revenue || amer.Revenue == "" {
		t.Fatalf("switching viewers did not change the rows: EMEA %s, AMER %s", emea.Revenue, amer.Revenue)
	}
	s.wait(t, "the inspector for AMER", `(document.getElementById('claim-viewer')||{}).innerText == 'viewer-amer'`, 10*time.Second)
	browsertest.Screenshot(t, s.ctx, "app-dashboard-amer")

	// The page picker remounts the frame on the second page; the URL keeps it.
	if err := s.click(`#pages a[data-page="products"]`); err != nil {
		t.Fatal(err)
	}
	prod := s.waitFrame(t, mainFrame, "the products page", func(st frameState) bool { return ready(st) && st.Page == "products" }, 30*time.Second)
	if prod.Viewer != "viewer-amer" {
		t.Errorf("products page for %s", prod.Viewer)
	}
	if got := s.eval(t, `location.search`); !strings.Contains(got, "page=products") {
		t.Errorf("the page is not in the URL: %q", got)
	}
	browsertest.Screenshot(t, s.ctx, "app-dashboard-amer-products")

	// A link with the viewer reopens it.
	s.open(t, "/?viewer=viewer-amer")
	s.waitFrame(t, mainFrame, "AMER after reload", func(st frameState) bool { return ready(st) && st.Viewer == "viewer-amer" }, 30*time.Second)
}
