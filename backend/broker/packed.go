package broker

import (
	"encoding/base64"
	"math"
	"strings"
)

// packedToken is a cached token kept in three quarters of its size: the
// base64url parts of the JWT (header, payload, signature) decoded, one
// after the other. Cached tokens sit in memory far longer than they are
// read, and a scoped token is about 1.8 KB of base64 (2 KB of heap, Go's
// size class above it) against 1.4 KB decoded: with 10,000 viewers that is
// the difference between meeting the backend's memory goal and missing it
// (make bench, "backend with 10000 cached viewers"). A hit encodes it
// again, next to decoding its claims, which it did already.
type packedToken struct {
	// b is the decoded parts, or the token as given when raw.
	b []byte
	// head and body are the decoded lengths of the header and the payload.
	head, body uint16
	// raw: the token is not three base64url parts that encode back to the
	// same text (not a JWT, or not in canonical form), so it is kept as is.
	raw bool
}

var jwtPart = base64.RawURLEncoding.Strict()

// packToken packs tok; packToken(tok).token() == tok for every string.
func packToken(tok string) packedToken {
	// raw copies tok only when it cannot be packed.
	raw := func() packedToken { return packedToken{b: []byte(tok), raw: true} }
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return raw()
	}
	n := 0
	for _, p := range parts {
		n += jwtPart.DecodedLen(len(p))
	}
	b := make([]byte, 0, n)
	var lens [3]int
	for i, p := range parts {
		var err error
		start := len(b)
		if b, err = jwtPart.AppendDecode(b, []byte(p)); err != nil {
			return raw()
		}
		lens[i] = len(b) - start
	}
	if lens[0] > math.MaxUint16 || lens[1] > math.MaxUint16 {
		return raw()
	}
	t := packedToken{b: b, head: uint16(lens[0]), body: uint16(lens[1])}
	if t.token() != tok { // Strict decoding still skips CR and LF
		return raw()
	}
	return t
}

// token is the token as it was given to packToken.
func (t packedToken) token() string {
	if t.raw {
		return string(t.b)
	}
	h, p, s := t.b[:t.head], t.b[t.head:int(t.head)+int(t.body)], t.b[int(t.head)+int(t.body):]
	enc := base64.RawURLEncoding
	out := make([]byte, 0, enc.EncodedLen(len(h))+enc.EncodedLen(len(p))+enc.EncodedLen(len(s))+2)
	out = enc.AppendEncode(out, h)
	out = append(out, '.')
	out = enc.AppendEncode(out, p)
	out = append(out, '.')
	out = enc.AppendEncode(out, s)
	return string(out)
}
