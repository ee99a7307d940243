package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"embedlab/backend/emulator"
	"embedlab/backend/server"
	"embedlab/backend/testkit"
)

// webDir is a temporary web/ with a small fake Wasm and its encoded forms,
// and the workspace its servers use.
type webDir struct {
	dir string
	raw []byte
	em  *emulator.Emulator
}

func newWebDir(t *testing.T) *webDir {
	t.Helper()
	w := &webDir{dir: t.TempDir(), em: testkit.Emulator(t, emulator.Options{}), raw: append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("embedlab wasm "), 500)...)}
	w.write(t, "app.wasm", w.raw)
	var gz, br bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(w.raw)
	zw.Close()
	bw := brotli.NewWriterLevel(&br, 5)
	bw.Write(w.raw)
	bw.Close()
	w.write(t, "app.wasm.gz", gz.Bytes())
	w.write(t, "app.wasm.br", br.Bytes())
	w.write(t, "style.css", []byte("body{margin:0}"))
	return w
}

func (w *webDir) write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w *webDir) file(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startWeb serves the app with the web files of dir (Settings.WebDir) and
// the go-app version given (Settings.Version, "" to derive it): settings
// no env var sets, so the fixture wires the server by hand. Servers of one
// workspace em (nil: a new one) differ only by their files and version.
func startWeb(t *testing.T, em *emulator.Emulator, dir, version string) string {
	t.Helper()
	return newFixture(t, fixtureOptions{em: em, settings: func(s *server.Settings) { s.WebDir, s.Version = dir, version }}).url
}

// get asks with an explicit Accept-Encoding, so the client hands back the
// bytes as sent.
func get(t *testing.T, method, url, acceptEncoding string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestWasmIsServedPrecompressed(t *testing.T) {
	w := newWebDir(t)
	base := startWeb(t, w.em, w.dir, "")
	for _, tc := range []struct {
		accept, want string // want: the Content-Encoding, "" for none
	}{
		{"gzip, deflate, br, zstd", "br"}, // Chromium over HTTPS
		{"gzip, deflate", "gzip"},         // Chromium over plain HTTP
		{"", ""},
		{"identity", ""},
		{"br;q=0, gzip", "gzip"},
		{"gzip;q=1, br;q=0.5", "gzip"},
		{"BR", "br"},
		{"*", "br"},
		{"*;q=0.5, br;q=0", "gzip"},
		{"x-gzip", "gzip"},
		{"deflate, zstd", ""},
		{"identity;q=1, gzip;q=0.4", ""},
		{"gzip;q=nonsense", ""},
	} {
		for _, path := range []string{"/web/app.wasm", "/app.wasm"} { // go-app's alias goes the same way
			res, body := get(t, http.MethodGet, base+path, tc.accept)
			h := res.Header
			if res.StatusCode != 200 || h.Get("Content-Encoding") != tc.want {
				t.Fatalf("%s Accept-Encoding %q: %d, Content-Encoding %q, want %q", path, tc.accept, res.StatusCode, h.Get("Content-Encoding"), tc.want)
			}
			want := w.raw
			switch tc.want {
			case "br":
				want = w.file(t, "app.wasm.br")
			case "gzip":
				want = w.file(t, "app.wasm.gz")
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("%s Accept-Encoding %q: the body is not app.wasm%s", path, tc.accept, map[string]string{"br": ".br", "gzip": ".gz"}[tc.want])
			}
			if h.Get("Content-Type") != "application/wasm" || h.Get("Vary") != "Accept-Encoding" ||
				h.Get("Cache-Control") != "no-cache" || !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(h.Get("ETag")) ||
				h.Get("Content-Length") != itoa(len(want)) || h.Get(server.WasmLengthHeader) != itoa(len(w.raw)) {
				t.Fatalf("%s Accept-Encoding %q: headers %v", path, tc.accept, h)
			}
		}
	}
}

func TestWasmValidatorsAndHead(t *testing.T) {
	w := newWebDir(t)
	base := startWeb(t, w.em, w.dir, "")
	url := base + "/web/app.wasm"

	tags := map[string]string{}
	for _, ae := range []string{"br", "gzip", ""} {
		res, _ := get(t, http.MethodGet, url, ae)
		tags[ae] = res.Header.Get("ETag")
		// The same representation revalidates to a 304.
		res, body := get(t, http.MethodGet, url, ae, "If-None-Match", tags[ae])
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("revalidation of %q: %d with %d bytes", ae, res.StatusCode, len(body))
		}
	}
	if tags["br"] == tags["gzip"] || tags["gzip"] == tags[""] || tags["br"] == tags[""] {
		t.Fatalf("each encoding needs its own ETag: %v", tags)
	}
	// A validator of another encoding does not match.
	if res, _ := get(t, http.MethodGet, url, "br", "If-None-Match", tags["gzip"]); res.StatusCode != 200 {
		t.Fatalf("gzip's ETag revalidated the br answer: %d", res.StatusCode)
	}
	// The ETag is a hash of the bytes: the same on every start and replica.
	if res, _ := get(t, http.MethodGet, startWeb(t, w.em, w.dir, "")+"/web/app.wasm", "br"); res.Header.Get("ETag") != tags["br"] {
		t.Fatal("another server of the same files gave another ETag")
	}

	res, body := get(t, http.MethodHead, url, "br")
	if res.StatusCode != 200 || len(body) != 0 || res.Header.Get("Content-Encoding") != "br" ||
		res.Header.Get("Content-Length") != itoa(len(w.file(t, "app.wasm.br"))) {
		t.Fatalf("HEAD: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, http.MethodGet, url, "gzip", "Range", "bytes=0-9"); res.StatusCode != http.StatusPartialContent ||
		res.Header.Get("Content-Length") != "10" || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("range: %d %v", res.StatusCode, res.Header)
	}
}

func TestWasmFallsBack(t *testing.T) {
	w := newWebDir(t)
	base := startWeb(t, w.em, w.dir, "")
	url := base + "/web/app.wasm"

	// An encoded file older than app.wasm is left from another build.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(w.dir, "app.wasm.br"), old, old); err != nil {
		t.Fatal(err)
	}
	if res, _ := get(t, http.MethodGet, url, "br, gzip"); res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("a stale .br was served: %q", res.Header.Get("Content-Encoding"))
	}
	os.Remove(filepath.Join(w.dir, "app.wasm.br"))
	if res, _ := get(t, http.MethodGet, url, "br, gzip"); res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("missing .br: Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if res, _ := get(t, http.MethodGet, url, "br"); res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("br only, no .br: Content-Encoding %q, want none", res.Header.Get("Content-Encoding"))
	}
	os.Remove(filepath.Join(w.dir, "app.wasm.gz"))
	res, body := get(t, http.MethodGet, url, "br, gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, w.raw) ||
		res.Header.Get("Content-Type") != "application/wasm" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("no encoded file: %d %v", res.StatusCode, res.Header)
	}
	os.Remove(filepath.Join(w.dir, "app.wasm"))
	if res, _ := get(t, http.MethodGet, url, "br, gzip"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("no Wasm: %d", res.StatusCode)
	}
}

func TestWebFiles(t *testing.T) {
	w := newWebDir(t)
	if err := os.Mkdir(filepath.Join(w.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("outside"), 0o644)
	if err := os.Symlink(outside, filepath.Join(w.dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	base := startWeb(t, w.em, w.dir, "")
	res, body := get(t, http.MethodGet, base+"/web/style.css", "br, gzip")
	if res.StatusCode != 200 || string(body) != "body{margin:0}" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		res.Header.Get("Content-Encoding") != "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("style.css: %d %v", res.StatusCode, res.Header)
	}
	for _, p := range []string{"/web/", "/web/sub", "/web/sub/", "/web/nothing.js", "/web/link.txt", "/web/../go.mod", "/web/%2e%2e/web/app.wasm/x"} {
		if res, body := get(t, http.MethodGet, base+p, ""); res.StatusCode != http.StatusNotFound || strings.Contains(string(body), "outside") {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

// With no WebDir the server serves ./web, as `make run` from the module
// root has it.
func TestWebDirDefaultsToTheWorkingDirectory(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := &webDir{dir: filepath.Join(root, "web")}
	w.write(t, "app.wasm", []byte("\x00asm\x01\x00\x00\x00"))
	t.Chdir(root)
	base := startWeb(t, nil, "", "")
	t.Chdir(t.TempDir()) // the directory was resolved once, at start
	if res, body := get(t, http.MethodGet, base+"/web/app.wasm", "br"); res.StatusCode != 200 || string(body) != "\x00asm\x01\x00\x00\x00" {
		t.Fatalf("./web/app.wasm: %d", res.StatusCode)
	}
}

var versionRE = regexp.MustCompile(`"GOAPP_VERSION":"([^"]*)"`)

// appVersion is the go-app version the page's app.js carries.
func appVersion(t *testing.T, base string) string {
	t.Helper()
	res, body := get(t, http.MethodGet, base+"/app.js", "")
	m := versionRE.FindSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("app.js: %d, no version", res.StatusCode)
	}
	if !strings.Contains(string(body), `const goappWasmContentLengthHeader = "`+server.WasmLengthHeader+`"`) {
		t.Fatal("app.js does not read the Wasm's uncompressed length from " + server.WasmLengthHeader)
	}
	return string(m[1])
}

func TestVersionFollowsTheBuild(t *testing.T) {
	w := newWebDir(t)
	v1 := appVersion(t, startWeb(t, w.em, w.dir, ""))
	if v1 == "" || v1 != appVersion(t, startWeb(t, w.em, w.dir, "")) {
		t.Fatalf("the same files gave versions %q and another", v1)
	}
	// A rebuilt Wasm (the encoded files are not part of the version).
	w.write(t, "app.wasm.br", []byte("re-encoded"))
	if v := appVersion(t, startWeb(t, w.em, w.dir, "")); v != v1 {
		t.Fatal("re-encoding alone changed the version")
	}
	w.write(t, ".app.wasm.br.123456", []byte("a compressor's temporary file"))
	if v := appVersion(t, startWeb(t, w.em, w.dir, "")); v != v1 {
		t.Fatal("a hidden file changed the version")
	}
	w.write(t, "app.wasm", append(w.raw, 0))
	v2 := appVersion(t, startWeb(t, w.em, w.dir, ""))
	if v2 == v1 {
		t.Fatal("a new Wasm kept the version")
	}
	w.write(t, "style.css", []byte("body{margin:1px}"))
	if v := appVersion(t, startWeb(t, w.em, w.dir, "")); v == v2 {
		t.Fatal("a new style sheet kept the version")
	}
	if v := appVersion(t, startWeb(t, w.em, w.dir, "v-fixed")); v != "v-fixed" {
		t.Fatalf("Settings.Version was not used: %q", v)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
