//go:build !noemulator

package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"embedlab/backend/roomsim"
	"embedlab/backend/testkit"
)

// roomLogins runs `embedlab room` for n participants and returns their
// logins and the trainer's, from the printed join codes.
func roomLogins(t *testing.T, n int) (string, []roomsim.Login, roomsim.Login) {
	t.Helper()
	file := t.TempDir() + "/room-users.json"
	var out testkit.Buffer
	if err := run(context.Background(), []string{"room", "-participants", itoa(n), "-out", file}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	trainer, ps := roomsim.ParseLogins(out.String())
	if len(ps) != n || trainer.Name != "admin" {
		t.Fatalf("room printed %d logins:\n%s", len(ps), out.String())
	}
	return file, ps, trainer
}

func itoa(n int) string { return strconv.Itoa(n) }

// Thirty participants in one room, every exercise at once, each with the
// values their own exercises show: no check is green before the
// participant's own calls, every exercise goes green after them, nothing
// errs, and the trainer's grid, read all along, ends exactly right.
func TestThirtyParticipantsEveryExerciseAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a room of 30 takes a while")
	}
	users, ps, trainer := roomLogins(t, 30)
	app, _ := startRoom(t, map[string]string{"EMBEDLAB_USERS_FILE": users})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := roomsim.Run(ctx, roomsim.Options{AppURL: app, Participants: ps, Trainer: trainer})
	t.Logf("%d participants × %d exercises in %s; %d rate-limit waits; %d grid reads",
		res.Participants, len(roomsim.Exercises), res.Duration.Round(time.Millisecond), res.Retries, len(res.GridReads))
	if res.WrongCredits != 0 {
		t.Errorf("%d wrong credits", res.WrongCredits)
	}
	if len(res.Errors) > 0 {
		t.Errorf("%d errors, e.g.:\n%s", len(res.Errors), strings.Join(res.Errors[:min(10, len(res.Errors))], "\n"))
	}
	if want := 30 * len(roomsim.Exercises); res.Passed != want {
		t.Errorf("%d exercises passed, want %d", res.Passed, want)
	}
	if errs := roomsim.GridErrors(res.Grid, ps); len(errs) > 0 {
		t.Errorf("the trainer's grid is wrong:\n%s", strings.Join(errs[:min(10, len(errs))], "\n"))
	}
	if len(res.GridReads) == 0 {
		t.Error("the trainer's grid was never read during the run")
	}
}
