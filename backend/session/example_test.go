package session_test

import (
	"errors"
	"fmt"

	"embedlab/backend/session"
)

func ExampleDemoPasswords() {
	for _, c := range session.DemoPasswords() {
		fmt.Printf("%-7s %s\n", c.Name, c.Password)
	}
	// Output:
	// ada     ada-demo-pass
	// grace   grace-demo-pass
	// admin   admin-demo-pass
	// nobody  nobody-demo-pass
}

func ExampleManager_Login() {
	m, err := session.New(session.Options{}) // random key, demo users
	if err != nil {
		panic(err)
	}
	s, err := m.Login("ada", "ada-demo-pass", "192.0.2.1")
	fmt.Println(s.User, s.DisplayName, err)

	_, err = m.Login("ada", "wrong", "192.0.2.1")
	var e *session.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status(), e.Message)
	}
	// Output:
	// ada Ada Lovelace <nil>
	// 401 wrong user name or password
}
