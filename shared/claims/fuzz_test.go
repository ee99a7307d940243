package claims

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecode: any string either decodes into a header and claims or is
// refused with an error, never a panic. What decodes is a compact JWT of
// three parts under the size limit whose header and payload are JSON
// objects, and it is stable: encoding the decoded header and claims again
// decodes to the same values (nothing is lost or invented on the way
// through the inspector and the broker's cache).
func FuzzDecode(f *testing.F) {
	f.Add(jwtOf(`{"alg":"RS256","kid":"k"}`, `{"sub":"s","aud":["a"],"exp":1,"authorization_details":[]}`))
	f.Add(jwtOf(`{"alg":"RS256","typ":"at+jwt","kid":"k1"}`,
		`{"iss":"https://x/oidc","sub":"sp","aud":"sp","scope":"dashboards.lakeview-embedded:read all-apis","iat":1,"exp":2,"jti":"j",
		  "custom_claim":"urn:aibi:external_data:EMEA:v1:d","authorization_details":[{"type":"workspace_rule_set","resource_name":"workspaces/1","grant_rules":[{"permission_set":"p"}]}]}`))
	f.Add(jwtOf(`{"alg":"none"}`, `{"exp":1e400}`))
	f.Add(jwtOf(`{"alg":"HS256"}`, `{"aud":null,"exp":-1,"iat":9223372036854775807}`))
	f.Add(jwtOf(`null`, `null`))
	f.Add(jwtOf(`{}`, `{"authorization_details":[null,{"grant_rules":[null]}]}`))
	f.Add(jwtOf(`{"alg":"RS256"}`, `{"scope":"\u0000 \t\n a","custom_claim":"\ud800"}`) + "==")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJ.eyJ.eyJ")
	f.Add("")
	f.Add(strings.Repeat("A", MaxTokenBytes-4) + ".e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		h, c, err := Decode(tok)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if len(tok) > MaxTokenBytes {
			t.Fatalf("decoded a %d-byte token; the limit is %d", len(tok), MaxTokenBytes)
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("decoded a token of %d parts", len(parts))
		}
		for i, part := range parts[:2] {
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
			if err != nil || !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")) {
				t.Fatalf("decoded a token whose part %d is not a JSON object: %q", i, raw)
			}
		}
		_ = c.Scopes()
		_ = c.HasScope("all-apis")

		hb, err := json.Marshal(h)
		if err != nil {
			t.Fatalf("the decoded header does not encode: %v", err)
		}
		cb, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("the decoded claims do not encode: %v", err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		h2, c2, err := Decode(enc(hb) + "." + enc(cb) + "." + parts[2])
		if err != nil && len(enc(hb))+len(enc(cb))+len(parts[2])+2 <= MaxTokenBytes {
			t.Fatalf("what decoded does not decode again: %v\nheader %s\nclaims %s", err, hb, cb)
		}
		if err != nil {
			return
		}
		hb2, _ := json.Marshal(h2)
		cb2, _ := json.Marshal(c2)
		if !bytes.Equal(hb, hb2) || !bytes.Equal(cb, cb2) {
			t.Fatalf("decoding is not stable:\n%s\n%s\nthen\n%s\n%s", hb, cb, hb2, cb2)
		}
	})
}
