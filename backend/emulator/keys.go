package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// keyring holds the signing key and the keys still published in the JWKS.
// Rotation keeps the previous key published so tokens signed just before a
// rotation stay verifiable until they expire.
type keyring struct {
	mu       sync.RWMutex
	current  *signingKey
	previous *signingKey
}

type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("generate key id: %w", err)
	}
	return &signingKey{kid: hex.EncodeToString(id), priv: priv}, nil
}

func newKeyring() (*keyring, error) {
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &keyring{current: k}, nil
}

// rotate makes a new signing key; the old one stays in the JWKS.
func (r *keyring) rotate() error {
	k, err := newSigningKey()
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.previous, r.current = r.current, k
	r.mu.Unlock()
	return nil
}

// jwtClaims adapts the shared claims type to golang-jwt.
type jwtClaims struct{ claims.Claims }

func (c jwtClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numeric(c.ExpiresAt), nil }
func (c jwtClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numeric(c.IssuedAt), nil }
func (c jwtClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numeric(c.NotBefore), nil }
func (c jwtClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c jwtClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c jwtClaims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(c.Audience), nil }

func numeric(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(unix(sec))
}

// sign makes an RS256 at+jwt with the current key's kid in the header.
func (r *keyring) sign(c claims.Claims) (string, error) {
	r.mu.RLock()
	k := r.current
	r.mu.RUnlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwtClaims{c})
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// errUnknownKey means the token names a key this workspace does not publish.
var errUnknownKey = errors.New("token is signed with a key this workspace does not publish")

// publicKey finds a published key by kid.
func (r *keyring) publicKey(kid string) (*rsa.PublicKey, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range []*signingKey{r.current, r.previous} {
		if k != nil && k.kid == kid {
			return &k.priv.PublicKey, nil
		}
	}
	return nil, errUnknownKey
}

// jwks lists the published public keys.
func (r *keyring) jwks() wire.JWKS {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var set wire.JWKS
	for _, k := range []*signingKey{r.current, r.previous} {
		if k == nil {
			continue
		}
		set.Keys = append(set.Keys, wire.JWK{
			Kty: "RSA", Kid: k.kid, Use: "sig", Alg: "RS256",
			N: base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
		})
	}
	return set
}
