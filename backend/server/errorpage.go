package server

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// isAPI reports whether a path answers JSON: the API and the metrics. Every
// other path is a page (or a static file) and gets errorPage.
func isAPI(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/metrics"
}

// errorPage is the error answer outside the API: a small page in the app's
// own style (web/style.css), saying what happened and where to go, with the
// request id the log has. Only the classes the stylesheet already has are
// used; the CSP allows no inline style. It is written with html's escaping,
// not html/template: a template makes the linker keep every method of every
// type (text/template calls methods by name), which costs the deployed
// binary about 5 MB of its 10 MB limit.
func errorPage(w io.Writer, d errorPageData) {
	e := html.EscapeString
	fix := ""
	if d.Fix != "" {
		fix = `<p class="fix">Fix: ` + e(d.Fix) + "</p>\n"
	}
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s · embedlab</title>
<link rel="stylesheet" href="/web/style.css">
</head>
<body>
<main class="page" id="error-page" data-status="%d">
<h1>%s</h1>
<section class="card trouble">
<p class="message">%s</p>
%s<p class="muted">%d · request id %s</p>
</section>
<p><a href="/">Back to the dashboard</a> · <a href="/login">Sign in</a></p>
</main>
</body>
</html>
`, e(d.Title), d.Status, e(d.Title), e(d.Message), fix, d.Status, e(d.RequestID))
}

type errorPageData struct {
	Status                         int
	Title, Message, Fix, RequestID string
}

// writeErrorPage answers p as a page.
func writeErrorPage(c echo.Context, p *problem, rid string) {
	title := http.StatusText(p.status)
	if p.status == http.StatusNotFound {
		title = "Page not found"
	}
	msg, fix := p.message, p.fix
	if p.status == http.StatusNotFound {
		msg, fix = "embedlab has no page at "+clip(c.Request().URL.Path, 200)+".", "check the address, or start from the dashboard"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(p.status)
	errorPage(c.Response(), errorPageData{Status: p.status, Title: title, Message: msg, Fix: fix, RequestID: rid})
}

// notFoundPages turns go-app's bare "404 page not found" (for a path no
// page is routed to) into the error page: go-app answers it itself, so it
// is caught on the way out.
func (s *Server) notFoundPages(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		w := &notFoundCatcher{ResponseWriter: c.Response().Writer}
		h.ServeHTTP(w, c.Request())
		if w.caught {
			return fail(http.StatusNotFound, "not_found", "no page at %s", clip(c.Request().URL.Path, 200))
		}
		return nil
	}
}

// notFoundCatcher swallows a 404 and its body, leaving the response
// uncommitted for the error handler; everything else passes through.
type notFoundCatcher struct {
	http.ResponseWriter
	caught, wrote bool
}

func (w *notFoundCatcher) WriteHeader(code int) {
	if code == http.StatusNotFound && !w.wrote {
		w.caught = true
		for _, k := range []string{"Content-Type", "X-Content-Type-Options", "Content-Length"} {
			w.ResponseWriter.Header().Del(k)
		}
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *notFoundCatcher) Write(b []byte) (int, error) {
	if w.caught {
		return len(b), nil
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush and Unwrap keep http.ResponseController working through the catcher.
func (w *notFoundCatcher) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.caught {
		f.Flush()
	}
}

func (w *notFoundCatcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }
