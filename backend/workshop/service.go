package workshop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"embedlab/shared/api"
)

// Source is where checkpoints read the workspace's logs.
type Source interface {
	// Entries returns the entries of log (LogRequest or LogAudit) with a
	// sequence number above after.
	Entries(log string, after int64) []Entry
	// Cursors are the last sequence numbers of the request and audit logs.
	Cursors() (request, audit int64)
}

// Options configure a Service.
type Options struct {
	Exercises []*Exercise
	Store     *Store
	Source    Source
	// Vars template the exercises' texts; User is filled in per request.
	Vars Vars
	// ResetWorkspace restores the emulated workspace (the fault lab's reset).
	ResetWorkspace func() error
	// Identities, when set, gives each participant workspace identities of
	// their own (participants.go): their exercises show their own values
	// and a checkpoint counts only the log lines they own. Nil: everyone
	// shares the workspace's demo identities.
	Identities Identities
	Now        func() time.Time
}

// Service is the workshop: exercises, checks and progress.
type Service struct {
	o    Options
	boot string
	byID map[string]*Exercise
	mkMu sync.Mutex // one participant's identities are made once
}

// Error is a refusal with its HTTP status, for the server's error handler.
type Error struct {
	Status       int
	Code, Detail string
}

func (e *Error) Error() string { return e.Detail }

// HTTPStatus is the status to answer with.
func (e *Error) HTTPStatus() int { return e.Status }

// ErrorCode is the API's error code.
func (e *Error) ErrorCode() string { return e.Code }

// New builds the service. Each New is a new "boot": cursors stored by an
// earlier run (whose logs are gone) count from the start of the new logs.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := &Service{o: o, boot: hex.EncodeToString(b), byID: map[string]*Exercise{}}
	for _, x := range o.Exercises {
		s.byID[x.ID] = x
	}
	return s
}

// vars are the template values for user: with participants, their own
// service principal, secret and workspace user.
func (s *Service) vars(user string, id Identity) Vars {
	v := s.o.Vars
	v.User = user
	if id.ClientID != "" {
		v.ClientID, v.Secret = id.ClientID, id.Secret
		v.WorkspaceUser, v.WorkspacePassword = id.UserName, id.Password
	}
	return v
}

// participant is user's template values, making their identities the
// first time.
func (s *Service) participant(ctx context.Context, user string) (Vars, error) {
	id, err := s.identity(ctx, user)
	if err != nil {
		return Vars{}, err
	}
	return s.vars(user, id), nil
}

func fillWith(v Vars) func(string) string {
	return func(t string) string {
		out, err := render(t, v)
		if err != nil {
			return t // validated at load; cannot happen
		}
		return out
	}
}

func (s *Service) exercise(id string) (*Exercise, error) {
	x, ok := s.byID[id]
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Code: "unknown_exercise", Detail: fmt.Sprintf("no exercise %q", id)}
	}
	return x, nil
}

// view is an exercise as the API shows it to user.
func (s *Service) view(x *Exercise, v Vars, p Progress, ok bool) api.Exercise {
	fill := fillWith(v)
	out := api.Exercise{ID: x.ID, Title: fill(x.Title), Goal: fill(x.Goal), Checkpoint: fill(x.Checkpoint.Description),
		Hints: []string{}, Commands: []api.Command{}, Status: api.ExerciseStatus{State: api.ExerciseNotStarted},
		Requires: requiresView(x.Requires)}
	if c, ok := checkCommand(x.Requires); ok {
		out.Commands = append(out.Commands, c)
	}
	for _, h := range x.Hints {
		out.Hints = append(out.Hints, fill(h))
	}
	for _, c := range x.Commands {
		out.Commands = append(out.Commands, api.Command{Label: fill(c.Label), Shell: fill(c.Shell)})
	}
	if ok {
		out.Status = api.ExerciseStatus{State: p.State, Message: p.Message, Hint: p.Hint, Attempts: p.Attempts,
			StartedAt: p.StartedAt, CheckedAt: p.CheckedAt}
		if p.Evidence != "" {
			out.Status.Evidence = strings.Split(p.Evidence, "\n")
		}
	}
	return out
}

// Overview lists the exercises with user's progress.
func (s *Service) Overview(ctx context.Context, user string) (api.Workshop, error) {
	v, err := s.participant(ctx, user)
	if err != nil {
		return api.Workshop{}, err
	}
	rows, err := s.o.Store.User(ctx, user)
	if err != nil {
		return api.Workshop{}, err
	}
	by := map[string]Progress{}
	for _, p := range rows {
		by[p.Exercise] = p
	}
	out := api.Workshop{Exercises: []api.Exercise{}}
	for _, x := range s.o.Exercises {
		p, ok := by[x.ID]
		out.Exercises = append(out.Exercises, s.view(x, v, p, ok))
	}
	return out, nil
}

// Start records where the logs are now: the checkpoint looks only at what
// happens after. Starting a passed exercise again starts it afresh.
func (s *Service) Start(ctx context.Context, user, id string) (api.Exercise, error) {
	x, err := s.exercise(id)
	if err != nil {
		return api.Exercise{}, err
	}
	v, err := s.participant(ctx, user)
	if err != nil {
		return api.Exercise{}, err
	}
	req, aud := s.o.Source.Cursors()
	p := Progress{User: user, Exercise: id, State: api.ExerciseStarted, Boot: s.boot, RequestCursor: req, AuditCursor: aud,
		StartedAt: s.o.Now(), Message: "Started: run the commands, then press Check."}
	if err := s.o.Store.Put(ctx, p); err != nil {
		return api.Exercise{}, err
	}
	return s.view(x, v, p, true), nil
}

// Check evaluates the exercise's checkpoint over the logs since it was
// started and saves the outcome. A passed exercise stays passed.
func (s *Service) Check(ctx context.Context, user, id string) (api.Exercise, error) {
	x, err := s.exercise(id)
	if err != nil {
		return api.Exercise{}, err
	}
	v, err := s.participant(ctx, user)
	if err != nil {
		return api.Exercise{}, err
	}
	p, ok, err := s.o.Store.Get(ctx, user, id)
	if err != nil {
		return api.Exercise{}, err
	}
	if !ok {
		p = Progress{User: user, Exercise: id, State: api.ExerciseNotStarted}
		v := s.view(x, v, p, true)
		v.Status.Message = "Not started yet."
		v.Status.Hint = "Press Start first: the check looks only at what the workspace saw after that."
		return v, nil
	}
	if p.State == api.ExercisePassed {
		return s.view(x, v, p, true), nil
	}
	if p.Boot != s.boot {
		// embedlab restarted since the start: the logs begin again.
		p.Boot, p.RequestCursor, p.AuditCursor = s.boot, 0, 0
	}
	entries := append(s.o.Source.Entries(LogRequest, p.RequestCursor), s.o.Source.Entries(LogAudit, p.AuditCursor)...)
	if s.o.Identities != nil && x.Whose != WhoseAny {
		// Only the participant's own calls count, never a neighbour's.
		entries = ownedBy(entries, user)
	}
	fill := fillWith(v)
	res := x.Checkpoint.Evaluate(entries, fill)
	p.Attempts++
	p.CheckedAt = s.o.Now()
	p.Evidence = strings.Join(res.Seen, "\n")
	if res.Passed {
		p.State, p.Message, p.Hint = api.ExercisePassed, "Checkpoint met: "+fill(x.Checkpoint.Description), ""
	} else {
		p.State, p.Message, p.Hint = api.ExerciseFailed, "Not yet: "+res.Missing+" was not seen since you started.", res.Hint
	}
	if err := s.o.Store.Put(ctx, p); err != nil {
		return api.Exercise{}, err
	}
	return s.view(x, v, p, true), nil
}

// ownedBy keeps the entries whose owner is user.
func ownedBy(entries []Entry, user string) []Entry {
	out := entries[:0:0]
	for _, e := range entries {
		if e.Fields["owner"] == user {
			out = append(out, e)
		}
	}
	return out
}

// Reset restores the emulated workspace (with workspace) and forgets the
// user's own progress (with progress). Who may do which is the server's
// call (routes_lab.go): the workspace is everyone's.
func (s *Service) Reset(ctx context.Context, user string, workspace, progress bool) error {
	if workspace && s.o.ResetWorkspace != nil {
		if err := s.o.ResetWorkspace(); err != nil {
			return err
		}
	}
	if progress {
		return s.o.Store.Forget(ctx, user)
	}
	return nil
}

// When a participant counts as stuck on an exercise: red after this many
// checks, or started this long ago and still not done.
const (
	stuckAttempts = 3
	stuckAfter    = 10 * time.Minute
)

// Trainer is every participant's progress: one cell per exercise with the
// hint they see, and the exercise they are stuck on, if any. Participants
// who joined (have identities) but started nothing are listed too.
func (s *Service) Trainer(ctx context.Context) (api.Trainer, error) {
	rows, err := s.o.Store.All(ctx)
	if err != nil {
		return api.Trainer{}, err
	}
	ids, err := s.o.Store.AllIdentities(ctx)
	if err != nil {
		return api.Trainer{}, err
	}
	out := api.Trainer{Exercises: []api.ExerciseTitle{}, Participants: []api.Participant{}}
	blank := fillWith(s.vars("", Identity{}))
	for _, x := range s.o.Exercises {
		out.Exercises = append(out.Exercises, api.ExerciseTitle{ID: x.ID, Title: blank(x.Title)})
	}
	byUser := map[string]*api.Participant{}
	get := func(user string) *api.Participant {
		pt := byUser[user]
		if pt == nil {
			pt = &api.Participant{User: user, States: map[string]string{}, Cells: map[string]api.ParticipantCell{}}
			byUser[user] = pt
		}
		return pt
	}
	for _, id := range ids {
		get(id.User).ClientID = id.ClientID
	}
	now := s.o.Now()
	stuckAt := map[string]time.Time{}
	for _, p := range rows {
		if _, known := s.byID[p.Exercise]; !known {
			continue
		}
		pt := get(p.User)
		pt.States[p.Exercise] = p.State
		cell := api.ParticipantCell{State: p.State, Attempts: p.Attempts, Message: p.Message, Hint: p.Hint,
			StartedAt: p.StartedAt, CheckedAt: p.CheckedAt}
		if p.State == api.ExercisePassed {
			pt.Passed++
		} else {
			cell.Stuck = (p.State == api.ExerciseFailed && p.Attempts >= stuckAttempts) || now.Sub(p.StartedAt) >= stuckAfter
		}
		pt.Cells[p.Exercise] = cell
		last := p.StartedAt
		if p.CheckedAt.After(last) {
			last = p.CheckedAt
		}
		if last.After(pt.LastActive) {
			pt.LastActive = last
		}
		// The exercise they are stuck on is the one they touched last.
		if cell.Stuck && !last.Before(stuckAt[p.User]) {
			stuckAt[p.User] = last
			pt.Stuck, pt.StuckHint = p.Exercise, p.Hint
			if pt.StuckHint == "" {
				pt.StuckHint = p.Message
			}
		}
	}
	for _, pt := range byUser {
		if pt.Stuck != "" {
			out.Stuck++
		}
		out.Participants = append(out.Participants, *pt)
	}
	sort.Slice(out.Participants, func(i, j int) bool { return out.Participants[i].User < out.Participants[j].User })
	return out, nil
}

// ResetParticipant forgets one participant's progress on one exercise, or
// on all of them when exercise is empty; their identities stay. A
// trainer's action: the workspace is not reset for the others.
func (s *Service) ResetParticipant(ctx context.Context, user, exercise string) error {
	if strings.TrimSpace(user) == "" {
		return &Error{Status: http.StatusBadRequest, Code: "bad_request", Detail: "name the participant: {\"user\": NAME}"}
	}
	if exercise != "" {
		if _, err := s.exercise(exercise); err != nil {
			return err
		}
		return s.o.Store.ForgetOne(ctx, user, exercise)
	}
	return s.o.Store.Forget(ctx, user)
}

// Requests is the workspace's request log after since, at most 200 lines.
func (s *Service) Requests(since int64) api.RequestLog {
	es := s.o.Source.Entries(LogRequest, since)
	if len(es) > 200 {
		es = es[len(es)-200:]
	}
	out := api.RequestLog{Entries: []api.LogEntry{}, Next: since}
	for _, e := range es {
		f := e.Fields
		status, _ := strconv.Atoi(f["status"])
		out.Entries = append(out.Entries, api.LogEntry{Seq: e.Seq, Time: e.Time, Method: f["method"], Path: f["path"], Query: f["query"],
			Status: status, Principal: f["principal"], Owner: f["owner"], Error: f["error"], App: f["app"]})
		out.Next = max(out.Next, e.Seq)
	}
	return out
}
