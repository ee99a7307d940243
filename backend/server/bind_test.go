package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestBindJSONTakesJSONOnly(t *testing.T) {
	type body struct {
		ID string `json:"id"`
	}
	e := echo.New()
	bind := func(ctype, payload string) (body, error) {
		req := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(payload))
		if ctype != "" {
			req.Header.Set(echo.HeaderContentType, ctype)
		}
		var b body
		err := bindJSON(e.NewContext(req, httptest.NewRecorder()), &b)
		return b, err
	}
	if b, err := bind("application/json; charset=utf-8", `{"id":"lab-1"}`); err != nil || b.ID != "lab-1" {
		t.Fatalf("JSON: %+v %v", b, err)
	}
	if b, err := bind("", ""); err != nil || b.ID != "" {
		t.Fatalf("empty body: %+v %v, want nothing bound and no error, as c.Bind", b, err)
	}
	for _, c := range []struct{ ctype, payload string }{
		{"application/json", `{"id":`},
		{"application/x-www-form-urlencoded", "id=lab-1"},
		{"application/xml", "<body><id>lab-1</id></body>"},
	} {
		if b, err := bind(c.ctype, c.payload); err == nil || b.ID != "" {
			t.Errorf("%s %q: %+v bound, want an error", c.ctype, c.payload, b)
		}
	}
}

// c.Bind anywhere in the server links Echo's XML and form binder back into
// the Databricks App binary (147 KB, see bindJSON): the API uses bindJSON.
func TestNoHandlerUsesEchoBind(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if strings.Contains(line, ".Bind(") {
				t.Errorf("%s:%d calls Bind; decode the body with bindJSON: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
