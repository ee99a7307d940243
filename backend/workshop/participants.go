package workshop

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Identity is one participant's own workspace identities: a service
// principal with its secret and a workspace user, made the first time the
// participant opens the workshop and kept with their progress, so that a
// restart gives them back the same ones. The values are demo credentials
// of an emulated workspace, shown to their owner only (their exercises).
type Identity struct {
	User                       string // the participant (login name)
	ClientID, Secret           string
	UserID, UserName, Password string
	CreatedAt                  time.Time
}

// Identities registers participants' identities with the workspace.
type Identities interface {
	Add(Identity) error
	Remove(Identity) error
}

const identityCols = `user, client_id, secret, user_id, user_name, password, created_at`

func createIdentities(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS identities (
		user TEXT PRIMARY KEY, client_id TEXT NOT NULL UNIQUE, secret TEXT NOT NULL,
		user_id TEXT NOT NULL UNIQUE, user_name TEXT NOT NULL UNIQUE, password TEXT NOT NULL, created_at INTEGER NOT NULL)`)
	return err
}

func scanIdentity(sc interface{ Scan(...any) error }) (Identity, error) {
	var id Identity
	var created int64
	err := sc.Scan(&id.User, &id.ClientID, &id.Secret, &id.UserID, &id.UserName, &id.Password, &created)
	id.CreatedAt = time.UnixMilli(created)
	return id, err
}

// Identity returns a participant's identities; ok is false when none were made.
func (s *Store) Identity(ctx context.Context, user string) (Identity, bool, error) {
	id, err := scanIdentity(s.db.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities WHERE user = ?`, user))
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, false, nil
	}
	return id, err == nil, err
}

// AllIdentities lists every participant's identities.
func (s *Store) AllIdentities(ctx context.Context) ([]Identity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityCols+` FROM identities ORDER BY user`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// addIdentity stores id unless the user has one already; it returns the
// user's identity either way.
func (s *Store) addIdentity(ctx context.Context, id Identity) (Identity, error) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identities (`+identityCols+`) VALUES (?,?,?,?,?,?,?) ON CONFLICT (user) DO NOTHING`,
		id.User, id.ClientID, id.Secret, id.UserID, id.UserName, id.Password, id.CreatedAt.UnixMilli())
	if err != nil {
		return Identity{}, fmt.Errorf("store the identities of %s: %w", id.User, err)
	}
	got, _, err := s.Identity(ctx, id.User)
	return got, err
}

// ForgetIdentity deletes a participant's identities.
func (s *Store) ForgetIdentity(ctx context.Context, user string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM identities WHERE user = ?`, user)
	return err
}

// newIdentity makes fresh identities for user. The user name is an
// address under example.com (reserved: it reaches nobody).
func newIdentity(user string, now time.Time) Identity {
	local := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, user)
	local = strings.Trim(local, ".")
	if local == "" || len(local) > 40 {
		local = "participant"
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1e14))
	tag := strings.ToLower(rand.Text()[:6])
	return Identity{
		User:      user,
		ClientID:  fmt.Sprintf("participant-%s-%s", tag, strings.ToLower(rand.Text()[:8])),
		Secret:    "dosedemo0" + strings.ToLower(rand.Text()),
		UserID:    fmt.Sprintf("9%014d", n.Int64()),
		UserName:  local + "+" + tag + "@room.example.com",
		Password:  strings.ToLower(rand.Text()[:12]),
		CreatedAt: now,
	}
}

// identity returns user's identities, making and registering them the
// first time.
func (s *Service) identity(ctx context.Context, user string) (Identity, error) {
	if s.o.Identities == nil {
		return Identity{}, nil
	}
	if id, ok, err := s.o.Store.Identity(ctx, user); err != nil || ok {
		return id, err
	}
	s.mkMu.Lock()
	defer s.mkMu.Unlock()
	id, err := s.o.Store.addIdentity(ctx, newIdentity(user, s.o.Now()))
	if err != nil {
		return Identity{}, err
	}
	if err := s.o.Identities.Add(id); err != nil {
		return Identity{}, fmt.Errorf("add %s's identities to the workspace: %w", user, err)
	}
	return id, nil
}

// RestoreIdentities adds every stored participant's identities to the
// workspace again: at start (the emulator's state is new) and after the
// workspace is reset to its initial state.
func (s *Service) RestoreIdentities() error {
	if s.o.Identities == nil {
		return nil
	}
	ids, err := s.o.Store.AllIdentities(context.Background())
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.o.Identities.Add(id))
	}
	return errors.Join(errs...)
}
