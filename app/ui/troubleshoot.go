package ui

import (
	"errors"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// diagnosis names the likely cause of a failure and the fix, so the user
// reads "the service principal lacks CAN RUN", not "403".
type diagnosis struct {
	Title string
	Cause string
	Fix   string
}

var diagnoses = map[string]diagnosis{
	api.CodeBadSecret: {"The workspace refused the service principal's secret",
		"Step 1 (client_credentials) failed: the client id or secret is wrong, or the secret was revoked or has expired.",
		"Create a new OAuth secret for the service principal and set SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET."},
	api.CodeNoCanRun: {"The service principal may not run this dashboard",
		"Step 2 (tokeninfo) answered 403: the service principal lacks CAN RUN on the published dashboard.",
		"In the dashboard's sharing settings, give the service principal CAN RUN."},
	api.CodeUnknownDashboard: {"The dashboard is unknown or not published",
		"Step 2 (tokeninfo) answered 404: DASHBOARD_ID names no published dashboard in this workspace.",
		"Check DASHBOARD_ID and WORKSPACE_ID, and publish the dashboard."},
	api.CodeRateLimited: {"The workspace is rate limiting dashboard tokens",
		"The workspace allows 20 dashboard loads per second; it answered 429 even after retries.",
		"Wait a few seconds and switch again; cached tokens avoid most calls."},
	api.CodeUnreachable: {"The workspace could not be reached",
		"The backend's call to the workspace failed or timed out.",
		"Check INSTANCE_URL and the network between embedlab and the workspace (in emulator mode: is the emulator running?)."},
	api.CodeForbiddenViewer: {"You may not act as this viewer",
		"The viewers file does not list your user for this external viewer, so the backend refuses to get a token.",
		"Pick one of your viewers on the left, or ask for access in the viewers file."},
	api.CodeInvalidViewer: {"The viewer's settings are invalid",
		"The external_viewer_id or external_value breaks the workspace's rules.",
		"Fix the viewer in the viewers file."},
	api.CodeOriginNotAllowed: {"The workspace does not allow embedding from this origin",
		"The token is fine, but the browser refused to show the dashboard frame: the workspace's embed page lists the origins that may frame it (CSP frame-ancestors), and this page's origin is not among them.",
		"Add this origin to the workspace's approved embedding domains."},
	api.CodeRoleRequired: {"Your user lacks the role this needs",
		"The users file grants roles; this action changes what others share or uses an identity that is not yours.",
		"Sign in as a user with the role, or ask for it in the users file."},
	codeUnknownViewer: {"This link names a viewer you do not have",
		"The viewer id in the address is not among the external viewers you may act as, so embedlab asks for no token.",
		"Pick one of your viewers."},
	api.CodeEmbedPageNotFound: {"The workspace has no such dashboard page",
		"The frame's embed page answered 404: the dashboard is unknown or unpublished, or it has no page of that name.",
		"Pick another page, check DASHBOARD_ID and publish the dashboard."},
	codeFrameSilent: {"The dashboard frame stays silent",
		"The workspace answers and allows this origin, but the embed page has not said it is ready.",
		"Retry; if it stays silent, the browser's console shows the frame's errors."},
	"unauthenticated": {"Your session has ended", "The session cookie is missing or expired.", "Sign in again."},
}

// troubleshooter shows a failure with its diagnosis.
type troubleshooter struct {
	app.Compo

	IErr error
}

func (t *troubleshooter) Render() app.UI {
	code, msg, fix := "", t.IErr.Error(), ""
	var e *apiError
	if errors.As(t.IErr, &e) {
		code, msg, fix = e.body.Error, e.body.Message, e.body.Fix
	}
	d, ok := diagnoses[code]
	if !ok {
		d = diagnosis{Title: "Something went wrong", Cause: "", Fix: ""}
	}
	if fix == "" {
		fix = d.Fix
	}
	return app.Section().ID("trouble").Class("card trouble").DataSet("code", code).Body(
		app.H2().Text(d.Title),
		app.If(d.Cause != "", func() app.UI { return app.P().Class("cause").Text(d.Cause) }),
		app.P().Class("message").Body(app.Span().Class("label").Text("The server said: "), app.Span().Text(msg)),
		app.If(fix != "", func() app.UI { return app.P().Class("fix").Text("Fix: " + fix) }),
		app.If(e != nil && e.body.RequestID != "", func() app.UI {
			return app.P().Class("muted").Text("Request id " + e.body.RequestID + " (in the server log).")
		}),
	)
}
