package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"embedlab/backend/apps"
	"embedlab/backend/session"
	"embedlab/shared/api"
	"embedlab/shared/claims"
)

// Apps is what the "Call an app" routes need: where calls may go, and the
// token sources this deployment has.
type Apps struct {
	Caller *apps.Caller
	// U2M runs sign-ins for embedlab's users; nil with U2MProblem set when
	// it is not configured.
	U2M             *apps.U2M
	U2MProblem      string
	U2MFix          string
	M2M             apps.Source // the configured service principal
	NoAccess        apps.Source // emulator only: a principal without CAN USE
	AppToApp        apps.Source // inside a Databricks App only
	AppToAppProblem string
	// ProfileFile is the Databricks CLI's profiles, and CLI its command ("" when absent).
	ProfileFile string
	CLI         string
	// List gives the apps to offer (the emulator's); nil for a real workspace.
	List func() []api.App
	// Federation are the identities whose identity provider tokens the
	// federated source exchanges (routes_federation.go); empty, with the
	// problem and fix, when token federation is not set up.
	Federation        []FederatedIdentity
	FederationProblem string
	FederationFix     string
}

// scopeChoices are the scopes a U2M sign-in may ask for.
var scopeChoices = []api.ScopeChoice{
	{Scope: "all-apis", Meaning: "Call any workspace API and any app without user authorization.", Default: true},
	{Scope: "sql", Meaning: "Run SQL as you: apps with user authorization for SQL require it."},
	{Scope: "file.files", Meaning: "Read and write files in volumes as you."},
	{Scope: "dashboards.genie", Meaning: "Use Genie spaces as you."},
	{Scope: "iam.current-user:read", Meaning: "Read who you are."},
}

var profileRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (s *Server) appsRoutes(a *echo.Group, auth *echo.Group) {
	auth.GET("/apps", s.appsOverview)
	auth.POST("/apps/login", s.appsLogin)
	auth.DELETE("/apps/login", s.appsLogout)
	auth.POST("/apps/call", s.appsCall)
	// The workspace sends the browser back here: a navigation, so no CSRF
	// header; the state, tied to this user's sign-in, stands in for it.
	a.GET("/apps/callback", s.appsCallback)
}

func (s *Server) appsOverview(c echo.Context) error {
	sess, _ := session.FromContext(c)
	a := s.apps
	out := api.AppsOverview{Scopes: scopeChoices, AppDomains: a.Caller.Domains, Apps: []api.App{}}
	if len(out.AppDomains) == 0 {
		out.AppDomains = apps.DefaultDomains
	}
	if a.List != nil {
		out.Apps = a.List()
	}
	u2m := api.TokenSource{ID: api.SourceU2M, Label: "U2M: sign in as a workspace user",
		Description: "Authorization code + PKCE at the workspace, with the scopes you pick; the token stays on embedlab's server.",
		Available:   a.U2M != nil, Problem: a.U2MProblem, Fix: a.U2MFix}
	if a.U2M != nil {
		if src, ok := a.U2M.Source(sess.User); ok {
			out.U2M.SignedIn = true
			u2m.Description = src.Describe()
			if t, err := src.Token(c.Request().Context()); err == nil {
				if _, cl, err := claims.Decode(t.AccessToken); err == nil {
					out.U2M.Scopes = cl.Scopes()
				}
			}
		} else {
			u2m.Problem, u2m.Fix = "not signed in yet", "pick the scopes and sign in"
		}
	}
	out.Sources = append(out.Sources, u2m, s.sourceInfo(api.SourceM2M, "M2M: a service principal", a.M2M, "",
		"set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (or SERVICE_PRINCIPAL_ID/SECRET)"))
	if a.NoAccess != nil {
		out.Sources = append(out.Sources, s.sourceInfo(api.SourceNoAccess, "M2M: a service principal without CAN USE", a.NoAccess, "", ""))
	}
	profile := api.TokenSource{ID: api.SourceProfile, Label: "Databricks CLI profile", Available: a.ProfileFile != "",
		Description: "A profile of " + a.ProfileFile + ", read on embedlab's server; `databricks auth token --profile P` when the CLI is installed."}
	switch {
	case a.ProfileFile == "":
		profile.Description, profile.Problem, profile.Fix = "A profile of the Databricks CLI.", "off in a shared deployment: it would hand the server's profiles to every user", "use it where embedlab runs on your own machine"
	case a.CLI == "":
		profile.Description = "A profile of " + a.ProfileFile + " with client_id and client_secret (the databricks command is not installed here)."
	}
	out.Sources = append(out.Sources, profile,
		s.sourceInfo(api.SourceAppToApp, "App to app: this app's own service principal", a.AppToApp, a.AppToAppProblem, "deploy embedlab as a Databricks App"))
	out.Sources = append(out.Sources, s.federationSources(&out)...)
	out.Sources = append(out.Sources,
		api.TokenSource{ID: api.SourceNone, Label: "No token", Available: true, Description: "Send the call without Authorization, to see what the Apps proxy answers."})
	return c.JSON(http.StatusOK, out)
}

func (s *Server) sourceInfo(id, label string, src apps.Source, problem, fix string) api.TokenSource {
	ts := api.TokenSource{ID: id, Label: label, Available: src != nil}
	if src != nil {
		ts.Description = src.Describe()
	} else {
		ts.Problem, ts.Fix = problem, fix
		if ts.Problem == "" {
			ts.Problem = "not configured"
		}
	}
	return ts
}

func (s *Server) appsLogin(c echo.Context) error {
	if s.apps.U2M == nil {
		return &problem{status: http.StatusConflict, code: "u2m_unavailable", message: "U2M is not configured: " + s.apps.U2MProblem, fix: s.apps.U2MFix}
	}
	var req api.AppsLoginRequest
	if err := c.Bind(&req); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "send {\"scopes\": [\"all-apis\", ...]}")
	}
	if len(req.Scopes) > 20 {
		return fail(http.StatusBadRequest, "bad_request", "at most 20 scopes")
	}
	sess, _ := session.FromContext(c)
	origin := c.Scheme() + "://" + c.Request().Host
	u, err := s.apps.U2M.Start(sess.User, req.Scopes, s.apps.U2M.RedirectFor(origin))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.AppsLoginResponse{AuthorizationURL: u})
}

func (s *Server) appsLogout(c echo.Context) error {
	if s.apps.U2M != nil {
		sess, _ := session.FromContext(c)
		s.apps.U2M.SignOut(sess.User)
	}
	return c.NoContent(http.StatusNoContent)
}

// appsCallback finishes a U2M sign-in and sends the browser back to the
// page, with the outcome in the query string.
func (s *Server) appsCallback(c echo.Context) error {
	back := func(k, v string) error {
		return c.Redirect(http.StatusFound, "/call-app?"+url.Values{k: {v}}.Encode())
	}
	sess, err := s.sessions.FromRequest(c.Request())
	if err != nil {
		return c.Redirect(http.StatusFound, "/login")
	}
	q := c.QueryParams()
	if e := q.Get("error"); e != "" {
		msg := clip(e+": "+q.Get("error_description"), 300)
		return back("u2m_error", "The workspace refused the sign-in ("+msg+").")
	}
	if s.apps.U2M == nil {
		return back("u2m_error", "U2M is not configured.")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	if err := s.apps.U2M.Finish(ctx, sess.User, q.Get("state"), q.Get("code")); err != nil {
		var se *apps.SourceError
		if errors.As(err, &se) {
			return back("u2m_error", se.Message+". "+se.Fix+".")
		}
		return back("u2m_error", "The sign-in failed.")
	}
	return back("u2m", "signed-in")
}

func (s *Server) appsCall(c echo.Context) error {
	var req api.AppCallRequest
	if err := c.Bind(&req); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "send {\"source\", \"method\", \"url\"}")
	}
	if len(req.Body) > 16<<10 {
		return fail(http.StatusBadRequest, "bad_request", "the request body is over 16 KB")
	}
	sess, _ := session.FromContext(c)
	src, err := s.appSource(c.Request().Context(), sess.User, req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 25*time.Second)
	defer cancel()
	r, err := s.apps.Caller.Call(ctx, src, apps.Request{Method: strings.ToUpper(req.Method), URL: req.URL, Body: req.Body})
	if err != nil {
		var se *apps.SourceError
		if errors.As(err, &se) {
			return err
		}
		return fail(http.StatusBadRequest, "bad_app_url", "%s", err.Error())
	}
	out := api.AppCallResult{Method: r.Method, URL: r.URL, Status: r.Status, Body: r.Body, Truncated: r.Truncated,
		DurationMS: float64(r.Duration.Microseconds()) / 1000, Source: req.Source, SourceInfo: r.SourceInfo, Claims: r.Claims,
		Diagnosis: api.AppDiagnosis(r.Diagnosis), Headers: map[string]string{}}
	if r.Claims != nil && r.Claims.ExpiresAt != 0 {
		out.ExpiresAt = time.Unix(r.Claims.ExpiresAt, 0).UTC()
	}
	for _, h := range []string{"Content-Type", "Location", "X-Request-Id", "Www-Authenticate"} {
		if v := r.Header.Get(h); v != "" {
			out.Headers[h] = clip(v, 500)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) appSource(ctx context.Context, user string, req api.AppCallRequest) (apps.Source, error) {
	a := s.apps
	switch req.Source {
	case api.SourceNone:
		return nil, nil
	case api.SourceU2M:
		if a.U2M == nil {
			return nil, &problem{status: http.StatusConflict, code: "u2m_unavailable", message: "U2M is not configured: " + a.U2MProblem, fix: a.U2MFix}
		}
		if src, ok := a.U2M.Source(user); ok {
			return src, nil
		}
		return nil, &problem{status: http.StatusConflict, code: "u2m_not_signed_in", message: "you have not signed in to the workspace yet", fix: "pick the scopes and sign in"}
	case api.SourceM2M, api.SourceNoAccess, api.SourceAppToApp:
		src := map[string]apps.Source{api.SourceM2M: a.M2M, api.SourceNoAccess: a.NoAccess, api.SourceAppToApp: a.AppToApp}[req.Source]
		if src == nil {
			return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: req.Source + " is not configured here"}
		}
		return src, nil
	case api.SourceProfile:
		if a.ProfileFile == "" {
			return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: "CLI profiles are off in a shared deployment"}
		}
		if !profileRE.MatchString(req.Profile) {
			return nil, fail(http.StatusBadRequest, "bad_request", "profile %q: a profile name is letters, digits, '.', '_' and '-'", clip(req.Profile, 80))
		}
		p, err := apps.ReadProfile(a.ProfileFile, req.Profile)
		if err != nil {
			return nil, err
		}
		return apps.NewProfile(ctx, p, a.CLI)
	case api.SourceFederated, api.SourceIdPDirect:
		return s.federatedSource(req)
	}
	return nil, fail(http.StatusBadRequest, "bad_request", "source %q: use one of u2m, m2m, profile, app-to-app, federated, idp-direct, none", clip(req.Source, 40))
}

// appsProblem maps the apps package's errors.
func appsProblem(err error) *problem {
	var se *apps.SourceError
	if errors.As(err, &se) {
		return &problem{status: http.StatusBadGateway, code: "token_source_failed", message: se.Message, fix: se.Fix, cause: err}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
