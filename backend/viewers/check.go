package viewers

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"embedlab/shared/wire"
)

// labels name the parts of one viewer in error messages: JSON paths for a
// file, variable names for the environment.
type labels struct {
	viewer, id, value, displayName, users string
}

// notPersonal is the fix shared by every personal-data refusal.
const notPersonal = "external_viewer_id goes to the workspace's audit log and must not be personal data: use an opaque id such as \"viewer-emea\" or \"customer-0042\""

// checkEntry returns every problem of one viewer, one error each. Messages
// never repeat an id that was refused as personal data: these errors are
// printed at start, and that would put the personal data in the log anyway.
func checkEntry(e entry, l labels) []error {
	var errs []error
	bad := func(label, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", label, fmt.Sprintf(format, a...)))
	}

	// wire.ValidateViewer checks the pair; checking each half alone first
	// lets the message point at the field that is wrong.
	idErr := wire.ValidateViewer(e.ID, "")
	valueErr := wire.ValidateViewer("x", e.ExternalValue)
	if idErr != nil {
		bad(l.id, "%v", idErr)
	}
	if e.ExternalValue == "" {
		bad(l.value, "external_value is required: it is the row filter's value (__aibi_external_value), and an empty one matches no rows")
	} else if valueErr != nil {
		bad(l.value, "%v", valueErr)
	}
	if idErr == nil && valueErr == nil {
		if err := wire.ValidateViewer(e.ID, e.ExternalValue); err != nil {
			bad(l.viewer, "%v", err)
		}
	}
	if e.ID != "" {
		if why := personalData(e.ID); why != "" {
			bad(l.id, "%s; %s", why, notPersonal)
		}
	}
	if strings.IndexFunc(e.DisplayName, unicode.IsControl) >= 0 {
		bad(l.displayName, "must not contain control characters")
	}
	errs = append(errs, checkUsers(e.Users, l.users)...)
	return errs
}

// checkUsers checks the login names allowed to act as one viewer.
func checkUsers(users []string, label string) []error {
	if len(users) == 0 {
		return []error{fmt.Errorf("%s: is empty: list at least one login user name allowed to act as this viewer", label)}
	}
	var errs []error
	seen := map[string]int{}
	for i, u := range users {
		at := fmt.Sprintf("%s[%d]", label, i)
		if err := checkUserName(u); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		if j, dup := seen[u]; dup {
			errs = append(errs, fmt.Errorf("%s: %q is already listed at %s[%d]: list each user once", at, u, label, j))
			continue
		}
		seen[u] = i
	}
	return errs
}

// checkUserName applies the login names' rules: the session package matches
// names in lower case, so a name with capitals could never log in.
func checkUserName(u string) error {
	switch {
	case u == "":
		return errors.New("user name is empty")
	case strings.IndexFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errors.New("user name must not contain whitespace or control characters")
	case strings.ToLower(u) != u:
		return fmt.Errorf("user name %q must be lower case, as login names are", u)
	}
	return nil
}

// personalData says why an external_viewer_id looks like personal data, or
// returns "" when it does not. The rules are deliberately blunt: an id
// refused by mistake costs a rename, personal data in an audit log costs a
// clean-up nobody can do.
func personalData(id string) string {
	switch {
	case strings.ContainsRune(id, '@'):
		return "contains '@', so it looks like an e-mail address"
	case strings.IndexFunc(id, unicode.IsSpace) >= 0:
		return "contains whitespace, so it looks like a person's name"
	case looksLikePhone(id):
		return "looks like a phone number (7 to 15 digits, optionally with + - . ( ) / separators); if it is an opaque number, give it a prefix"
	}
	return ""
}

// looksLikePhone is true for 7 to 15 digits (E.164 allows at most 15)
// written with nothing but the usual separators and a leading '+'.
func looksLikePhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune("-.()/ ", r):
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}
