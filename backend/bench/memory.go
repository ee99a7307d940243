package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"embedlab/backend/assemble"
	"embedlab/backend/config"
)

// The memory measurement runs the backend alone in a child process (this
// program again, with childEnv set), so the emulator and the load
// generator are not counted. The child is embedlab as assemble wires it for
// a real workspace (the emulator, at its URL, stands for one): it prints
// "listening URL", serves until its stdin closes, and answers childMemPath
// with its memory.
const (
	childEnv     = "EMBEDLAB_BENCH_CHILD"
	childConfig  = "EMBEDLAB_BENCH_CONFIG" // the child's settings (environment variables) as JSON
	childMemPath = "/_bench/memory"
)

// memStats is the child's memory after a garbage collection.
type memStats struct {
	HeapInuse uint64 `json:"heap_inuse"`
	HeapAlloc uint64 `json:"heap_alloc"`
	Sys       uint64 `json:"sys"`
	RSS       uint64 `json:"rss"` // VmRSS, 0 where /proc is missing
	// SettledRSS is VmRSS once the runtime has returned the pages the
	// filling left free, as its background scavenger does over minutes.
	SettledRSS uint64 `json:"settled_rss"`
	// Cached is the backend's embedlab_token_cache_entries (/metrics).
	Cached int `json:"-"`
}

func measureMemory(ctx context.Context, e *env) ([]Row, error) {
	s, err := e.workspace()
	if err != nil {
		return nil, err
	}
	if err := s.em.SetRateLimit(0); err != nil {
		return nil, err
	}
	n := e.opts.memoryViewers
	file, ids, err := benchViewers(s.dir, n)
	if err != nil {
		return nil, err
	}
	ch, err := startChild(map[string]string{"INSTANCE_URL": s.em.URL(), "WORKSPACE_ID": s.em.WorkspaceID(), "DASHBOARD_ID": s.cfg.DashboardID,
		"SERVICE_PRINCIPAL_ID": s.cfg.ClientID, "SERVICE_PRINCIPAL_SECRET": s.cfg.ClientSecret, "EMBEDLAB_VIEWERS_FILE": file, "EMBEDLAB_DATA_DIR": s.dir})
	if err != nil {
		return nil, err
	}
	defer ch.stop()

	c, err := login(ctx, ch.url, e.opts.clients)
	if err != nil {
		return nil, err
	}
	before, err := ch.memory(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := load(ctx, c, e.opts.clients*2, func(i int) (string, bool) { return at(ids, i) }); err != nil {
		return nil, err
	}
	fill := time.Since(start)
	after, err := ch.memory(ctx)
	if err != nil {
		return nil, err
	}
	if after.Cached != n {
		return nil, fmt.Errorf("the backend cached %d viewers, not %d", after.Cached, n)
	}
	label := fmt.Sprintf("backend with %d cached viewers", n)
	perViewer := (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(n) / 1e3
	rows := []Row{
		{Group: "memory", Name: label + ": heap in use", Value: mb(int64(after.HeapInuse)), Unit: "MB",
			Note: fmt.Sprintf("%.1f MB before the cache filled (%d viewers configured)", mb(int64(before.HeapInuse)), n)},
		{Group: "memory", Name: label + ": heap per cached viewer", Value: perViewer, Unit: "KB"},
		{Group: "memory", Name: label + ": Go runtime Sys", Value: mb(int64(after.Sys)), Unit: "MB"},
	}
	rss := Row{Group: "memory", Name: label + ": resident (VmRSS)", Value: mb(int64(after.RSS)), Unit: "MB",
		Note: fmt.Sprintf("filled in %.1fs, %.0f new viewers/s", fill.Seconds(), float64(n)/fill.Seconds())}
	settled := Row{Group: "memory", Name: label + ": resident, settled", Value: mb(int64(after.SettledRSS)), Unit: "MB",
		Note: "after GC with the freed pages returned to the OS (debug.FreeOSMemory), as the runtime's scavenger does in time"}.withGoal("< 50 MB", after.SettledRSS < 50e6)
	if after.RSS == 0 {
		rss.Note, settled.Note = "no /proc/self/status here", "no /proc/self/status here"
	}
	return append(rows, rss, settled), nil
}

// child is the backend process of the memory measurement.
type child struct {
	cmd   *exec.Cmd
	stdin io.Closer
	url   string
}

func startChild(settings map[string]string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=backend", childConfig+"="+string(cfg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		u, ok := strings.CutPrefix(strings.TrimSpace(l), "listening ")
		if !ok {
			ch.stop()
			return nil, fmt.Errorf("the backend process did not start: %q", l)
		}
		ch.url = u
	case <-time.After(30 * time.Second):
		ch.stop()
		return nil, errors.New("the backend process did not start within 30s")
	}
	return ch, nil
}

// stop closes the child's stdin, which ends it, and kills it if it lingers.
func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

func (c *child) memory(ctx context.Context) (memStats, error) {
	var m memStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+childMemPath, nil)
	if err != nil {
		return m, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return m, fmt.Errorf("memory: %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return m, err
	}
	cached, err := metric(ctx, c.url, "embedlab_token_cache_entries")
	m.Cached = int(cached)
	return m, err
}

// runChild is the child's main: the backend and the memory endpoint.
func runChild() error {
	var settings map[string]string
	if err := json.Unmarshal([]byte(os.Getenv(childConfig)), &settings); err != nil {
		return fmt.Errorf("%s: %w", childConfig, err)
	}
	getenv := func(k string) string { return settings[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	cfg.UpstreamRate = unlimited // above what EMBEDLAB_UPSTREAM_RATE accepts
	srv, err := assemble.App(context.Background(), cfg, getenv, nil, nil, quiet)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.HandleFunc("GET "+childMemPath, func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := vmRSS()
		debug.FreeOSMemory()
		_ = json.NewEncoder(w).Encode(memStats{HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, Sys: ms.Sys, RSS: rss, SettledRSS: vmRSS()})
	})
	base, hs, err := listen(mux)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", base)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return hs.Close()
}

// vmRSS reads the resident set size from /proc/self/status.
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
