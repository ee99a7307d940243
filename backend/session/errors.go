package session

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Code says what kind of refusal an Error is.
type Code string

// The codes, with the HTTP status (*Error).Status gives each.
const (
	CodeBadRequest           Code = "bad_request"            // 400: a login body that is not {"name","password"}
	CodeBadCredentials       Code = "bad_credentials"        // 401: unknown user or wrong password, indistinguishably
	CodeNoSession            Code = "no_session"             // 401: no, expired, revoked or invalid session cookie
	CodeCSRF                 Code = "csrf"                   // 403: missing or wrong X-CSRF-Token, or a cross-origin login
	CodeUnsupportedMediaType Code = "unsupported_media_type" // 415: login without Content-Type: application/json
	CodeThrottled            Code = "throttled"              // 429: too many failed logins; see RetryAfter
)

// Error is every refusal of this package.
type Error struct {
	Code Code
	// Message is safe to show the client.
	Message string
	// RetryAfter is how long to wait, for CodeThrottled.
	RetryAfter time.Duration
	// Err is the cause, for the server's log only. It may say which of
	// "unknown user" and "wrong password" it was; it never holds a password,
	// a hash, or a name typed into the login form that matches no user
	// (people type passwords into the name field).
	Err error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Code.
var (
	ErrBadRequest           = &Error{Code: CodeBadRequest}
	ErrBadCredentials       = &Error{Code: CodeBadCredentials}
	ErrNoSession            = &Error{Code: CodeNoSession}
	ErrCSRF                 = &Error{Code: CodeCSRF}
	ErrUnsupportedMediaType = &Error{Code: CodeUnsupportedMediaType}
	ErrThrottled            = &Error{Code: CodeThrottled}
)

func (e *Error) Error() string {
	s := "session: " + string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches any *Error of the same Code, so errors.Is(err, ErrThrottled)
// works whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Status is the one place that maps codes to HTTP status.
func (e *Error) Status() int {
	switch e.Code {
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeBadCredentials, CodeNoSession:
		return http.StatusUnauthorized
	case CodeCSRF:
		return http.StatusForbidden
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case CodeThrottled:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value of the Retry-After header.
func (e *Error) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// EchoError turns err into what Echo's error handlers understand: an *Error
// becomes an *echo.HTTPError with its status, its safe Message and the
// *Error as Internal (so errors.As still finds it for the log), and a
// throttled one sets Retry-After on c's response. Any other error is
// returned as is.
func EchoError(c echo.Context, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Code == CodeThrottled {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds()))
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status())
	}
	return echo.NewHTTPError(e.Status(), msg).SetInternal(e)
}

func newError(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Err: cause}
}
