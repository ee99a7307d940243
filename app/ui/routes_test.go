package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/app/pages"
)

// The server registers pages.Placeholders, the Wasm Routes: both must know
// the same paths, and the title the server prerenders must be the one the
// real page sets.
func TestRoutesMatchThePageTable(t *testing.T) {
	var paths []string
	for _, p := range pages.All {
		paths = append(paths, p.Path)
		if components[p.Path] == nil {
			t.Errorf("page %s has no component in app/ui's route table", p.Path)
		}
	}
	for path := range components {
		if !slices.Contains(paths, path) {
			t.Errorf("component for %s, a path pages.All does not list: the server would answer 404", path)
		}
	}

	titles := func() map[string]string {
		h := &app.Handler{Title: "embedlab", Resources: app.LocalDir("")}
		got := map[string]string{}
		for _, p := range pages.All {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p.Path, nil))
			body, _ := io.ReadAll(w.Result().Body)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", p.Path, w.Code)
			}
			m := regexp.MustCompile(`<title>([^<]*)</title>`).FindSubmatch(body)
			if m == nil {
				t.Fatalf("GET %s: no <title> in %s", p.Path, body)
			}
			got[p.Path] = string(m[1])
		}
		return got
	}
	Routes()
	real := titles()
	pages.Placeholders()
	server := titles()
	Routes() // leave the real components registered for the other tests
	for _, p := range pages.All {
		// A page that sets its title in OnMount (the login page) does so
		// only in the browser: prerendered, it has go-app's Title.
		if r := real[p.Path]; r == "embedlab" {
			real[p.Path] = p.Title
		}
		if real[p.Path] != p.Title || server[p.Path] != p.Title {
			t.Errorf("%s: the page sets the title %q, the table says %q, the server prerenders %q", p.Path, real[p.Path], p.Title, server[p.Path])
		}
	}
}
