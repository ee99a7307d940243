package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"embedlab/shared/redact"
)

// Limits on what the API reads and how long a request may take.
const (
	apiBodyLimit = "64K"
	apiTimeout   = 30 * time.Second
)

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// recoverPanics turns a panic into a 500 through the error handler, with
// the stack in the server log only.
func (s *Server) recoverPanics() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err, "stack", string(stack))
			return err
		},
	})
}

// logRequests writes one structured line per request. The query string is
// redacted: tokens must never reach a log line.
func (s *Server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogURIPath: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{"method", v.Method, "path", v.URIPath, "status", v.Status,
				"ms", float64(v.Latency.Microseconds()) / 1000, "request_id", v.RequestID}
			if q := c.Request().URL.RawQuery; q != "" {
				attrs = append(attrs, "query", redact.Text(q))
			}
			if user, ok := c.Get(ctxUser).(string); ok && user != "" {
				attrs = append(attrs, "user", user)
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.Log(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// ctxUser is where the session middleware leaves the user name for the log.
const ctxUser = "embedlab.user"

// secureHeaders sets the page's security headers. The CSP lets the Wasm run
// ('wasm-unsafe-eval'), and frames only from the workspace's origin, where
// the dashboard lives.
//
// Over HTTPS (secure) it adds HSTS, so a browser that has been here once
// never again tries the http:// address, where the cookie could be seen.
func secureHeaders(instanceURL string, secure bool) echo.MiddlewareFunc {
	frameSrc := "'none'"
	if u, err := url.Parse(instanceURL); err == nil && u.Host != "" {
		frameSrc = u.Scheme + "://" + u.Host
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'wasm-unsafe-eval'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"worker-src 'self'",
		"manifest-src 'self'",
		"frame-src " + frameSrc,
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			return next(c)
		}
	}
}

// refuseSemicolons answers 400 for a query string with a ';'. Go's URL
// parser drops such a pair without a word (`?viewer=a;b` would read as no
// viewer at all, and be refused for the wrong reason); saying so is clearer.
func refuseSemicolons(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.Contains(c.Request().URL.RawQuery, ";") {
			return &problem{status: http.StatusBadRequest, code: "bad_request", message: "the query string holds a ';'",
				fix: "separate parameters with '&', and write a ';' inside a value as %3B"}
		}
		return next(c)
	}
}

// noStore keeps API answers, which hold tokens, out of every cache.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
