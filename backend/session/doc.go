// Package session logs embedlab's users in and keeps them logged in.
//
// Users come from a JSON file of bcrypt hashes (LoadUsers, ParseUsers) or the
// bundled demo users (DefaultUsers, DemoPasswords). A Manager checks a login,
// throttles failures per user name and per client IP, and hands out a
// session: a JWT signed HS256 with the Manager's key, kept in an HttpOnly,
// SameSite=Lax cookie. The session is stateless, so the server keeps nothing
// per user but what ended sessions early (revocations): the ids of sessions
// signed out one by one, and a generation that "sign out everywhere" raises.
// They are bounded per user, so no amount of traffic makes a signed-out
// session valid again, and kept in a file (Options.RevocationFile) when
// sessions outlive a restart. A user's roles (User.Roles: what beyond the
// basics they may do) are read from the users file at every request.
//
// Cross-site request forgery is stopped three ways:
//   - every state-changing request of a logged-in user (anything but GET,
//     HEAD, OPTIONS, TRACE) must carry the session's CSRF token in the
//     X-CSRF-Token header (RequireCSRF); a page on another site cannot read
//     it, because it only ever travels in the JSON of login and whoami;
//   - the cookie is SameSite=Lax, so browsers do not send it on cross-site
//     POSTs in the first place;
//   - the login route, which has no session yet, accepts only
//     Content-Type: application/json (an HTML form cannot send that, and a
//     cross-site fetch that does needs a CORS preflight nobody answers) and
//     refuses requests the browser marks as cross-origin (Sec-Fetch-Site,
//     else Origin against Host, via net/http's CrossOriginProtection). That
//     stops "login CSRF", where a page logs the victim into the attacker's
//     account.
//
// Every refusal is an *Error with a Code; (*Error).Status is the one place
// that maps codes to HTTP status, and EchoError turns an error into the
// *echo.HTTPError the server's error handler already understands.
//
// The server wires it as (backend/server):
//
//	api.POST("/session", sm.HandleLogin)
//	authed := api.Group("", sm.RequireSession(), sm.RequireCSRF())
//	authed.GET("/session", sm.HandleWhoAmI)
//	authed.DELETE("/session", sm.HandleLogout)
//
// Passwords and hashes never appear in an error, a log line or a response.
package session
