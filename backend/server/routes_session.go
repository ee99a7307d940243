package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"embedlab/backend/session"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// whoami is the session middleware's companion for the request log.
func rememberUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s, ok := session.FromContext(c); ok {
			c.Set(ctxUser, s.User)
		}
		return next(c)
	}
}

// viewersOf lists the viewers a user may act as, as the API shows them.
func (s *Server) viewersOf(user string) []api.Viewer {
	vs := s.viewers.For(user)
	out := make([]api.Viewer, 0, len(vs))
	for _, v := range vs {
		out = append(out, apiViewer(v))
	}
	return out
}

func apiViewer(v viewers.Viewer) api.Viewer {
	return api.Viewer{ID: v.ID, DisplayName: v.DisplayName, ExternalValue: v.ExternalValue}
}

func (s *Server) listViewers(c echo.Context) error {
	sess, _ := session.FromContext(c)
	return c.JSON(http.StatusOK, api.Viewers{Viewers: s.viewersOf(sess.User)})
}

// embedSettings is public: the login page shows the demo users from it in
// emulator mode, and nothing in it is secret.
func (s *Server) embedSettings(c echo.Context) error {
	st := api.EmbedSettings{
		InstanceURL: s.settings.InstanceURL, WorkspaceID: s.settings.WorkspaceID, DashboardID: s.settings.DashboardID,
		Pages: s.settings.Pages, Emulated: s.settings.Emulated, RefreshMarginSeconds: int(s.settings.RefreshMargin.Seconds()),
	}
	if s.settings.Emulated && s.settings.DemoUsers {
		for _, cred := range session.DemoPasswords() {
			var names []string
			for _, v := range s.viewers.For(cred.Name) {
				names = append(names, v.ExternalValue)
			}
			list := strings.Join(names, ", ")
			if list == "" {
				list = "none"
			}
			st.DemoUsers = append(st.DemoUsers, api.DemoUser{User: cred.Name, Password: cred.Password, Viewers: list})
		}
	}
	return c.JSON(http.StatusOK, st)
}
