package server

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// bindJSON decodes a request's JSON body into v as Echo's c.Bind does for
// a JSON body (an empty body leaves v as it is; a malformed one is a 400
// *echo.HTTPError), and refuses any other media type with 415. The API
// takes JSON only, while c.Bind also decodes forms and XML: its binder links
// encoding/xml and reflection-based form binding, 147 KB of the Databricks
// App binary (make app-size) for bodies the API never accepted.
func bindJSON(c echo.Context, v any) error {
	req := c.Request()
	if req.ContentLength == 0 {
		return nil
	}
	mediatype, _, _ := strings.Cut(req.Header.Get(echo.HeaderContentType), ";")
	if strings.TrimSpace(mediatype) != echo.MIMEApplicationJSON {
		return echo.ErrUnsupportedMediaType
	}
	return c.Echo().JSONSerializer.Deserialize(c, v)
}
