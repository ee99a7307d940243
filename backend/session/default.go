package session

import (
	_ "embed"
	"sync"
)

//go:embed users.json
var defaultFile []byte

var defaultUsers = sync.OnceValue(func() *Users {
	u, err := ParseUsers("users.json (bundled)", defaultFile)
	if err != nil {
		panic(err) // the bundled file is tested; this is a build mistake
	}
	return u
})

// DefaultUsers returns the bundled demo users; their passwords are in
// DemoPasswords.
func DefaultUsers() *Users { return defaultUsers() }

// Credential is a user name and its plaintext password.
type Credential struct {
	Name     string
	Password string
}

// DemoPasswords returns the bundled demo users' passwords, for the README
// and the login page's hint. They are public demo values that protect
// nothing; a deployment that faces anyone else must use its own users file.
//
//	user    password          viewers (see package viewers)
//	ada     ada-demo-pass     EMEA, AMER
//	grace   grace-demo-pass   APAC, EMEA
//	admin   admin-demo-pass   all three
//	nobody  nobody-demo-pass  none: shows the refusal
func DemoPasswords() []Credential {
	return []Credential{
		{"ada", "ada-demo-pass"},
		{"grace", "grace-demo-pass"},
		{"admin", "admin-demo-pass"},
		{"nobody", "nobody-demo-pass"},
	}
}
