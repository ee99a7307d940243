// Package claims reads the claims of a workspace token for display and
// routing. It never checks a signature: the browser holds no keys, and the
// servers that must trust a token verify it with the workspace's JWKS first.
package claims

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"embedlab/shared/wire"
)

// Header is the JOSE header of a workspace token.
type Header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// Claims are the claims a workspace puts in its access tokens (the wire
// reference, package wire, "Dashboard embedding for external users").
type Claims struct {
	Issuer               string                     `json:"iss"`
	Subject              string                     `json:"sub"`
	Audience             Audience                   `json:"aud,omitempty"`
	ClientID             string                     `json:"client_id,omitempty"`
	Scope                string                     `json:"scope,omitempty"`
	IssuedAt             int64                      `json:"iat"`
	NotBefore            int64                      `json:"nbf,omitempty"`
	ExpiresAt            int64                      `json:"exp"`
	ID                   string                     `json:"jti,omitempty"`
	CustomClaim          string                     `json:"custom_claim,omitempty"`
	AuthorizationDetails []wire.AuthorizationDetail `json:"authorization_details,omitempty"`
}

// Scopes splits the space-separated scope claim.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool {
	for _, have := range c.Scopes() {
		if have == s {
			return true
		}
	}
	return false
}

// Audience is the aud claim: one string or an array of them.
type Audience []string

// UnmarshalJSON accepts both forms.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// MarshalJSON writes a single audience as a plain string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// MaxTokenBytes bounds what Decode reads; workspace tokens are a few KB.
const MaxTokenBytes = 16 << 10

// Decode splits a compact JWT and decodes its header and claims without
// checking the signature.
func Decode(token string) (Header, Claims, error) {
	var h Header
	var c Claims
	if len(token) > MaxTokenBytes {
		return h, c, fmt.Errorf("token is %d bytes, more than the %d a workspace token can be", len(token), MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return h, c, fmt.Errorf("token has %d parts separated by dots; a JWT has 3", len(parts))
	}
	if err := decodePart(parts[0], &h); err != nil {
		return h, c, fmt.Errorf("token header: %w", err)
	}
	if err := decodePart(parts[1], &c); err != nil {
		return h, c, fmt.Errorf("token claims: %w", err)
	}
	return h, c, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return errors.New("not base64url")
	}
	// json.Unmarshal would take null (or nothing but spaces) as an empty
	// object: a token of "null" parts is malformed, not one without claims.
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not the expected JSON object: %w", err)
	}
	return nil
}
