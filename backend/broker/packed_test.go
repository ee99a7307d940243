package broker

import (
	"encoding/base64"
	"strings"
	"testing"
)

// A scoped token as the workspace signs it packs to three quarters of its
// size and comes back the same.
func TestPackedTokenIsSmallerAndTheSame(t *testing.T) {
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"787747564cf4a098","typ":"at+jwt"}`)) + "." +
		enc.EncodeToString([]byte(`{"sub":"5f0c7a52","custom_claim":"urn:aibi:external_data:EMEA:viewer-emea:01f0","authorization_details":[{"type":"workspace_rule_set"}]}`)) + "." +
		enc.EncodeToString([]byte(strings.Repeat("\xfa\x01signature", 25)))
	p := packToken(tok)
	if p.raw || p.token() != tok {
		t.Fatalf("packed raw=%v, gives %q back", p.raw, p.token())
	}
	if len(p.b) > len(tok)*3/4 {
		t.Errorf("packed %d bytes of a %d-byte token", len(p.b), len(tok))
	}
}

// Whatever is not a canonical JWT is kept as it is, so a hit never hands
// out a token other than the one the workspace gave.
func TestOddTokensAreKeptAsTheyAre(t *testing.T) {
	for _, tok := range []string{
		"",
		"opaque-token-without-dots",
		"a.b",
		"a.b.c.d",
		"eyJh.eyJi.c2ln",   // canonical
		"eyJh.eyJi.c2lo",   // non-zero trailing bits: decodes, but does not encode back the same
		"ey+h.eyJi.c2ln",   // not base64url
		"eyJh==.eyJi.c2ln", // padding
		"eyJh.eyJi.c2ln\n", // a newline that lenient decoding drops
		"..",
	} {
		if got := packToken(tok).token(); got != tok {
			t.Errorf("packToken(%q).token() = %q", tok, got)
		}
	}
}

func FuzzPackToken(f *testing.F) {
	for _, s := range []string{"eyJh.eyJi.c2ln", "eyJh.YR.c2ln", "a.b.c", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if got := packToken(tok).token(); got != tok {
			t.Fatalf("packToken(%q).token() = %q", tok, got)
		}
	})
}
