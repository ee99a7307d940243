package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is what results.json holds.
type Report struct {
	Started  time.Time   `json:"started"`
	Go       string      `json:"go"`
	OS       string      `json:"os"`
	CPUs     int         `json:"cpus"`
	Duration float64     `json:"duration_seconds"`
	Seconds  []GroupTime `json:"group_seconds"`
	Rows     []Row       `json:"rows"`
}

// GroupTime is how long one measurement took.
type GroupTime struct {
	Group   string  `json:"group"`
	Seconds float64 `json:"seconds"`
}

// Row is one number. Goal and OK are set when the number has a target.
type Row struct {
	Group string  `json:"group"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Goal  string  `json:"goal,omitempty"`
	OK    *bool   `json:"ok,omitempty"`
	Note  string  `json:"note,omitempty"`
}

// withGoal sets the goal text and whether the value meets it.
func (r Row) withGoal(goal string, ok bool) Row {
	r.Goal, r.OK = goal, &ok
	return r
}

// decimals per unit, for the table.
var decimals = map[string]int{"MB": 2, "KB": 1, "ms": 2, "req/s": 0, "calls": 0, "%": 1, "viewers": 0, "loads/s": 0, "responses": 0, "credits": 0, "errors": 0, "s": 1}

func (r Row) value() string {
	if r.Unit == "" && r.Value == 0 {
		return "-"
	}
	d, ok := decimals[r.Unit]
	if !ok {
		d = 2
	}
	return strings.TrimSpace(fmt.Sprintf("%.*f %s", d, r.Value, r.Unit))
}

func (r Row) status() string {
	switch {
	case r.OK == nil:
		return ""
	case *r.OK:
		return "ok"
	default:
		return "MISSED"
	}
}

// print writes the table: names left-aligned, values right-aligned.
func (rep *Report) print(w io.Writer) {
	fmt.Fprintf(w, "embedlab bench, %s %s, %d CPUs, %s\n\n", rep.Go, rep.OS, rep.CPUs, rep.Started.Format(time.RFC3339))
	nameW, valueW, goalW := len("measurement"), len("value"), len("goal")
	for _, r := range rep.Rows {
		nameW, valueW, goalW = max(nameW, len(r.Name)), max(valueW, len(r.value())), max(goalW, len(r.Goal))
	}
	line := func(name, value, goal, status, note string) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-*s  %*s  %-*s  %-6s  %s", nameW, name, valueW, value, goalW, goal, status, note), " "))
	}
	line("measurement", "value", "goal", "", "note")
	line(strings.Repeat("-", nameW), strings.Repeat("-", valueW), strings.Repeat("-", goalW), "------", "----")
	group := ""
	for _, r := range rep.Rows {
		if r.Group != group && group != "" {
			fmt.Fprintln(w)
		}
		group = r.Group
		line(r.Name, r.value(), r.Goal, r.status(), r.Note)
	}
	var parts []string
	for _, g := range rep.Seconds {
		parts = append(parts, fmt.Sprintf("%s %.1fs", g.Group, g.Seconds))
	}
	fmt.Fprintf(w, "\ntook %.1fs (%s)\n", rep.Duration, strings.Join(parts, ", "))
}
