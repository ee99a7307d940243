package workshop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Progress is one user's state on one exercise.
type Progress struct {
	User, Exercise string
	State          string // api.Exercise* states
	// Boot identifies the workspace run the cursors belong to: after a
	// restart the logs start again, and so must the cursors.
	Boot                       string
	RequestCursor, AuditCursor int64
	StartedAt, CheckedAt       time.Time
	Attempts                   int
	Message, Hint              string
	Evidence                   string // one line per matched entry
}

// Store keeps progress in a SQLite file.
type Store struct {
	db *sql.DB
}

// DefaultPath is where progress is kept: $EMBEDLAB_DATA_DIR, else the
// user's cache folder, else the temporary folder.
func DefaultPath(dataDir string) string {
	if dataDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dataDir = filepath.Join(d, "embedlab")
		} else {
			dataDir = filepath.Join(os.TempDir(), "embedlab")
		}
	}
	return filepath.Join(dataDir, "workshop.db")
}

// OpenStore opens (and creates) the progress database at path.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("workshop progress folder: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open workshop progress %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS progress (
		user TEXT NOT NULL, exercise TEXT NOT NULL, state TEXT NOT NULL,
		boot TEXT NOT NULL DEFAULT '', request_cursor INTEGER NOT NULL DEFAULT 0, audit_cursor INTEGER NOT NULL DEFAULT 0,
		started_at INTEGER NOT NULL DEFAULT 0, checked_at INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
		message TEXT NOT NULL DEFAULT '', hint TEXT NOT NULL DEFAULT '', evidence TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (user, exercise))`)
	if err == nil {
		err = createIdentities(db) // participants' own workspace identities (participants.go)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("workshop progress %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const progressCols = `user, exercise, state, boot, request_cursor, audit_cursor, started_at, checked_at, attempts, message, hint, evidence`

func scanProgress(sc interface{ Scan(...any) error }) (Progress, error) {
	var p Progress
	var started, checked int64
	err := sc.Scan(&p.User, &p.Exercise, &p.State, &p.Boot, &p.RequestCursor, &p.AuditCursor, &started, &checked, &p.Attempts, &p.Message, &p.Hint, &p.Evidence)
	if started != 0 {
		p.StartedAt = time.UnixMilli(started)
	}
	if checked != 0 {
		p.CheckedAt = time.UnixMilli(checked)
	}
	return p, err
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Get returns a user's progress on an exercise; ok is false when there is none.
func (s *Store) Get(ctx context.Context, user, exercise string) (Progress, bool, error) {
	p, err := scanProgress(s.db.QueryRowContext(ctx, `SELECT `+progressCols+` FROM progress WHERE user = ? AND exercise = ?`, user, exercise))
	if errors.Is(err, sql.ErrNoRows) {
		return Progress{}, false, nil
	}
	return p, err == nil, err
}

// Put saves a progress row.
func (s *Store) Put(ctx context.Context, p Progress) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO progress (`+progressCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (user, exercise) DO UPDATE SET state=excluded.state, boot=excluded.boot, request_cursor=excluded.request_cursor,
		audit_cursor=excluded.audit_cursor, started_at=excluded.started_at, checked_at=excluded.checked_at, attempts=excluded.attempts,
		message=excluded.message, hint=excluded.hint, evidence=excluded.evidence`,
		p.User, p.Exercise, p.State, p.Boot, p.RequestCursor, p.AuditCursor, millis(p.StartedAt), millis(p.CheckedAt), p.Attempts, p.Message, p.Hint, p.Evidence)
	return err
}

// User returns every progress row of one user.
func (s *Store) User(ctx context.Context, user string) ([]Progress, error) {
	return s.query(ctx, `SELECT `+progressCols+` FROM progress WHERE user = ? ORDER BY exercise`, user)
}

// All returns every row, by user then exercise.
func (s *Store) All(ctx context.Context) ([]Progress, error) {
	return s.query(ctx, `SELECT `+progressCols+` FROM progress ORDER BY user, exercise`)
}

// ForgetOne deletes a user's progress on one exercise.
func (s *Store) ForgetOne(ctx context.Context, user, exercise string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM progress WHERE user = ? AND exercise = ?`, user, exercise)
	return err
}

// Forget deletes a user's progress.
func (s *Store) Forget(ctx context.Context, user string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM progress WHERE user = ?`, user)
	return err
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Progress, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Progress
	for rows.Next() {
		p, err := scanProgress(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
