package roomsim

import "regexp"

// joinCodeLine is a "name  join code" line of `embedlab room`'s table.
var joinCodeLine = regexp.MustCompile(`(?m)^(\S+)\s+([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$`)

// ParseLogins reads the logins `embedlab room` prints: the first row is
// the trainer's, as the command makes it, and the rest the participants',
// in order. A run without a table gives none.
func ParseLogins(out string) (trainer Login, participants []Login) {
	for i, m := range joinCodeLine.FindAllStringSubmatch(out, -1) {
		if l := (Login{Name: m[1], Password: m[2]}); i == 0 {
			trainer = l
		} else {
			participants = append(participants, l)
		}
	}
	return trainer, participants
}
