package server

import (
	"html/template"
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
// used; the CSP allows no inline style.
var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · embedlab</title>
<link rel="stylesheet" href="/web/style.css">
</head>
<body>
<main class="page" id="error-page" data-status="{{.Status}}">
<h1>{{.Title}}</h1>
<section class="card trouble">
<p class="message">{{.Message}}</p>
{{if .Fix}}<p class="fix">Fix: {{.Fix}}</p>{{end}}
<p class="muted">{{.Status}} · request id {{.RequestID}}</p>
</section>
<p><a href="/">Back to the dashboard</a> · <a href="/login">Sign in</a></p>
</main>
</body>
</html>
`))

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
	_ = errorPage.Execute(c.Response(), errorPageData{Status: p.status, Title: title, Message: msg, Fix: fix, RequestID: rid})
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
