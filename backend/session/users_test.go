package session

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestDemoPasswordsMatchBundledUsers(t *testing.T) {
	t.Parallel()
	u := DefaultUsers()
	var names []string
	for _, c := range DemoPasswords() {
		names = append(names, c.Name)
		if !strings.HasSuffix(c.Password, "-demo-pass") {
			t.Errorf("%s's demo password %q does not look like a demo value", c.Name, c.Password)
		}
		if _, err := u.verify(c.Name, c.Password); err != nil {
			t.Errorf("demo password of %s does not match users.json: %v", c.Name, err)
		}
	}
	slices.Sort(names)
	if got := u.Names(); !slices.Equal(got, names) {
		t.Errorf("users.json has %v, DemoPasswords lists %v", got, names)
	}
	if got, want := u.Names(), []string{"ada", "admin", "grace", "nobody"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if ada, ok := u.Lookup("ada"); !ok || ada.DisplayName != "Ada Lovelace" {
		t.Errorf("Lookup(ada) = %+v, %v", ada, ok)
	}
	if _, ok := u.Lookup("Ada"); ok {
		t.Error("Lookup is exact; Login lower-cases")
	}
}

func TestDummyHashHasTheUsersCost(t *testing.T) {
	t.Parallel()
	cost, err := bcrypt.Cost(DefaultUsers().dummy())
	if err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("dummy hash cost = %d, %v; want the users' cost %d so unknown names take as long", cost, err, bcrypt.DefaultCost)
	}
}

func TestUsersPrintWithoutHashes(t *testing.T) {
	t.Parallel()
	u := DefaultUsers()
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(f, u)
		assertNoSecret(t, got)
		if !strings.Contains(got, "ada") {
			t.Errorf("%s of Users = %q, want the names", f, got)
		}
	}
	assertNoSecret(t, fmt.Sprintf("%+v", u.List()))
}

func TestParseUsersProblems(t *testing.T) {
	t.Parallel()
	const good = `$2a$10$SH8jOTHFNAcmWE5OBgXNx.c3ApVCnVCOgMLecAAxp0jn8ZzjTxjYa`
	cheap, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dear := "$2a$15$" + good[7:] // a well-formed hash; its cost is read, not computed
	tests := []struct {
		name, src string
		want      []string
	}{
		{"not JSON", `{"users": [`, []string{"u.json: line 1, column 12: invalid JSON"}},
		{"array", `[]`, []string{"u.json: the file holds a JSON array; the file must be a JSON object"}},
		{"missing", `{"_note": "x"}`, []string{"u.json: users: is missing"}},
		{"null", `{"users": null}`, []string{"u.json: users: is missing"}},
		{"empty", `{"users": []}`, []string{"u.json: users: is empty"}},
		{"wrong type", `{"users": "ada"}`, []string{"u.json: users: must be an array"}},
		{"unknown fields", `{"user": 1, "users": [{"name": "ada", "password": "x", "password_bcrypt": "` + good + `"}]}`, []string{
			"u.json: user: unknown field",
			"u.json: users[0].password: unknown field; a user's fields are name, display_name, password_bcrypt, roles, email",
		}},
		{"not an object", `{"users": ["ada"]}`, []string{"u.json: users[0]: must be an object"}},
		{"roles and email", `{"users": [
			{"name": "ada", "roles": ["trainer", "root"], "email": "a b", "password_bcrypt": "` + good + `"},
			{"name": "bob", "roles": "trainer", "password_bcrypt": "` + good + `"}]}`, []string{
			`u.json: users[0].roles[1]: unknown role "root"; the roles are trainer, server-identities`,
			"u.json: users[0].email: must be the user's e-mail address",
			"u.json: users[1].roles: must be an array of role names",
		}},
		{"duplicates and names", `{"users": [
			{"name": "ada", "password_bcrypt": "` + good + `"},
			{"name": "ada", "password_bcrypt": "` + good + `"},
			{"name": "Grace", "password_bcrypt": "` + good + `"},
			{"name": "a b", "password_bcrypt": "` + good + `"},
			{"name": "` + strings.Repeat("n", 65) + `", "password_bcrypt": "` + good + `"},
			{"password_bcrypt": "` + good + `"},
			{"name": 7, "display_name": "x\u0001", "password_bcrypt": "` + good + `"}]}`, []string{
			`u.json: users[1].name: "ada" is already the name of users[0]`,
			`u.json: users[2].name: "Grace" must be lower case`,
			"u.json: users[3].name: must not contain whitespace",
			"u.json: users[4].name: is 65 bytes; the limit is 64",
			"u.json: users[5].name: is required",
			"u.json: users[6].name: must be a string",
			"u.json: users[6].name: is required",
			"u.json: users[6].display_name: must not contain control characters",
		}},
		{"hashes", `{"users": [
			{"name": "a"},
			{"name": "b", "password_bcrypt": "ada-demo-pass"},
			{"name": "c", "password_bcrypt": "$1$abc$` + strings.Repeat("x", 50) + `"},
			{"name": "d", "password_bcrypt": "` + good[:59] + `"},
			{"name": "e", "password_bcrypt": "` + string(cheap) + `"},
			{"name": "f", "password_bcrypt": "` + dear + `"}]}`, []string{
			"u.json: users[0].password_bcrypt: is required",
			"u.json: users[1].password_bcrypt: is not a bcrypt hash",
			"u.json: users[2].password_bcrypt: is not a bcrypt hash",
			"u.json: users[3].password_bcrypt: is not a bcrypt hash",
			"u.json: users[4].password_bcrypt: has cost 4; use 10 to 14",
			"u.json: users[5].password_bcrypt: has cost 15; use 10 to 14",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUsers("u.json", []byte(tt.src))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			lines := strings.Split(msg, "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tt.want), msg)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q\nwant prefix %q", i+1, lines[i], w)
				}
			}
			assertNoSecret(t, msg, "ada-demo-pass", good[7:], string(cheap[7:]))
		})
	}
}

func TestLoadUsers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "users.json")
	src := `{"users": [{"name": "eve", "password_bcrypt": "$2a$10$SH8jOTHFNAcmWE5OBgXNx.c3ApVCnVCOgMLecAAxp0jn8ZzjTxjYa"}]}`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := LoadUsers(p)
	if err != nil {
		t.Fatal(err)
	}
	if eve, ok := u.Lookup("eve"); !ok || eve.DisplayName != "eve" {
		t.Errorf("Lookup(eve) = %+v, %v; display name should default to the name", eve, ok)
	}
	if _, err := LoadUsers(filepath.Join(dir, "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("LoadUsers(missing) = %v", err)
	}
}

// TestBundledRoles: the bundled admin is the trainer and may use the
// server's identities; the other demo users have no role.
func TestBundledRoles(t *testing.T) {
	t.Parallel()
	u := DefaultUsers()
	admin, _ := u.Lookup("admin")
	ada, _ := u.Lookup("ada")
	if !admin.HasRole("trainer") || !admin.HasRole("server-identities") || len(ada.Roles) != 0 || ada.Email != "ada@example.com" {
		t.Errorf("admin %+v, ada %+v", admin, ada)
	}
	if got := u.WithRole("trainer"); len(got) != 1 || got[0] != "admin" {
		t.Errorf("trainers %v", got)
	}
}
