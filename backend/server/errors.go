package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"embedlab/shared/api"
)

// problem is an error the API answers with its own status, code and message.
// Handlers return it (via fail) for input they refuse; domain packages'
// errors are turned into it by classify.
type problem struct {
	status     int
	code       string
	message    string
	fix        string
	retryAfter int
	cause      error
}

func (p *problem) Error() string {
	if p.cause != nil {
		return p.message + ": " + p.cause.Error()
	}
	return p.message
}

func (p *problem) Unwrap() error { return p.cause }

// fail makes a problem with a message for the user.
func fail(status int, code, format string, a ...any) *problem {
	return &problem{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

// errorHandler is the one place where errors become HTTP answers:
// {error, message, request_id} with the right status. Internal errors are
// logged with the request id and never sent to the client.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.classify(err)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if p.status >= 500 {
		s.log.Error("request failed", "request_id", rid, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if p.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.status)
		return
	}
	if !isAPI(c.Request().URL.Path) {
		writeErrorPage(c, p, rid)
		return
	}
	_ = c.JSON(p.status, api.Error{Error: p.code, Message: p.message, Fix: p.fix, RequestID: rid, RetryAfter: p.retryAfter})
}

// classify maps any error to the problem the client is told about.
func (s *Server) classify(err error) *problem {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	for _, m := range s.mappers {
		if p := m(err); p != nil {
			return p
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return &problem{status: he.Code, code: codeForStatus(he.Code), message: msg, fix: fixForStatus(he.Code), cause: err}
	}
	return &problem{status: http.StatusInternalServerError, code: "internal",
		message: "embedlab failed on this request; the server log has the details under this request id", cause: err}
}

// fixForStatus is the fix of Echo's own refusals, which come without one.
func fixForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "check the path: the routes are listed in the README's API table"
	case http.StatusMethodNotAllowed:
		return "use the method the README's API table gives for this route"
	case http.StatusRequestEntityTooLarge:
		return "send a body of at most " + apiBodyLimit + "B"
	case http.StatusUnsupportedMediaType:
		return "send Content-Type: application/json"
	case http.StatusRequestTimeout:
		return "send the whole request at once; a stalled body is cut off"
	}
	return ""
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusRequestTimeout:
		return "request_timeout"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}
