// Package redact shortens secrets and tokens before they reach a log line, an
// error message or the browser: at most the first and last four characters
// survive, so two tokens can be told apart without either being usable.
package redact

import (
	"regexp"
	"strings"
)

// Token keeps the first and last four characters of a token of at least 16
// characters and hides shorter ones entirely.
func Token(s string) string {
	if s == "" {
		return ""
	}
	if len(s) < 16 {
		return "****"
	}
	return s[:4] + "…" + s[len(s)-4:]
}

// jwtLike matches compact JWTs and other long opaque tokens.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|dose[A-Za-z0-9]{8,}`)

// Text redacts every JWT-looking token and Databricks OAuth secret
// ("dose…") inside free text such as a response body.
func Text(s string) string {
	return jwtLike.ReplaceAllStringFunc(s, Token)
}

// Authorization redacts an Authorization header value: the scheme stays,
// a bearer token is shortened and Basic credentials are hidden whole.
func Authorization(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return Token(v)
	}
	if strings.EqualFold(scheme, "Basic") {
		return scheme + " ****"
	}
	return scheme + " " + Token(cred)
}
