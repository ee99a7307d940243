package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// WasmLengthHeader carries the uncompressed size of a .wasm answer. go-app's
// loader shows its progress against it (Handler.WasmContentLengthHeader):
// with Content-Encoding the Content-Length is the compressed size, while the
// loader counts decoded bytes.
const WasmLengthHeader = "X-Wasm-Content-Length"

// precompressed are the encoded siblings a file under /web/ may have, in the
// server's order of preference: "make wasm" writes app.wasm.br and
// app.wasm.gz next to app.wasm.
var precompressed = []struct{ coding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// webFiles serves /web/ from one directory, and is go-app's
// ResourceResolver, so go-app's own /app.wasm alias is served the same way.
//
// A file is served precompressed when the request's Accept-Encoding allows
// it and the encoded sibling (name.br, name.gz) is at least as new as the
// file itself; otherwise as it is. Every answer says Vary: Accept-Encoding
// and Cache-Control: no-cache, as go-app answers everything it serves: the
// URL /web/app.wasm is the same for every build, so browsers must
// revalidate, and the strong ETag (a hash of the bytes sent, so one per
// encoding and the same on every replica of a build) turns that into a
// 304 when nothing changed. go-app's service worker keeps its own copy per
// Version, and the Version changes with the files (see webFiles.version).
type webFiles struct {
	dir string // absolute

	mu    sync.Mutex
	etags map[string]etagEntry // by file path
}

type etagEntry struct {
	size  int64
	mtime time.Time
	tag   string
}

func newWebFiles(dir string) *webFiles {
	return &webFiles{dir: dir, etags: map[string]etagEntry{}}
}

// findWebDir returns the directory served under /web/, made absolute. An
// explicit dir wins; otherwise the first of ./web, <executable dir>/web and
// <executable dir>/../web (bin/embedlab) that holds app.wasm, else ./web.
func findWebDir(dir string) string {
	abs := func(d string) string {
		if a, err := filepath.Abs(d); err == nil {
			return a
		}
		return d
	}
	if dir != "" {
		return abs(dir)
	}
	candidates := []string{"web"}
	if exe, err := os.Executable(); err == nil {
		exeDir := filepath.Dir(exe)
		candidates = append(candidates, filepath.Join(exeDir, "web"), filepath.Join(exeDir, "..", "web"))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(filepath.Join(c, "app.wasm")); err == nil && fi.Mode().IsRegular() {
			return abs(c)
		}
	}
	return abs("web")
}

// Resolve implements app.ResourceResolver as app.LocalDir("") does: /web/...
// stays a path on this origin.
func (*webFiles) Resolve(location string) string {
	switch {
	case location == "" || location == "/":
		return "/"
	case strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://"):
		return location
	case location == "/web" || location == "web" || strings.HasPrefix(location, "/web/") || strings.HasPrefix(location, "web/"):
		return "/" + strings.Trim(location, "/")
	}
	return location
}

// ServeHTTP serves for go-app, which hands over /web/ paths and its
// /app.wasm alias (rewritten to /web/app.wasm).
func (f *webFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch err := f.serve(w, r); {
	case errors.Is(err, errNoFile):
		http.NotFound(w, r)
	case err != nil:
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// handle serves for Echo: a missing file is the usual 404 answer.
func (f *webFiles) handle(c echo.Context) error {
	if err := f.serve(c.Response(), c.Request()); errors.Is(err, errNoFile) {
		return echo.ErrNotFound
	} else if err != nil {
		return fmt.Errorf("serve %s: %w", c.Request().URL.Path, err)
	}
	return nil
}

// errNoFile is every reason to answer 404: no such file, a directory, a
// name that leaves the directory.
var errNoFile = errors.New("no such file")

func (f *webFiles) serve(w http.ResponseWriter, r *http.Request) error {
	rest, ok := strings.CutPrefix(r.URL.Path, "/web/")
	if !ok {
		return errNoFile
	}
	name := strings.TrimPrefix(path.Clean("/"+rest), "/")
	if name == "" {
		return errNoFile
	}
	raw, rawInfo, err := f.open(name)
	if err != nil {
		return err
	}
	defer raw.Close()

	// The best encoded sibling the client accepts, if any is up to date.
	body, info, coding := raw, rawInfo, ""
	accept := parseAcceptEncoding(r.Header.Get("Accept-Encoding"))
	best := accept.identity // an encoding must be liked at least as much as none
	for _, p := range precompressed {
		q := accept.q(p.coding)
		if q <= 0 || q < best || (coding != "" && q == best) {
			continue
		}
		enc, encInfo, err := f.open(name + p.suffix)
		if err != nil {
			continue
		}
		if encInfo.ModTime().Before(rawInfo.ModTime()) {
			// Left from an older build: the file was rebuilt since.
			enc.Close()
			continue
		}
		if body != raw {
			body.Close()
		}
		body, info, coding, best = enc, encInfo, p.coding, q
	}
	if body != raw {
		defer body.Close()
	}
	tag, err := f.etag(body, info)
	if err != nil {
		return err
	}

	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", tag)
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".wasm" {
		// instantiateStreaming refuses anything else, whatever the
		// system's MIME table says.
		ctype = "application/wasm"
		h.Set(WasmLengthHeader, strconv.FormatInt(rawInfo.Size(), 10))
	}
	if coding != "" {
		h.Set("Content-Encoding", coding)
		if ctype == "" {
			ctype = "application/octet-stream" // never sniffed from encoded bytes
		}
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	// ServeContent leaves Content-Length out when Content-Encoding is set;
	// it replaces it for a range and drops it for a 304 or an error.
	h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	http.ServeContent(w, r, name, info.ModTime(), body)
	return nil
}

// open opens a regular file of the directory. os.OpenInRoot refuses names
// and symbolic links that lead out of it.
func (f *webFiles) open(name string) (*os.File, fs.FileInfo, error) {
	file, err := os.OpenInRoot(f.dir, filepath.FromSlash(name))
	if err != nil {
		return nil, nil, errNoFile
	}
	info, err := file.Stat()
	if err != nil || !info.Mode().IsRegular() {
		file.Close()
		return nil, nil, errNoFile
	}
	return file, info, nil
}

// etag is a strong validator: a hash of the file's bytes, computed once per
// file version (size and modification time).
func (f *webFiles) etag(file *os.File, info fs.FileInfo) (string, error) {
	key := file.Name()
	f.mu.Lock()
	e, ok := f.etags[key]
	f.mu.Unlock()
	if ok && e.size == info.Size() && e.mtime.Equal(info.ModTime()) {
		return e.tag, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(file, 0, info.Size())); err != nil {
		return "", err
	}
	tag := `"` + hex.EncodeToString(sum.Sum(nil)[:12]) + `"`
	f.mu.Lock()
	f.etags[key] = etagEntry{size: info.Size(), mtime: info.ModTime(), tag: tag}
	f.mu.Unlock()
	return tag, nil
}

// version returns a go-app Version that changes whenever what the browser
// caches changes: every file of the directory (the encoded siblings aside,
// they only re-encode their file) and the page settings in config. The
// same build gives the same Version, on every start and every replica, so
// browsers do not reinstall an unchanged app. It is "" when app.wasm is
// missing, which leaves go-app to make a new Version at each start.
func (f *webFiles) version(config string, log *slog.Logger) string {
	if fi, err := os.Stat(filepath.Join(f.dir, "app.wasm")); err != nil || !fi.Mode().IsRegular() {
		log.Warn("the Wasm is missing: build it with `make wasm`, then restart", "file", filepath.Join(f.dir, "app.wasm"))
		return ""
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "config %q\n", config)
	var names []string
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Hidden files are no part of the app: the compressor's temporary
		// files, editors' and tools' leftovers.
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") && !slices.ContainsFunc(precompressed, func(c struct{ coding, suffix string }) bool {
			return strings.HasSuffix(p, c.suffix)
		}) {
			names = append(names, p)
		}
		return nil
	})
	if err == nil {
		for _, p := range names { // WalkDir goes in lexical order
			rel, _ := filepath.Rel(f.dir, p)
			fmt.Fprintf(sum, "file %q\n", filepath.ToSlash(rel))
			var n int64
			if n, err = hashFile(sum, p); err != nil {
				break
			}
			fmt.Fprintf(sum, "\n%d bytes\n", n)
		}
	}
	if err != nil {
		log.Warn("cannot read the web directory to version the app; go-app makes a new version at each start", "err", err)
		return ""
	}
	return hex.EncodeToString(sum.Sum(nil)[:10])
}

func hashFile(h hash.Hash, name string) (int64, error) {
	file, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	return io.Copy(h, file)
}

// acceptEncoding is a parsed Accept-Encoding header (RFC 9110 12.5.3).
type acceptEncoding struct {
	codings  map[string]float64
	star     float64 // q of "*"; -1 when absent
	identity float64 // q of identity when listed, for preference only
}

func parseAcceptEncoding(header string) acceptEncoding {
	a := acceptEncoding{codings: map[string]float64{}, star: -1}
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(param, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0 // a malformed weight accepts nothing
				}
			}
		}
		switch coding {
		case "*":
			a.star = q
		case "identity":
			a.identity = q
		case "x-gzip":
			a.codings["gzip"] = q
		default:
			a.codings[coding] = q
		}
	}
	return a
}

// q is how much the client accepts coding: 0 is not at all.
func (a acceptEncoding) q(coding string) float64 {
	if q, ok := a.codings[coding]; ok {
		return q
	}
	return max(a.star, 0)
}
