package redact

import (
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"short", "****"},
		{"0123456789abcdef", "0123…cdef"},
		{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "eyJh…dXJl"},
	} {
		if got := Token(tc.in); got != tc.want {
			t.Errorf("Token(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextHidesTokensAndSecrets(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.c2lnbmF0dXJlLXBhcnQ"
	secret := "dosedemoSecretValue123"
	in := `{"access_token":"` + jwt + `","client_secret":"` + secret + `"}`
	out := Text(in)
	if strings.Contains(out, jwt) || strings.Contains(out, secret) {
		t.Fatalf("Text left a secret in %q", out)
	}
	if !strings.Contains(out, `"access_token":"eyJh…hcnQ"`) || !strings.Contains(out, `"client_secret":"dose…e123"`) {
		t.Fatalf("Text did not keep the token's ends: %q", out)
	}
}

func TestAuthorization(t *testing.T) {
	if got := Authorization("Basic Y2xpZW50OnNlY3JldA=="); got != "Basic ****" {
		t.Errorf("basic: %q", got)
	}
	if got := Authorization("Bearer 0123456789abcdefXYZ"); got != "Bearer 0123…fXYZ" {
		t.Errorf("bearer: %q", got)
	}
}
