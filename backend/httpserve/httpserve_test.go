package httpserve

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// pipeConn is a net.Conn whose writes are collected.
type pipeConn struct {
	net.Conn
	got strings.Builder
}

func (p *pipeConn) Write(b []byte) (int, error) { return p.got.Write(b) }
func (p *pipeConn) RemoteAddr() net.Addr        { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1} }

func TestCannedErrorsBecomeJSON(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		in, status, code string
	}{
		{"HTTP/1.1 431 Request Header Fields Too Large" + cannedHeaders + "431 Request Header Fields Too Large", "431", "headers_too_large"},
		{"HTTP/1.1 400 Bad Request: malformed Host header" + cannedHeaders + "400 Bad Request: malformed Host header", "400", "bad_request"},
		{"HTTP/1.1 400 Bad Request" + cannedHeaders + "400 Bad Request", "400", "bad_request"},
		{"HTTP/1.1 501 Not Implemented" + cannedHeaders + "Unsupported transfer encoding", "501", "not_implemented"},
	} {
		pc := &pipeConn{}
		c2 := &conn{Conn: pc, log: log}
		if n, err := c2.Write([]byte(c.in)); err != nil || n != len(c.in) {
			t.Fatalf("Write: %d, %v", n, err)
		}
		head, body, _ := strings.Cut(pc.got.String(), "\r\n\r\n")
		var e apiError
		if !strings.HasPrefix(head, "HTTP/1.1 "+c.status+" ") || !strings.Contains(head, "Content-Type: application/json") ||
			json.Unmarshal([]byte(body), &e) != nil || e.Error != c.code || e.Fix == "" || e.RequestID == "" || !strings.Contains(head, e.RequestID) {
			t.Errorf("%q became %q", c.in, pc.got.String())
		}
	}
	// Anything else passes untouched, even a plain-text error of a handler.
	for _, in := range []string{
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\r\n404 page not found\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"{\"partial\": \"body\"}",
	} {
		pc := &pipeConn{}
		(&conn{Conn: pc, log: log}).Write([]byte(in))
		if pc.got.String() != in {
			t.Errorf("%q was rewritten to %q", in, pc.got.String())
		}
	}
}
