package emulator

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"embedlab/shared/wire"
)

// TestEmbedJSSpeaksTheWireProtocol keeps the embed page's script in step
// with shared/wire: every DATABRICKS_* message it names is one the wire
// package defines, the messages a frame must handle are all there, and the
// query API path it calls is the one the emulator serves.
func TestEmbedJSSpeaksTheWireProtocol(t *testing.T) {
	b, err := staticFiles.ReadFile("static/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	known := []string{wire.MsgEmbedReady, wire.MsgSetConfig, wire.MsgSetToken, wire.MsgNavigate}
	for _, m := range regexp.MustCompile(`'(DATABRICKS_[A-Z_]+)'`).FindAllStringSubmatch(js, -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("embed.js names %s, which shared/wire does not define", m[1])
		}
	}
	for _, want := range append(known, wire.EmbedErrInvalidConfigVersion, wire.EmbedErrInvalidTokenFormat) {
		if !strings.Contains(js, "'"+want+"'") {
			t.Errorf("embed.js does not handle %s", want)
		}
	}
	for _, f := range []string{wire.NavigateDashboardID, wire.NavigatePageID} {
		if !strings.Contains(js, "d."+f) {
			t.Errorf("embed.js does not read %s of %s", f, wire.MsgNavigate)
		}
	}
	if !strings.Contains(js, "'"+pathEmbedAPI+"'") {
		t.Errorf("embed.js does not call the query API at %s", pathEmbedAPI)
	}
}
