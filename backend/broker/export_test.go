package broker_test

import (
	"encoding/base64"
	"strings"
)

func decodePayload(jwt string) string {
	parts := strings.Split(jwt, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return string(b)
}
