package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// wasmGoalMB is the most the Wasm may weigh as transferred.
const wasmGoalMB = 2.0

// measureWasm reports the sizes of the built Wasm and its encoded forms.
// Browsers offer br over HTTPS (a Databricks App) and to localhost, so the
// brotli form is what is transferred and carries the goal; the gzip form
// goes only to clients without br (plain HTTP to another host).
func measureWasm(_ context.Context, e *env) ([]Row, error) {
	raw := filepath.Join(e.opts.web, "app.wasm")
	rawInfo, err := os.Stat(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: build it with `make wasm`", err)
	}
	rows := []Row{{Group: "wasm", Name: "wasm raw (" + raw + ")", Value: mb(rawInfo.Size()), Unit: "MB", Note: "sent to clients without gzip or br"}}
	for _, v := range []struct {
		suffix, label, note string
		goal                bool
	}{
		{".gz", "wasm gzip -9", "sent to clients without br (plain HTTP to a non-local host)", false},
		{".br", "wasm brotli, as transferred", "sent over HTTPS and to localhost", true},
	} {
		row := Row{Group: "wasm", Name: v.label + " (" + raw + v.suffix + ")", Unit: "MB", Note: v.note}
		info, err := os.Stat(raw + v.suffix)
		switch {
		case err != nil:
			row.Note = "missing: run `make wasm`; the server sends the next form instead"
		case info.ModTime().Before(rawInfo.ModTime()):
			row.Note = "stale (older than app.wasm): run `make wasm`; the server does not send it"
			row.Value = mb(info.Size())
		default:
			row.Value = mb(info.Size())
			row.Note += fmt.Sprintf("; %.1f%% of raw", 100*float64(info.Size())/float64(rawInfo.Size()))
		}
		if v.goal {
			ok := err == nil && !info.ModTime().Before(rawInfo.ModTime()) && row.Value <= wasmGoalMB
			row = row.withGoal(fmt.Sprintf("<= %.0f MB", wasmGoalMB), ok)
		} else if row.Value > wasmGoalMB {
			row.Note += fmt.Sprintf("; over the %.0f MB goal", wasmGoalMB)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }
