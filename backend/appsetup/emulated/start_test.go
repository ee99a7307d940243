package emulated

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"embedlab/backend/config"
)

// openFiles counts this process's open files whose path starts with prefix.
func openFiles(t *testing.T, prefix string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if p, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// Every app assembled on one workspace builds its own lab and so opens the
// workshop's progress database again (the bench assembles several): Stop
// closes them all, not only the last.
func TestStopClosesTheProgressOfEveryLab(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"EMBEDLAB_EMULATOR_ADDR": "127.0.0.1:0", "EMBEDLAB_DATA_DIR": dir}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(cfg, &strings.Builder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := w.Emulated.Lab(func() {}); err != nil {
			_ = w.Stop(context.Background())
			t.Fatal(err)
		}
	}
	if n := openFiles(t, dir); n == 0 {
		t.Fatalf("no file of %s open with two labs built: the check cannot see the progress database", dir)
	}
	if err := w.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := openFiles(t, dir); n != 0 {
		t.Fatalf("after Stop, %d files of %s are still open", n, dir)
	}
}
