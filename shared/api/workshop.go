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

// WorkshopReset restores the emulated workspace and, with Progress, forgets
// the user's own progress too.
type WorkshopReset struct {
	Progress bool `json:"progress"`
}

// Participant is one user's progress, for the trainer.
type Participant struct {
	User string `json:"user"`
	// States maps an exercise id to its state.
	States map[string]string `json:"states"`
	Passed int               `json:"passed"`
	// LastActive is the time of the user's last start or check.
	LastActive time.Time `json:"last_active,omitzero"`
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
	Error     string    `json:"error,omitempty"`
	App       string    `json:"app,omitempty"`
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
