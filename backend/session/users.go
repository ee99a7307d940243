package session

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"embedlab/backend/jsonfile"
	"embedlab/shared/api"
)

// User is a login user. It holds no secret, so it is safe to print or send.
type User struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	// Roles are what the user may do beyond the basics (api.Roles): e.g.
	// "trainer" for the fault lab and the trainer view.
	Roles []string `json:"roles,omitempty"`
	// Email is the user's identity at the identity provider, when they have
	// one: token federation as that identity needs no role.
	Email string `json:"email,omitempty"`
}

// HasRole reports whether the user was granted role.
func (u User) HasRole(role string) bool { return api.HasRole(u.Roles, role) }

// Users is a validated, read-only set of login users. The hashes live in
// their own map, never in User, so printing a User (even with %+v) cannot
// leak one.
type Users struct {
	list   []User            // sorted by name
	hashes map[string][]byte // name -> bcrypt hash
	dummy  func() []byte     // a hash nobody's password matches; see verify
}

// Limits of a users file.
const (
	// minCost is bcrypt's own default: anything cheaper is too fast to guess
	// against offline should the file leak.
	minCost = bcrypt.DefaultCost
	// maxCost keeps one login under about a second here; every failed login
	// costs the server as much as a good one.
	maxCost = 14
	// maxNameBytes bounds a login name.
	maxNameBytes = 64
	// maxPasswordBytes is what bcrypt reads of a password; longer ones are
	// refused rather than silently cut.
	maxPasswordBytes = 72
)

var (
	fileFields = []string{"_note", "users"}
	userFields = []string{"name", "display_name", "password_bcrypt", "roles", "email"}
	// bcryptHash is the modular crypt format: version, two-digit cost, then
	// 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
	bcryptHash = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
)

// hashHowTo tells how to make a hash; it is the fix of every hash problem.
const hashHowTo = `make one with: htpasswd -nbBC 10 "" 'the-password' | cut -d: -f2`

// LoadUsers reads and validates a users file.
func LoadUsers(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	return ParseUsers(path, data)
}

// ParseUsers validates a users file's contents:
//
//	{"users": [{"name": "ada", "display_name": "Ada Lovelace", "password_bcrypt": "$2a$10$...",
//	            "roles": ["trainer"], "email": "ada@example.com"}]}
//
// roles (optional) are of api.Roles; email (optional) is the user's identity
// at the identity provider.
//
// name is the file's name in error messages. The error has one line per
// problem, naming the file and the JSON path; it never quotes a hash.
func ParseUsers(name string, data []byte) (*Users, error) {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", name, path, fmt.Sprintf(format, a...)))
	}
	top, unknown, err := jsonfile.Object(data, fileFields)
	if err != nil {
		return nil, fmt.Errorf("%s: %s; the file must be a JSON object {\"users\": [...]}", name, jsonfile.DescribeError(data, err))
	}
	for _, k := range unknown {
		bad(k, "unknown field; the file's fields are %s", strings.Join(fileFields, ", "))
	}
	var items []json.RawMessage
	if raw, ok := top["users"]; !ok || jsonfile.IsNull(raw) {
		bad("users", "is missing: list at least one user")
	} else if err := json.Unmarshal(raw, &items); err != nil {
		bad("users", "must be an array of users")
	} else if len(items) == 0 {
		bad("users", "is empty: list at least one user")
	}

	u := &Users{hashes: map[string][]byte{}}
	firstAt := map[string]string{}
	highest := minCost
	for i, raw := range items {
		path := fmt.Sprintf("users[%d]", i)
		fields, unknown, err := jsonfile.Object(raw, userFields)
		if err != nil {
			bad(path, "must be an object with the fields %s", strings.Join(userFields, ", "))
			continue
		}
		for _, k := range unknown {
			bad(path+"."+k, "unknown field; a user's fields are %s", strings.Join(userFields, ", "))
		}
		var user User
		var hash string
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &user.Name}, {"display_name", &user.DisplayName}, {"password_bcrypt", &hash}} {
			if raw, ok := fields[f.key]; ok {
				if err := json.Unmarshal(raw, f.dst); err != nil {
					bad(path+"."+f.key, "must be a string")
				}
			}
		}
		if err := checkName(user.Name); err != nil {
			bad(path+".name", "%v", err)
		} else if first, dup := firstAt[user.Name]; dup {
			bad(path+".name", "%q is already the name of %s: names must be unique", user.Name, first)
		} else {
			firstAt[user.Name] = path
		}
		if strings.IndexFunc(user.DisplayName, unicode.IsControl) >= 0 {
			bad(path+".display_name", "must not contain control characters")
		}
		cost, err := checkHash(hash)
		if err != nil {
			bad(path+".password_bcrypt", "%v", err)
		}
		highest = max(highest, cost)
		if raw, ok := fields["roles"]; ok && !jsonfile.IsNull(raw) {
			if err := json.Unmarshal(raw, &user.Roles); err != nil {
				bad(path+".roles", "must be an array of role names (%s)", roleNames())
			}
			for j, r := range user.Roles {
				if !api.KnownRole(r) {
					bad(fmt.Sprintf("%s.roles[%d]", path, j), "unknown role %q; the roles are %s", clipHeader(r), roleNames())
				}
			}
			user.Roles = slices.Compact(slices.Sorted(slices.Values(user.Roles)))
		}
		if raw, ok := fields["email"]; ok && !jsonfile.IsNull(raw) {
			if err := json.Unmarshal(raw, &user.Email); err != nil || strings.IndexFunc(user.Email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || len(user.Email) > 254 {
				bad(path+".email", "must be the user's e-mail address at the identity provider, without spaces")
			}
		}
		if user.DisplayName == "" {
			user.DisplayName = user.Name
		}
		u.list = append(u.list, user)
		u.hashes[user.Name] = []byte(hash)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(u.list, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	u.dummy = sync.OnceValue(func() []byte { return dummyHash(highest) })
	return u, nil
}

// roleNames lists the roles a users file may grant.
func roleNames() string {
	var names []string
	for _, r := range api.Roles {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

// checkName applies the rules of login names. They are lower case because
// Login matches names case-insensitively by lowering what was typed.
func checkName(n string) error {
	switch {
	case n == "":
		return errors.New("is required")
	case len(n) > maxNameBytes:
		return fmt.Errorf("is %d bytes; the limit is %d", len(n), maxNameBytes)
	case strings.IndexFunc(n, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errors.New("must not contain whitespace or control characters")
	case strings.ToLower(n) != n:
		return fmt.Errorf("%q must be lower case (login matches names in lower case)", n)
	}
	return nil
}

// checkHash checks a bcrypt hash's format and cost, and returns the cost.
func checkHash(h string) (int, error) {
	if h == "" {
		return 0, fmt.Errorf("is required: the user's bcrypt hash; %s", hashHowTo)
	}
	if !bcryptHash.MatchString(h) {
		return 0, fmt.Errorf("is not a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, then 53 characters of salt and hash); %s", hashHowTo)
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return 0, fmt.Errorf("is not a valid bcrypt hash; %s", hashHowTo)
	}
	if cost < minCost || cost > maxCost {
		return cost, fmt.Errorf("has cost %d; use %d to %d (lower is too quick to crack, higher makes every login slow); %s", cost, minCost, maxCost, hashHowTo)
	}
	return cost, nil
}

// dummyHash hashes a random password nobody knows, at the users' highest
// cost, so a login for an unknown name takes as long as a wrong password.
func dummyHash(cost int) []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		panic(fmt.Sprintf("session: bcrypt of a random password at cost %d: %v", cost, err)) // only for a cost checkHash refuses
	}
	return h
}

// Lookup returns the user called name (exactly; see Login for lower-casing).
func (u *Users) Lookup(name string) (User, bool) {
	i, ok := slices.BinarySearchFunc(u.list, name, func(x User, n string) int { return strings.Compare(x.Name, n) })
	if !ok {
		return User{}, false
	}
	return u.list[i], true
}

// List returns every user, sorted by name.
func (u *Users) List() []User { return slices.Clone(u.list) }

// WithRole lists the names of the users granted role, e.g. for a message
// saying whom to ask.
func (u *Users) WithRole(role string) []string {
	var names []string
	for _, x := range u.list {
		if x.HasRole(role) {
			names = append(names, x.Name)
		}
	}
	return names
}

// Names returns every user's name, sorted.
func (u *Users) Names() []string {
	names := make([]string, len(u.list))
	for i, x := range u.list {
		names[i] = x.Name
	}
	return names
}

// Errors of verify, for the log only: the client hears "bad credentials"
// whichever it was.
var (
	errUnknownUser   = errors.New("no such user")
	errWrongPassword = errors.New("wrong password")
	errBadPassword   = errors.New("empty or over-long password")
)

// verify checks a password. It always runs one bcrypt comparison, against
// the dummy hash when the name is unknown, so the time a login takes does
// not tell which names exist.
func (u *Users) verify(name, password string) (User, error) {
	hash, known := u.hashes[name]
	if !known {
		hash = u.dummy()
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	switch {
	case !known:
		return User{}, errUnknownUser
	case password == "" || len(password) > maxPasswordBytes:
		return User{}, errBadPassword
	case err != nil:
		return User{}, errWrongPassword
	}
	user, _ := u.Lookup(name)
	return user, nil
}

// String lists the names only. Users holds hashes, and fmt would print
// them for a pointer to a struct (even with %v).
func (u *Users) String() string { return "session.Users(" + strings.Join(u.Names(), ", ") + ")" }

// GoString is String, for %#v.
func (u *Users) GoString() string { return u.String() }
