package claims

import (
	"encoding/base64"
	"strings"
	"testing"
)

func jwtOf(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestDecode(t *testing.T) {
	tok := jwtOf(`{"alg":"RS256","typ":"at+jwt","kid":"k1"}`,
		`{"iss":"https://x/oidc","sub":"sp","aud":"sp","scope":"a b","iat":1,"exp":2,"jti":"j",
		  "custom_claim":"urn:aibi:external_data:EMEA:v1:d","authorization_details":[{"type":"workspace_rule_set","resource_name":"workspaces/1","grant_rules":[{"permission_set":"p"}]}],"extra":1}`)
	h, c, err := Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	if h.Kid != "k1" || h.Typ != "at+jwt" || c.Subject != "sp" || len(c.Audience) != 1 || !c.HasScope("b") || c.HasScope("c") ||
		c.AuthorizationDetails[0].GrantRules[0].PermissionSet != "p" || c.ExpiresAt != 2 {
		t.Fatalf("%+v %+v", h, c)
	}
	_, c, err = Decode(jwtOf(`{"alg":"RS256"}`, `{"aud":["a","b"],"exp":1}`))
	if err != nil || len(c.Audience) != 2 {
		t.Fatalf("array aud: %+v %v", c, err)
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	for name, tok := range map[string]string{
		"two parts":    "a.b",
		"not base64":   "!!.!!.!!",
		"not JSON":     jwtOf("nope", "{}"),
		"aud a number": jwtOf(`{"alg":"x"}`, `{"aud":5}`),
		"too long":     strings.Repeat("a", MaxTokenBytes+1),
		"claims array": jwtOf(`{"alg":"x"}`, `[1]`),
	} {
		if _, _, err := Decode(tok); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
