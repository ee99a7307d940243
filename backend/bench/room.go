package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"embedlab/backend/apps"
	"embedlab/backend/roomsim"
)

// measureRoom is a classroom on one machine: the embedlab command itself
// (built, then run as `embedlab serve` with a users file from `embedlab
// room`), and N simulated participants doing every exercise at once with
// the values their own exercises show (backend/roomsim), while the trainer
// reads the grid every 500 ms. For each N: how long until all were done,
// wrong credits and errors (both must be 0), and the grid's read time at
// that load.
func measureRoom(ctx context.Context, e *env) ([]Row, error) {
	dir, err := os.MkdirTemp("", "embedlab-bench-room-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "embedlab")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./backend").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build embedlab: %v\n%s", err, out)
	}
	var rows []Row
	for _, n := range e.opts.roomSizes {
		r, ps, err := roomRun(ctx, bin, dir, n)
		if err != nil {
			return rows, fmt.Errorf("%d participants: %w", n, err)
		}
		reads := make([]float64, 0, len(r.GridReads))
		for _, d := range r.GridReads {
			reads = append(reads, float64(d.Microseconds())/1000)
		}
		slices.Sort(reads)
		pct := func(p float64) float64 {
			if len(reads) == 0 {
				return 0
			}
			return reads[min(len(reads)-1, int(p*float64(len(reads))))]
		}
		held := r.WrongCredits == 0 && len(r.Errors) == 0 && r.Passed == n*len(roomsim.Exercises) && len(roomsim.GridErrors(r.Grid, ps)) == 0
		note := fmt.Sprintf("%d exercises green of %d; %d rate-limit waits (the workspace's 20 tokeninfo calls/s, 429 then retry)",
			r.Passed, n*len(roomsim.Exercises), r.Retries)
		if len(r.Errors) > 0 {
			note += "; first error: " + r.Errors[0]
		}
		name := fmt.Sprintf("room of %d, every exercise at once", n)
		rows = append(rows,
			Row{Group: "room", Name: name + ": all done in", Value: r.Duration.Seconds(), Unit: "s", Note: note}.withGoal("0 wrong credits, 0 errors", held),
			Row{Group: "room", Name: name + ": wrong credits", Value: float64(r.WrongCredits), Unit: "credits"}.withGoal("0", r.WrongCredits == 0),
			Row{Group: "room", Name: name + ": errors, grid mistakes", Value: float64(len(r.Errors) + len(roomsim.GridErrors(r.Grid, ps))), Unit: "errors"}.withGoal("0", len(r.Errors)+len(roomsim.GridErrors(r.Grid, ps)) == 0),
			Row{Group: "room", Name: name + ": trainer grid read, p50", Value: pct(0.5), Unit: "ms", Note: fmt.Sprintf("%d reads during the run", len(reads))},
			Row{Group: "room", Name: name + ": trainer grid read, p99 / max", Value: pct(0.99), Unit: "ms", Note: fmt.Sprintf("max %.2f ms", pct(1))},
		)
	}
	return rows, nil
}

// roomRun starts `embedlab serve` for n participants and runs the room.
func roomRun(ctx context.Context, bin, dir string, n int) (roomsim.Result, []roomsim.Login, error) {
	users := filepath.Join(dir, fmt.Sprintf("room-%d.json", n))
	out, err := exec.CommandContext(ctx, bin, "room", "-participants", strconv.Itoa(n), "-out", users).Output()
	if err != nil {
		return roomsim.Result{}, nil, fmt.Errorf("embedlab room: %w", err)
	}
	trainer, ps := roomsim.ParseLogins(string(out))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return roomsim.Result{}, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(sctx, bin, "serve")
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "EMBEDLAB_EMULATOR_ADDR=127.0.0.1:0", "EMBEDLAB_USERS_FILE="+users,
		"EMBEDLAB_DATA_DIR="+filepath.Join(dir, fmt.Sprintf("data-%d", n)), "DATABRICKS_CONFIG_FILE="+filepath.Join(dir, "none"))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return roomsim.Result{}, nil, err
	}
	if err := cmd.Start(); err != nil {
		return roomsim.Result{}, nil, err
	}
	defer func() { cancel(); _ = cmd.Wait() }() // stop serve (SIGINT), then reap it
	app := "http://localhost:" + strconv.Itoa(port)
	sc := bufio.NewScanner(stdout)
	started := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "app on "+app) {
			started = true
			break
		}
	}
	if !started {
		return roomsim.Result{}, nil, fmt.Errorf("embedlab serve did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Minute)
	defer rcancel()
	return roomsim.Run(rctx, roomsim.Options{AppURL: app, Participants: ps, Trainer: trainer, Transport: apps.LocalhostTransport()}), ps, nil
}
