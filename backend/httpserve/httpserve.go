// Package httpserve gives embedlab's HTTP servers the limits every one of
// them needs: time limits on reading a request's headers and body (so a
// client that stalls cannot hold a connection, and its goroutine, for good),
// on writing the answer and on idle connections, a bound on header size, and
// JSON answers for the errors net/http writes itself, before any handler
// runs (431 for big headers, 400 for a malformed Host header or request
// line, 501 for an unknown transfer encoding), which it would otherwise send
// as plain text.
package httpserve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The limits of New.
const (
	// ReadHeaderTimeout bounds reading a request's line and headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included: the API's
	// bodies are at most 64 KB, which arrive in well under a second.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer: above the API's own 30 s limit, so a handler's timeout
	// error is still written.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes keep-alive connections nobody uses.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds a request's headers; net/http allows 4 KB more.
	MaxHeaderBytes = 32 << 10
)

// New returns a server for h with the limits above.
func New(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
}

// Listener wraps ln so that the errors net/http answers on its own, before
// any handler, become JSON {error, message, fix, request_id} like every
// other error of the API, each logged (at Info: they are the client's
// fault) with its request id.
func Listener(ln net.Listener, log *slog.Logger) net.Listener {
	if log == nil {
		log = slog.Default()
	}
	return &listener{Listener: ln, log: log}
}

type listener struct {
	net.Listener
	log *slog.Logger
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, log: l.log}, nil
}

// conn rewrites net/http's canned error answers as they are written.
type conn struct {
	net.Conn
	log *slog.Logger
}

func (c *conn) Write(p []byte) (int, error) {
	if out, ok := c.rewrite(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps sendfile for the bodies net/http copies (static files):
// those are never canned errors.
func (c *conn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// CloseWrite lets net/http half-close after a 431, as it does on a bare TCP
// connection, so the client reads the answer before the connection ends.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// cannedHeaders are the headers of every error net/http writes itself
// (net/http/server.go, conn.serve): nothing else is written this way, since
// embedlab's own answers always carry more headers.
const cannedHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// apiError is the API's error shape (shared/api.Error; not imported, so
// this package stays free of the API's types).
type apiError struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	Fix       string `json:"fix,omitempty"`
	RequestID string `json:"request_id"`
}

func (c *conn) rewrite(p []byte) ([]byte, bool) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return nil, false
	}
	i := bytes.Index(p, []byte(cannedHeaders))
	if i < 0 || len(p)-i-len(cannedHeaders) > 200 {
		return nil, false
	}
	statusLine := string(p[len("HTTP/1.1 "):i])
	if len(statusLine) < 4 || statusLine[3] != ' ' || strings.Contains(statusLine, "\r\n") {
		return nil, false
	}
	code, err := strconv.Atoi(statusLine[:3])
	if err != nil || code < 400 {
		return nil, false
	}
	detail := ""
	if _, d, ok := strings.Cut(statusLine, ": "); ok {
		detail = d
	}
	e := apiError{RequestID: requestID()}
	switch {
	case code == http.StatusRequestHeaderFieldsTooLarge:
		e.Error, e.Message = "headers_too_large", fmt.Sprintf("the request's headers are larger than %d KB", MaxHeaderBytes>>10)
		e.Fix = "send smaller headers: for a browser, delete this site's cookies"
	case code == http.StatusNotImplemented:
		e.Error, e.Message, e.Fix = "not_implemented", "the request's Transfer-Encoding is not supported", "send the body with Content-Length, or Transfer-Encoding: chunked"
	case strings.Contains(detail, "Host"):
		e.Error, e.Message, e.Fix = "bad_request", "the request's Host header is not valid ("+detail+")", "send one Host header naming this server, e.g. localhost:3000"
	default:
		e.Error, e.Message, e.Fix = "bad_request", "the request is not valid HTTP", "send an HTTP/1.1 request line and headers"
		if detail != "" {
			e.Message += " (" + detail + ")"
		}
	}
	body, _ := json.Marshal(e)
	c.log.Info("request refused before routing", "status", code, "error", e.Error, "detail", detail, "request_id", e.RequestID,
		"remote", c.RemoteAddr().String())
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\nConnection: close\r\n\r\n",
		code, http.StatusText(code), len(body), e.RequestID)
	b.Write(body)
	return b.Bytes(), true
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
