// Package browsertest starts Debian's headless Chromium for end-to-end tests
// through chromedp, and saves screenshots where people can look at them.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $EMBEDLAB_CHROMIUM (the Makefile sets it),
// else chromium on the PATH.
func chromium() string {
	if p := os.Getenv("EMBEDLAB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Chromium finds the browser: $EMBEDLAB_CHROMIUM, else chromium on the
// PATH; "" when there is none.
func Chromium() string { return chromium() }

// Options are the allocator options every embedlab browser uses: headless
// Debian Chromium at path, a profile in dir, and site isolation off, so a
// cross-origin frame is part of the page's target and FrameEval can read it
// (the frame is still cross-origin to the page's own script).
func Options(path, dir string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,SitePerProcess,IsolateOrigins"),
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(dir),
	)
}

// New starts a headless browser for the test and returns its context,
// bounded by timeout. A missing browser fails the test, with the fix:
// browser tests are part of `make test`, never silently skipped.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	return NewWith(t, timeout)
}

// NewWith is New with extra allocator options after Options' own, for a
// test that needs more of the browser, e.g. a room served by host name:
// chromedp.Flag("host-resolver-rules", "MAP trainer.internal 10.0.0.1").
func NewWith(t testing.TB, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Fatal("Chromium is needed for browser tests: run `make test` (it installs Debian's chromium) or apt-get install chromium")
	}
	opts := append(Options(path, t.TempDir()), extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	// The window size leaves a smaller viewport in headless mode; tests and
	// screenshots are meant for what a 1280x800 screen shows.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}

// Screenshot saves the page as artifacts/screenshots/<name>.png at the
// module root (git-ignored) and returns the file's path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(moduleRoot(t), "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
