// Command bench measures embedlab and prints a table; `make bench` runs it
// and keeps the numbers in .bench/results.json.
//
//	go run ./backend/bench [-run REGEXP] [-out .bench/results.json] [-web web]
//
// Each measurement is a function in the measurements list that returns
// rows; add a function there (and, if it needs a workspace, use the shared
// in-process emulator, env.stack) to add rows. Measurements:
//
//   - wasm: the sizes of web/app.wasm, .gz and .br (make wasm builds them).
//   - browser: page open to dashboard rows visible in headless Chromium,
//     cold (new profile or browser context) and warm (go-app's service
//     worker), medians of several loads (browser.go).
//   - tokens: embed-token requests per second and p50/p99 latency through
//     the whole backend over loopback HTTP, for one viewer (cache warm) and
//     for many distinct viewers (cache cold), with the workspace's limits
//     off and on.
//   - upstream: workspace calls per 1,000 page loads over N viewers.
//   - emulator: dashboard loads per second the emulator's query API holds,
//     its limit off and at 20/s (emuload.go).
//   - memory: the backend's memory with 10,000 cached viewers, measured in a
//     child process that holds only the backend.
//   - room: a classroom: `embedlab serve` with N simulated participants
//     doing every exercise at once, and the trainer grid's read time at
//     that load (room.go).
//
// The emulator, the backend and the load generator share the machine's
// CPUs, so absolute numbers are for comparing runs on one machine.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// measurement is one group of rows.
type measurement struct {
	name string
	run  func(ctx context.Context, env *env) ([]Row, error)
}

var measurements = []measurement{
	{"wasm", measureWasm},
	{"browser", measureBrowser},
	{"tokens", measureTokens},
	{"upstream", measureUpstream},
	{"emulator", measureEmulator},
	{"memory", measureMemory},
	{"room", measureRoom},
}

// options are the command line's settings.
type options struct {
	web           string
	clients       int
	warmFor       time.Duration
	coldViewers   int
	limitViewers  int
	loadsOver     []int
	memoryViewers int
	pageLoads     int
	coldPageLoads int
	emulatorFor   time.Duration
	roomSizes     []int
}

func main() {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	out := flag.String("out", ".bench/results.json", "where to write the results as JSON")
	run := flag.String("run", "", "run only the measurements whose name matches this regular expression")
	var o options
	flag.StringVar(&o.web, "web", "web", "the directory with app.wasm, app.wasm.gz and app.wasm.br")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients in the token measurements")
	flag.DurationVar(&o.warmFor, "warm-for", 3*time.Second, "how long to load one warm viewer")
	flag.IntVar(&o.coldViewers, "cold-viewers", 1500, "distinct viewers loaded once each, workspace limits off")
	flag.IntVar(&o.limitViewers, "limited-viewers", 100, "distinct viewers loaded once each at the workspace's 20 calls/s")
	flag.IntVar(&o.memoryViewers, "memory-viewers", 10000, "cached viewers in the memory measurement")
	flag.IntVar(&o.pageLoads, "page-loads", 7, "page loads in one browser profile: the first cold, the rest warm")
	flag.IntVar(&o.coldPageLoads, "cold-page-loads", 2, "more cold page loads, each in a fresh browser context")
	flag.DurationVar(&o.emulatorFor, "emulator-for", 3*time.Second, "how long to load the emulator's dashboards, limit off and on")
	rooms := flag.String("room-participants", "30,60", "room sizes: simulated participants doing every exercise at once")
	flag.Parse()
	o.loadsOver = []int{1, 10, 100, 1000}
	for _, f := range strings.Split(*rooms, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bench: -room-participants: a comma-separated list of counts, e.g. 30,60")
			os.Exit(2)
		}
		o.roomSizes = append(o.roomSizes, n)
	}
	re, err := regexp.Compile(*run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -run:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep := &Report{Started: time.Now().UTC(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU()}
	e := &env{opts: o}
	defer e.close()
	failed := false
	for _, m := range measurements {
		if !re.MatchString(m.name) {
			continue
		}
		start := time.Now()
		rows, err := m.run(ctx, e)
		if err != nil {
			failed = true
			rows = append(rows, Row{Group: m.name, Name: m.name + " failed", Note: err.Error()})
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", m.name, err)
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Seconds = append(rep.Seconds, GroupTime{m.name, time.Since(start).Seconds()})
		if ctx.Err() != nil {
			break
		}
	}
	rep.Duration = time.Since(rep.Started).Seconds()
	rep.print(os.Stdout)
	if err := writeJSON(*out, rep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		failed = true
	} else {
		fmt.Printf("\nresults: %s\n", *out)
	}
	if failed || ctx.Err() != nil {
		e.close()
		os.Exit(1)
	}
}

func writeJSON(path string, rep *Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// env holds what measurements share: the emulator, started on first use.
type env struct {
	opts  options
	stack *stack
}

func (e *env) workspace() (*stack, error) {
	if e.stack == nil {
		s, err := newStack()
		if err != nil {
			return nil, err
		}
		e.stack = s
	}
	return e.stack, nil
}

func (e *env) close() {
	if e.stack != nil {
		e.stack.close()
		e.stack = nil
	}
}
