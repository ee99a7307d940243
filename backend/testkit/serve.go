package testkit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"embedlab/backend/appsetup/emulated"
	"embedlab/backend/assemble"
	"embedlab/backend/config"
	"embedlab/backend/emulator"
	"embedlab/backend/httpserve"
	"embedlab/backend/server"
)

// App is embedlab served the way `embedlab serve` serves it with no
// workspace configured: the bundled emulator, and the app wired by
// assemble, on random ports of 127.0.0.1 (or of the room host).
type App struct {
	// URL is where browsers reach the app, e.g. http://127.0.0.1:41234.
	URL      string
	Emulator *emulator.Emulator
	Config   *config.Config
	Server   *server.Server
	// Log is every log line of the app and its emulator, and Out what
	// serve prints on the terminal (the emulator's admin key among it).
	Log, Out *Buffer
}

// Serve starts embedlab with env as its environment, on top of these
// defaults: PORT a free port, EMBEDLAB_PUBLIC_URL that port's origin on
// 127.0.0.1 (so the workspace lets it embed), EMBEDLAB_EMULATOR_ADDR
// 127.0.0.1:0 and EMBEDLAB_DATA_DIR a temporary folder. With
// EMBEDLAB_ROOM_HOST set, the app and emulator listen on that host and the
// room's own defaults apply. Everything stops when the test ends.
func Serve(t testing.TB, env map[string]string) *App {
	t.Helper()
	host := "127.0.0.1"
	if h := env["EMBEDLAB_ROOM_HOST"]; h != "" {
		host = h
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", host, err)
	}
	// Closed here when the test fails before serving it (serving closes it
	// too; a second Close does nothing).
	t.Cleanup(func() { _ = ln.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	vars := map[string]string{"PORT": port, "EMBEDLAB_EMULATOR_ADDR": net.JoinHostPort(host, "0"), "EMBEDLAB_DATA_DIR": t.TempDir()}
	if env["EMBEDLAB_ROOM_HOST"] == "" {
		vars["EMBEDLAB_PUBLIC_URL"] = "http://" + net.JoinHostPort(host, port)
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatalf("testkit.Serve: configuration: %v", err)
	}
	if !cfg.Emulated {
		t.Fatal("testkit.Serve serves the emulator: env names a real workspace")
	}
	a := &App{Config: cfg, Log: &Buffer{}, Out: &Buffer{}}
	logger := slog.New(slog.NewTextHandler(a.Log, nil))
	w, err := emulated.Start(cfg, a.Out, logger)
	if err != nil {
		t.Fatalf("testkit.Serve: the emulator: %v", err)
	}
	a.Emulator = w.Emulator
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	a.Server, err = assemble.App(context.Background(), cfg, getenv, w.Emulated, w.Pages, logger)
	if err != nil {
		t.Fatalf("testkit.Serve: the app: %v", err)
	}
	srv := httpserve.New(a.Server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(httpserve.Listener(ln, logger)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("testkit.Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	a.URL = cfg.PublicURL
	if a.URL == "" {
		a.URL = "http://" + ln.Addr().String()
	}
	return a
}

// Buffer is an io.Writer that many goroutines may write while a test reads
// it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

var _ io.Writer = (*Buffer)(nil)

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
