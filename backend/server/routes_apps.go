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
	"embedlab/shared/redact"
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
	for _, id := range s.identitiesFor(sess) {
		out.Identities = append(out.Identities, id.FederatedIdentity)
	}
	for _, info := range api.Sources {
		ts, shown := s.sourceStatus(c.Request().Context(), sess, info, &out)
		if !shown {
			continue
		}
		// A source the user's roles do not allow stays listed, greyed out,
		// with the role it needs; the call is refused anyway (appSource).
		if _, _, denied := s.roleDenied(sess, info); ts.Available && denied {
			ts.Available = false
			ts.Problem = "needs the role " + info.Role + ", which " + sess.User + " does not have"
			ts.Fix = "sign in as a user who has it (the demo user admin), or add it to " + sess.User + " in the users file"
		}
		out.Sources = append(out.Sources, ts)
	}
	return c.JSON(http.StatusOK, out)
}

// sourceStatus says whether one source of the table is configured here,
// with its description; shown is false for a source this deployment never
// has (the emulator's principal without CAN USE, elsewhere).
func (s *Server) sourceStatus(ctx context.Context, sess session.Session, info api.SourceInfo, out *api.AppsOverview) (ts api.TokenSource, shown bool) {
	a := s.apps
	ts = api.TokenSource{ID: info.ID, Label: info.Label, Description: info.Description}
	configured := func(src apps.Source, problem string) {
		ts.Available = src != nil
		if src != nil {
			ts.Description = src.Describe()
		} else {
			ts.Problem, ts.Fix = cmpOr(problem, "not configured"), info.NotAvailableFix
		}
	}
	switch info.ID {
	case api.SourceU2M:
		ts.Available, ts.Problem, ts.Fix = a.U2M != nil, a.U2MProblem, a.U2MFix
		if a.U2M == nil {
			break
		}
		if src, ok := a.U2M.Source(sess.User); ok {
			out.U2M.SignedIn = true
			ts.Description = src.Describe()
			if t, err := src.Token(ctx); err == nil {
				if _, cl, err := claims.Decode(t.AccessToken); err == nil {
					out.U2M.Scopes = cl.Scopes()
				}
			}
		} else {
			ts.Problem, ts.Fix = "not signed in yet", "pick the scopes and sign in"
		}
	case api.SourceM2M:
		configured(a.M2M, "")
	case api.SourceNoAccess:
		if a.NoAccess == nil {
			return ts, false
		}
		configured(a.NoAccess, "")
	case api.SourceAppToApp:
		configured(a.AppToApp, a.AppToAppProblem)
	case api.SourceProfile:
		ts.Available = a.ProfileFile != ""
		switch {
		case a.ProfileFile == "":
			ts.Problem, ts.Fix = "off in a shared deployment: it would hand the server's profiles to every user", info.NotAvailableFix
		case a.CLI == "":
			ts.Description = "A profile of " + a.ProfileFile + " with client_id and client_secret (the databricks command is not installed here)."
		default:
			ts.Description = "A profile of " + a.ProfileFile + ", read on embedlab's server; `databricks auth token --profile P` when the CLI is installed."
		}
	case api.SourceFederated, api.SourceIdPDirect:
		ts.Available = len(a.Federation) > 0
		if !ts.Available {
			ts.Problem, ts.Fix = cmpOr(a.FederationProblem, "not configured"), a.FederationFix
		}
	case api.SourceNone:
		ts.Available = true
	default:
		return ts, false // in the table, but this server has no code for it yet
	}
	return ts, true
}

// roleDenied says whether the user lacks the role a source needs, and the
// refusal's words. A source that is free for one's own identity
// (federation) is denied only when no configured identity is the user's.
func (s *Server) roleDenied(sess session.Session, info api.SourceInfo) (msg, fix string, denied bool) {
	if info.Role == "" || sess.HasRole(info.Role) {
		return "", "", false
	}
	what := "calling an app with \"" + info.Label + "\""
	if info.OwnIdentityFree {
		if len(s.identitiesFor(sess)) > 0 {
			return "", "", false
		}
		what += " as anyone but yourself"
	}
	msg, fix = api.RoleRefusal(sess.User, info.Role, what)
	return msg, fix, true
}

// ownIdentity reports whether a federated identity is the user's own: a
// user of the identity provider whose e-mail is the one the users file
// gives the user.
func (s *Server) ownIdentity(sess session.Session, id FederatedIdentity) bool {
	u, ok := s.sessions.Users().Lookup(sess.User)
	return ok && u.Email != "" && id.Email != "" && strings.EqualFold(u.Email, id.Email)
}

// identitiesFor lists the federated identities the user may use: all of
// them with the role, else only their own.
func (s *Server) identitiesFor(sess session.Session) []FederatedIdentity {
	info, _ := api.LookupSource(api.SourceFederated)
	if sess.HasRole(info.Role) {
		return s.apps.Federation
	}
	var mine []FederatedIdentity
	for _, id := range s.apps.Federation {
		if s.ownIdentity(sess, id) {
			mine = append(mine, id)
		}
	}
	return mine
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) appsLogin(c echo.Context) error {
	if s.apps.U2M == nil {
		return &problem{status: http.StatusConflict, code: "u2m_unavailable", message: "U2M is not configured: " + s.apps.U2MProblem, fix: s.apps.U2MFix}
	}
	var req api.AppsLoginRequest
	if err := bindJSON(c, &req); err != nil {
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
	// Only a code goes back to the page, which words it (api.U2MErrorText):
	// error_description, or any text in the link, could be anyone's words
	// shown in embedlab's voice. The details go to the log.
	back := func(k, v string) error {
		return c.Redirect(http.StatusFound, "/call-app?"+url.Values{k: {v}}.Encode())
	}
	sess, err := s.sessions.FromRequest(c.Request())
	if err != nil {
		return c.Redirect(http.StatusFound, "/login")
	}
	q := c.QueryParams()
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if e := q.Get("error"); e != "" {
		s.log.Info("U2M sign-in refused by the workspace", "request_id", rid, "user", sess.User, "error", clip(e, 60), "description", redact.Text(clip(q.Get("error_description"), 300)))
		return back(api.QueryU2MError, e)
	}
	if s.apps.U2M == nil {
		return back(api.QueryU2MError, api.U2MErrorNotConfigured)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	if err := s.apps.U2M.Finish(ctx, sess.User, q.Get("state"), q.Get("code")); err != nil {
		s.log.Info("U2M sign-in failed", "request_id", rid, "user", sess.User, "err", err)
		if errors.Is(err, apps.ErrSignInUnknown) {
			return back(api.QueryU2MError, api.U2MErrorSignInExpired)
		}
		return back(api.QueryU2MError, api.U2MErrorExchangeFailed)
	}
	return back("u2m", "signed-in")
}

func (s *Server) appsCall(c echo.Context) error {
	var req api.AppCallRequest
	if err := bindJSON(c, &req); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "send {\"source\", \"method\", \"url\"}")
	}
	if len(req.Body) > 16<<10 {
		return fail(http.StatusBadRequest, "bad_request", "the request body is over 16 KB")
	}
	sess, _ := session.FromContext(c)
	src, err := s.appSource(c.Request().Context(), sess, req)
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

func (s *Server) appSource(ctx context.Context, sess session.Session, req api.AppCallRequest) (apps.Source, error) {
	a := s.apps
	info, known := api.LookupSource(req.Source)
	if !known {
		return nil, fail(http.StatusBadRequest, "bad_request", "source %q: use one of %s", clip(req.Source, 40), api.SourceIDs(false))
	}
	// Federation checks the identity itself (federatedSource): one's own
	// needs no role.
	if !info.OwnIdentityFree {
		if msg, fix, denied := s.roleDenied(sess, info); denied {
			return nil, &problem{status: http.StatusForbidden, code: api.CodeRoleRequired, message: msg, fix: fix}
		}
	}
	switch req.Source {
	case api.SourceNone:
		return nil, nil
	case api.SourceU2M:
		if a.U2M == nil {
			return nil, &problem{status: http.StatusConflict, code: "u2m_unavailable", message: "U2M is not configured: " + a.U2MProblem, fix: a.U2MFix}
		}
		if src, ok := a.U2M.Source(sess.User); ok {
			return src, nil
		}
		return nil, &problem{status: http.StatusConflict, code: "u2m_not_signed_in", message: "you have not signed in to the workspace yet", fix: "pick the scopes and sign in"}
	case api.SourceM2M, api.SourceNoAccess, api.SourceAppToApp:
		src := map[string]apps.Source{api.SourceM2M: a.M2M, api.SourceNoAccess: a.NoAccess, api.SourceAppToApp: a.AppToApp}[req.Source]
		if src == nil {
			return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: req.Source + " is not configured here", fix: info.NotAvailableFix}
		}
		return src, nil
	case api.SourceProfile:
		if a.ProfileFile == "" {
			return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: "CLI profiles are off in a shared deployment", fix: info.NotAvailableFix}
		}
		name := strings.TrimSpace(req.Profile)
		if name == "" {
			return nil, &problem{status: http.StatusBadRequest, code: "bad_request", message: "no profile named",
				fix: "type the name of a [section] of " + a.ProfileFile + ", e.g. DEFAULT"}
		}
		if !profileRE.MatchString(name) {
			return nil, fail(http.StatusBadRequest, "bad_request", "profile %q: a profile name is letters, digits, '.', '_' and '-'", clip(name, 80))
		}
		p, err := apps.ReadProfile(a.ProfileFile, name)
		if err != nil {
			return nil, err
		}
		return apps.NewProfile(ctx, p, a.CLI)
	case api.SourceFederated, api.SourceIdPDirect:
		return s.federatedSource(sess, req)
	}
	return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: req.Source + " is not offered by this server"}
}

// appsProblem maps the apps package's errors.
func appsProblem(err error) *problem {
	var se *apps.SourceError
	if errors.As(err, &se) {
		if se.Input {
			return &problem{status: http.StatusBadRequest, code: "token_source_input", message: se.Message, fix: se.Fix, cause: err}
		}
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
