package apps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"embedlab/shared/claims"
	"embedlab/shared/redact"
	"embedlab/shared/wire"
)

// Caller sends requests to apps. Only URLs on the allowed app domains are
// called, so a token never leaves for a host a user typed in.
type Caller struct {
	// Domains are the host suffixes apps live under, e.g.
	// ".databricksapps.com" or the emulator's ".localhost:8001".
	Domains []string
	// Origins are exact app origins besides Domains, e.g. a classroom's
	// emulated apps served at http://192.168.1.20:8003 (one port per app,
	// as a room has no DNS for app names); plain http is allowed for them.
	Origins []string
	// HTTP is the client; nil means one with a 30 s timeout that resolves
	// *.localhost to the loopback address, as browsers do.
	HTTP *http.Client
}

// DefaultDomains is where Databricks serves apps.
var DefaultDomains = []string{".databricksapps.com"}

// maxBody bounds what is read back from an app.
const maxBody = 64 << 10

// Request is one call to an app.
type Request struct {
	Method string
	URL    string
	Body   string
}

// Result is what came back, and what it means.
type Result struct {
	Method     string
	URL        string
	Status     int
	Header     http.Header
	Body       string
	Truncated  bool
	Duration   time.Duration
	Source     string // the token source's kind
	SourceInfo string
	Claims     *claims.Claims // of the token sent; nil when none was
	Diagnosis  Diagnosis
}

// CheckURL accepts an absolute http(s) URL on one of the allowed domains.
func (c *Caller) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an app URL such as https://<app-name>-<workspace-id>.<region>.databricksapps.com/api/...", raw)
	}
	for _, o := range c.Origins {
		if strings.EqualFold(u.Scheme+"://"+u.Host, o) {
			return u, nil
		}
	}
	for _, d := range c.domains() {
		host := u.Host
		if !strings.Contains(d, ":") {
			host = u.Hostname()
		}
		if strings.HasSuffix(strings.ToLower(host), strings.ToLower(d)) && len(host) > len(d) {
			if u.Scheme == "http" && !isLoopback(u.Hostname()) {
				return nil, fmt.Errorf("%s: apps are served over https", raw)
			}
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s is not on an app domain (%s): embedlab sends tokens only to apps", u.Host, strings.Join(c.domains(), ", "))
}

func (c *Caller) domains() []string {
	if len(c.Domains) == 0 {
		return DefaultDomains
	}
	return c.Domains
}

// Call gets a token from src and sends the request with it.
func (c *Caller) Call(ctx context.Context, src Source, req Request) (*Result, error) {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	switch req.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, fmt.Errorf("method %q: use GET, POST, PUT, PATCH or DELETE", req.Method)
	}
	u, err := c.CheckURL(req.URL)
	if err != nil {
		return nil, err
	}
	res := &Result{Method: req.Method, URL: u.String()}
	var bearer string
	if src != nil {
		res.Source, res.SourceInfo = src.Kind(), src.Describe()
		tok, err := src.Token(ctx)
		if err != nil {
			return nil, err
		}
		bearer = tok.AccessToken
		if _, cl, err := claims.Decode(bearer); err == nil {
			res.Claims = &cl
		}
	}
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Accept", "application/json")
	if req.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	resp, err := c.client().Do(hr)
	res.Duration = time.Since(start)
	if err != nil {
		res.Diagnosis = networkDiagnosis(u, err)
		return res, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	res.Truncated = len(b) > maxBody
	if res.Truncated {
		b = b[:maxBody]
	}
	res.Status, res.Header = resp.StatusCode, resp.Header.Clone()
	// An app may echo what it got; never hand a token back to the caller.
	res.Body = redact.Text(string(b))
	res.Diagnosis = DiagnoseCall(resp.StatusCode, resp.Header, b, res.Claims, u, bearer != "")
	return res, nil
}

func (c *Caller) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: LocalhostTransport(),
		// A 302 to the login page is the answer to show, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// LocalhostTransport dials every *.localhost host on the loopback address,
// as browsers and curl do, so the emulator's app URLs work from Go.
func LocalhostTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 10 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(strings.ToLower(host), ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if strings.HasSuffix(strings.ToLower(r.URL.Hostname()), ".localhost") {
			return nil, nil // never through a proxy (RFC 6761)
		}
		return http.ProxyFromEnvironment(r)
	}
	return t
}

// Diagnosis names which row of the 401/403/404 table a call fell in.
type Diagnosis struct {
	OK     bool   `json:"ok"`
	Title  string `json:"title"`
	Cause  string `json:"cause"`
	Fix    string `json:"fix,omitempty"`
	Reason string `json:"reason,omitempty"` // the proxy's ErrorInfo reason, when it sent one
}

// Diagnose reads a response (and the token that was sent) for the likely
// cause and its fix; a token was sent when cl is not nil.
func Diagnose(status int, h http.Header, body []byte, cl *claims.Claims, u *url.URL) Diagnosis {
	return DiagnoseCall(status, h, body, cl, u, cl != nil)
}

// DiagnoseCall is Diagnose for a call that knows whether it sent a bearer
// token (sent), which may not be a JWT (cl nil): the diagnosis must never
// say "no token was sent" when one was.
func DiagnoseCall(status int, h http.Header, body []byte, cl *claims.Claims, u *url.URL, sent bool) Diagnosis {
	var ae wire.APIError
	_ = json.Unmarshal(body, &ae)
	info, _ := ae.Info()
	app := info.Metadata[wire.AppsMetaApp]
	if app == "" {
		if name, _, ok := wire.ParseAppHost(u.Hostname()); ok {
			app = name
		}
	}
	who := "the caller"
	if cl != nil && cl.Subject != "" {
		who = cl.Subject
	}
	d := Diagnosis{Reason: info.Reason}
	switch {
	case status >= 200 && status < 300:
		d.OK, d.Title, d.Cause = true, fmt.Sprintf("%d: the app answered", status), "The proxy accepted the token and forwarded the call to the app."
	case (status == http.StatusFound || status == http.StatusSeeOther) && sent:
		d.Title = fmt.Sprintf("%d: redirected to sign in", status)
		d.Cause = "A bearer token was sent, but the answer is a redirect to a sign-in page, as for a browser visit: the path is not under /api/, or " + u.Host + " is not a Databricks Apps proxy."
		d.Fix = "Call a path under /api/ of the app's URL as its page in the workspace shows it."
	case status == http.StatusFound || status == http.StatusSeeOther:
		d.Title = fmt.Sprintf("%d: redirected to sign in", status)
		d.Cause = "The Apps proxy treated this as a browser visit without a session: no bearer token was sent."
		d.Fix = "Send Authorization: Bearer <token>, and call a path under /api/."
	case status == http.StatusUnauthorized:
		d.Title = "401: the token was not accepted"
		switch {
		case info.Reason == wire.AppsReasonTokenMissing || !sent:
			d.Cause, d.Fix = "No bearer token reached the app.", "Get a token from one of the sources and send it as Authorization: Bearer <token>."
		case cl == nil:
			d.Cause, d.Fix = "The app refused the bearer token sent, which is not a token of this workspace (not a JWT it issued).", "Use a Databricks OAuth token from this workspace."
		case info.Reason == wire.AppsReasonIdPTokenNotExchanged || info.Reason == "" && isIdPToken(cl):
			d.Cause, d.Fix = idpTokenDiagnosis(cl, info.Metadata[wire.AppsMetaIssuer])
		case info.Reason == wire.AppsReasonTokenExpired || cl.ExpiresAt != 0 && time.Unix(cl.ExpiresAt, 0).Before(time.Now()):
			d.Cause, d.Fix = "The token has expired.", "Refresh it before expiry (embedlab renews 5 minutes early); for a CLI profile run `databricks auth token` again."
		case info.Reason == wire.AppsReasonMissingAppScopes:
			missing := info.Metadata[wire.AppsMetaMissingScopes]
			d.Cause = fmt.Sprintf("%s uses user authorization and requires the scopes %q; the token carries %q.", app, missing, cl.Scope)
			d.Fix = fmt.Sprintf("Request %s in the authorization step (U2M with custom scopes). CLI tokens carry only all-apis and are refused by such apps.", missing)
		case info.Reason == wire.AppsReasonTokenMalformed:
			d.Cause, d.Fix = "The token is malformed or not signed by this workspace (an identity provider's token, or one from another workspace).", "Use a Databricks OAuth token from this workspace; exchange an identity provider's token first (token federation)."
		default:
			d.Cause, d.Fix = "The token is missing, malformed, expired, or lacks the scopes the app requires: "+ae.Message, "Check the token's exp and scope claims below against the app's settings."
		}
	case status == http.StatusForbidden:
		d.Title = "403: the token is valid but not allowed"
		switch {
		case info.Reason == wire.AppsReasonNoCanUse:
			d.Cause, d.Fix = fmt.Sprintf("%s lacks CAN USE on %s.", who, app), fmt.Sprintf("Ask the owner of %s to grant %s CAN USE in the app's permissions.", app, who)
		case info.Reason == wire.AppsReasonInsufficientScope:
			d.Cause, d.Fix = fmt.Sprintf("The token's scopes (%q) do not allow calling apps.", claimScope(cl)), "Request all-apis (or the app's user authorization scopes)."
		default:
			d.Cause, d.Fix = "The caller lacks CAN USE on the app, or the token's scopes are insufficient: "+ae.Message, "Check the app's permissions and the token's scope claim."
		}
	case status == http.StatusNotFound:
		d.Title = "404: no such app route"
		switch {
		case info.Reason == wire.AppsReasonAppStopped:
			d.Cause, d.Fix = fmt.Sprintf("%s is not deployed or is stopped.", app), "Start the app (databricks apps start) or deploy it."
		case info.Reason == wire.AppsReasonNotAPIPath || !strings.HasPrefix(u.Path, wire.AppsAPIPrefix):
			d.Cause, d.Fix = "Only paths under /api/ accept bearer tokens.", "Call a route under /api/ (the app's own pages need a browser sign-in)."
		case info.Reason == wire.AppsReasonAppNotFound:
			d.Cause, d.Fix = "No app is served at "+u.Host+".", "Copy the app's URL from its page in the workspace: https://<app-name>-<workspace-id>.<region>.databricksapps.com."
		default:
			d.Cause, d.Fix = "Wrong app URL, app not deployed or stopped, or the path is not defined: "+ae.Message, "Check the URL against the app's page in the workspace, and that the route exists."
		}
	default:
		d.Title = fmt.Sprintf("%d: the app or the proxy failed", status)
		d.Cause = strings.TrimSpace(ae.ErrorCode + " " + ae.Message)
		if d.Cause == "" {
			d.Cause = http.StatusText(status)
		}
	}
	return d
}

func claimScope(cl *claims.Claims) string {
	if cl == nil {
		return ""
	}
	return cl.Scope
}

func networkDiagnosis(u *url.URL, err error) Diagnosis {
	d := Diagnosis{Title: "No answer: the app could not be reached", Cause: err.Error(),
		Fix: "Check the app URL, that *.databricksapps.com is not blocked, and the proxy settings (HTTPS_PROXY)."}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		d.Cause = "The host " + u.Hostname() + " does not resolve."
	}
	return d
}
