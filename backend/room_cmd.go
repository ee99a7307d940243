package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/crypto/bcrypt"

	"embedlab/backend/session"
	"embedlab/shared/api"
)

// runRoom writes a users file for a classroom: one login per participant,
// each with a join code for the trainer to hand out, and the trainer's.
// Serve it with EMBEDLAB_USERS_FILE; each participant signs in with their
// name and code and gets workspace identities of their own.
func runRoom(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("room", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("participants", 30, "how many participants (p01, p02...), unless -names is given")
	names := fs.String("names", "", "the participants' login names, comma separated (lower case, no spaces)")
	trainer := fs.String("trainer", "admin", "the trainer's login name (given the roles trainer and server-identities)")
	out := fs.String("out", "room-users.json", "the users file to write (it must not exist)")
	if err := fs.Parse(args); err != nil {
		return &exitError{exitUsage, err}
	}
	list := []string{}
	if *names != "" {
		for _, s := range strings.Split(*names, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
	} else {
		if *n < 1 || *n > 500 {
			return &exitError{exitUsage, fmt.Errorf("-participants %d: from 1 to 500", *n)}
		}
		for i := 1; i <= *n; i++ {
			list = append(list, fmt.Sprintf("p%02d", i))
		}
	}
	type user struct {
		Name        string   `json:"name"`
		DisplayName string   `json:"display_name"`
		Hash        string   `json:"password_bcrypt"`
		Roles       []string `json:"roles,omitempty"`
	}
	type row struct{ name, code string }
	var users []user
	var rows []row
	for i, name := range append([]string{*trainer}, list...) {
		code := joinCode()
		h, err := bcrypt.GenerateFromPassword([]byte(code), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		u := user{Name: name, DisplayName: "Participant " + name, Hash: string(h)}
		if i == 0 { // the trainer runs the lab and may show the server's identities
			u.DisplayName, u.Roles = "Trainer", []string{api.RoleTrainer, api.RoleServerIdentities}
		}
		users = append(users, u)
		rows = append(rows, row{name, code})
	}
	b, err := json.MarshalIndent(map[string]any{
		"_note": "A classroom's logins, made by `embedlab room`: hand each participant their name and join code.",
		"users": users}, "", "  ")
	if err != nil {
		return err
	}
	if _, err := session.ParseUsers(*out, b); err != nil { // the server will read it the same way
		return &exitError{exitUsage, err}
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return &exitError{exitUsage, fmt.Errorf("%s exists: pick another -out (its codes were handed out already)", *out)}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: serve the room with\n  EMBEDLAB_USERS_FILE=%s EMBEDLAB_ROOM_HOST=<this machine's address> make run\n\n", *out, *out)
	tw := tabwriter.NewWriter(stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "name\tjoin code")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.name, r.code)
	}
	return tw.Flush()
}

// joinCode is a code easy to read out and type: 12 letters and digits
// (about 60 bits) in groups of four.
func joinCode() string {
	t := strings.ToLower(rand.Text()[:12])
	return t[:4] + "-" + t[4:8] + "-" + t[8:]
}
