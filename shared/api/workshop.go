package api

import "time"

// Paths of the fault lab and the workshop (emulator mode only).
const (
	PathLab             = "/api/lab"        // GET: the toggles
	PathLabToggle       = "/api/lab/toggle" // POST LabSet
	PathLabReset        = "/api/lab/reset"  // POST: every toggle off, the workspace as it started
	PathEmbedCheck      = "/api/embed-check"
	PathWorkshop        = "/api/workshop"       // GET: the exercises with this user's progress
	PathWorkshopStart   = "/api/workshop/start" // POST ExerciseRef
	PathWorkshopCheck   = "/api/workshop/check" // POST ExerciseRef
	PathWorkshopReset   = "/api/workshop/reset" // POST WorkshopReset
	PathTrainer         = "/api/trainer"        // GET: every participant's progress
	PathTrainerRequests = "/api/trainer/requests"
	PathTrainerReset    = "/api/trainer/reset" // POST TrainerReset
)

// CodeOriginNotAllowed is the diagnosis of a dashboard frame the browser
// refused to show: the workspace does not allow embedding from this origin.
const CodeOriginNotAllowed = "origin_not_allowed"

// LabToggle is one switch of the fault lab.
type LabToggle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	On    bool   `json:"on"`
	// Action says what the switch does to the workspace.
	Action string `json:"action"`
	// Effect is what the user will see once it is on, and where.
	Effect string `json:"effect"`
	// Diagnosis is the cause the UI names.
	Diagnosis string `json:"diagnosis"`
	// Try is the page to open to see it, e.g. "/?viewer=viewer-emea".
	Try string `json:"try"`
}

// Lab is the answer of GET /api/lab.
type Lab struct {
	Toggles []LabToggle `json:"toggles"`
}

// LabSet turns one toggle on or off.
type LabSet struct {
	ID string `json:"id"`
	On bool   `json:"on"`
}

// Command is one terminal command of an exercise.
type Command struct {
	Label string `json:"label,omitempty"`
	Shell string `json:"shell"`
}

// Exercise states.
const (
	ExerciseNotStarted = "not_started"
	ExerciseStarted    = "started"
	ExerciseFailed     = "failed"
	ExercisePassed     = "passed"
)

// ExerciseStatus is one user's progress on one exercise.
type ExerciseStatus struct {
	State     string    `json:"state"`
	Message   string    `json:"message,omitempty"`
	Hint      string    `json:"hint,omitempty"`
	Evidence  []string  `json:"evidence,omitempty"`
	Attempts  int       `json:"attempts"`
	StartedAt time.Time `json:"started_at,omitzero"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Exercise is one workshop exercise, its texts filled in with this
// workspace's URLs, and the user's status.
type Exercise struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	Goal       string         `json:"goal"`
	Hints      []string       `json:"hints"`
	Commands   []Command      `json:"commands"`
	Checkpoint string         `json:"checkpoint"`
	Status     ExerciseStatus `json:"status"`
	// Requires is what the commands need beyond a browser; the first
	// command checks it.
	Requires []Requirement `json:"requires,omitempty"`
}

// Requirement is one thing an exercise's commands need, and how to get it.
type Requirement struct {
	Name string `json:"name"`
	What string `json:"what"`
	Fix  string `json:"fix"`
}

// Workshop is the answer of GET /api/workshop.
type Workshop struct {
	Exercises []Exercise `json:"exercises"`
	// Trainer is true for users who may open the trainer view.
	Trainer bool `json:"trainer"`
}

// ExerciseRef names an exercise.
type ExerciseRef struct {
	ID string `json:"id"`
}

// WorkshopReset restores the emulated workspace (Workspace: shared by
// everyone, so only a trainer may) and forgets the user's own progress
// (Progress: anyone, for themselves).
type WorkshopReset struct {
	Workspace bool `json:"workspace"`
	Progress  bool `json:"progress"`
}

// Participant is one user's progress, for the trainer.
type Participant struct {
	User string `json:"user"`
	// States maps an exercise id to its state.
	States map[string]string `json:"states"`
	// Cells maps an exercise id to the participant's state on it, with the
	// hint they see.
	Cells  map[string]ParticipantCell `json:"cells"`
	Passed int                        `json:"passed"`
	// LastActive is the time of the user's last start or check.
	LastActive time.Time `json:"last_active,omitzero"`
	// ClientID is the participant's own service principal (their log
	// lines' principal); empty when they have none.
	ClientID string `json:"client_id,omitempty"`
	// Stuck names the exercise they are stuck on (red after several
	// checks, or started long ago and not done), and StuckHint the hint
	// they see there; empty when they are not stuck.
	Stuck     string `json:"stuck,omitempty"`
	StuckHint string `json:"stuck_hint,omitempty"`
}

// ParticipantCell is one participant's state on one exercise.
type ParticipantCell struct {
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	Message   string    `json:"message,omitempty"`
	Hint      string    `json:"hint,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	Stuck     bool      `json:"stuck,omitempty"`
}

// TrainerReset forgets one participant's progress: on one exercise, or on
// every one when Exercise is empty (POST /api/trainer/reset).
type TrainerReset struct {
	User     string `json:"user"`
	Exercise string `json:"exercise,omitempty"`
}

// ExerciseTitle is an exercise's id and title, for the trainer's columns.
type ExerciseTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Trainer is the answer of GET /api/trainer.
type Trainer struct {
	Exercises    []ExerciseTitle `json:"exercises"`
	Participants []Participant   `json:"participants"`
	// Stuck counts the participants who are stuck.
	Stuck int `json:"stuck"`
}

// LogEntry is one line of the emulated workspace's request log.
type LogEntry struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query,omitempty"`
	Status    int       `json:"status"`
	Principal string    `json:"principal,omitempty"`
	// Owner is the participant whose identity made the request.
	Owner string `json:"owner,omitempty"`
	Error string `json:"error,omitempty"`
	App   string `json:"app,omitempty"`
}

// RequestLog is the answer of GET /api/trainer/requests?since=SEQ.
type RequestLog struct {
	Entries []LogEntry `json:"entries"`
	Next    int64      `json:"next"`
}

// EmbedCheck is the answer of GET /api/embed-check?origin=O: whether the
// workspace lets pages on that origin frame the dashboard.
type EmbedCheck struct {
	Origin         string   `json:"origin"`
	Allowed        bool     `json:"allowed"`
	Known          bool     `json:"known"` // false when the workspace sent no frame-ancestors
	FrameAncestors []string `json:"frame_ancestors"`
	// PageStatus is the HTTP status of the embed page (of ?page= when
	// given): 404 when the workspace has no such dashboard or page.
	PageStatus int `json:"page_status,omitempty"`
}
