package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"embedlab/shared/wire"
)

// maxBody bounds every request body the emulator reads; the largest
// legitimate one, a scoped exchange, is a few KB.
const maxBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// oauthError answers in the OAuth style of the token endpoint.
func oauthError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	noteOf(r).errCode = code
	writeJSON(w, status, wire.OAuthError{Code: code, Description: desc})
}

// apiError answers in the REST style of /api/2.0.
func apiError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	noteOf(r).errCode = code
	writeJSON(w, status, wire.APIError{ErrorCode: code, Message: msg})
}

// tooMany answers 429 REQUEST_LIMIT_EXCEEDED with Retry-After.
func tooMany(w http.ResponseWriter, r *http.Request, retryAfter int, msg string) {
	if retryAfter < 1 {
		retryAfter = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	apiError(w, r, http.StatusTooManyRequests, wire.ErrRequestLimitExceeded, msg)
}

// readForm parses an application/x-www-form-urlencoded body of bounded size.
// It returns an OAuth error ready to send when the body is not acceptable.
func readForm(w http.ResponseWriter, r *http.Request) (*wire.OAuthError, int) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return &wire.OAuthError{Code: wire.OAuthInvalidRequest,
			Description: fmt.Sprintf("Content-Type must be application/x-www-form-urlencoded, not %q", r.Header.Get("Content-Type"))}, http.StatusBadRequest
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &wire.OAuthError{Code: wire.OAuthInvalidRequest,
				Description: fmt.Sprintf("request body is larger than %d bytes", maxBody)}, http.StatusRequestEntityTooLarge
		}
		return &wire.OAuthError{Code: wire.OAuthInvalidRequest, Description: "request body is not a valid form: " + err.Error()}, http.StatusBadRequest
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return &wire.OAuthError{Code: wire.OAuthInvalidRequest, Description: fmt.Sprintf("parameter %s is repeated", k)}, http.StatusBadRequest
		}
	}
	return nil, 0
}

// readJSON decodes a bounded JSON body into v, refusing unknown fields, and
// answers a REST error itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		// Requiring JSON also keeps other web pages from driving the
		// emulator: a cross-origin JSON POST needs a preflight we never grant.
		apiError(w, r, http.StatusUnsupportedMediaType, wire.ErrBadRequest, "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, r, http.StatusRequestEntityTooLarge, wire.ErrBadRequest, fmt.Sprintf("request body is larger than %d bytes", maxBody))
			return false
		}
		apiError(w, r, http.StatusBadRequest, wire.ErrBadRequest, "request body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}
