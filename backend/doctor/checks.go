package doctor

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/backend/broker"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// maxSkew is how far the clocks may disagree.
const maxSkew = time.Minute

// secretWarning is how long before its expiry a secret is worth a warning.
const secretWarning = 30 * 24 * time.Hour

// requiredScopes are what the embedded dashboard needs in a viewer's token.
var requiredScopes = []string{"dashboards.lakeview-embedded:read", "dashboards.query-execution"}

// pick says a thing the emulator's way or a real workspace's way.
func (r *run) pick(real, emulated string) string {
	if r.cfg.Emulated {
		return emulated
	}
	return real
}

const notReached = "skipped: the workspace did not answer (see the first check)"

func (r *run) checkWorkspace(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckWorkspace)
	unreachable := r.pick("check INSTANCE_URL (the workspace's URL, e.g. https://adb-123.4.azuredatabricks.net) and the network between this host and the workspace",
		"start the emulator (make run, or go run ./backend emulator), or check EMBEDLAB_EMULATOR_ADDR")
	if r.cfg.InstanceURL == "" {
		return fail(c, "set INSTANCE_URL", "no workspace URL is configured")
	}
	a, err := r.get(ctx, wire.PathDatabricksConfig, "")
	if err != nil {
		return fail(c, unreachable, "the workspace at %s could not be reached: %v", r.cfg.InstanceURL, err)
	}
	if a.status == http.StatusOK {
		var dc wire.DatabricksConfig
		if json.Unmarshal(a.body, &dc) == nil {
			c.Details = append(c.Details, fmt.Sprintf("%s: workspace %s, cloud %s", wire.PathDatabricksConfig, dc.WorkspaceID, dc.Cloud))
			if r.cfg.WorkspaceID != "" && dc.WorkspaceID != "" && dc.WorkspaceID != r.cfg.WorkspaceID {
				return fail(c, fmt.Sprintf("set WORKSPACE_ID=%s, or point INSTANCE_URL at workspace %s", dc.WorkspaceID, r.cfg.WorkspaceID),
					"INSTANCE_URL is workspace %s, but WORKSPACE_ID says %s: embed URLs would carry the wrong o= parameter", dc.WorkspaceID, r.cfg.WorkspaceID)
			}
		}
	} else {
		c.Details = append(c.Details, fmt.Sprintf("%s answered %d: the SDKs fall back to the OIDC discovery", wire.PathDatabricksConfig, a.status))
	}
	b, err := r.get(ctx, wire.PathOIDCDiscovery, "")
	if err != nil {
		return fail(c, unreachable, "the workspace's OIDC discovery could not be reached: %v", err)
	}
	if b.status != http.StatusOK {
		return fail(c, "INSTANCE_URL must be the workspace's URL, not an account console or an app URL",
			"the OIDC discovery %s answered %s", wire.PathOIDCDiscovery, said(b))
	}
	if err := json.Unmarshal(b.body, &r.meta); err != nil || r.meta.TokenEndpoint == "" {
		return fail(c, "INSTANCE_URL must be the workspace's URL", "the OIDC discovery answer is not an authorization server's metadata")
	}
	r.reached = true
	c.Details = append(c.Details, "issuer "+r.meta.Issuer, "token endpoint "+r.meta.TokenEndpoint)
	return pass(c, "%s answers its discovery documents", r.cfg.InstanceURL)
}

func (r *run) checkClock(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckClock)
	if !r.reached {
		return skip(c, notReached)
	}
	if !r.clockSeen {
		return skip(c, "the workspace sent no Date header to compare with")
	}
	off := r.skew.Round(time.Second)
	way := "ahead of"
	if off < 0 {
		off, way = -off, "behind"
	}
	switch {
	case off < time.Second:
		return pass(c, "the workspace's clock agrees with this host's to the second (its Date header has whole seconds)")
	case off <= maxSkew:
		return pass(c, "the workspace's clock is %s %s this host's, within the minute allowed", off, way)
	}
	return fail(c, r.pick("synchronise this host's clock (NTP, e.g. timedatectl set-ntp true)",
		"the emulator's clock is skewed on purpose: reset it in the fault lab (as a trainer), or with DELETE /emulator/faults and the emulator's admin key (Authorization: Bearer <key printed at its start>)"),
		"the workspace's clock is %s %s this host's: tokens' iat and exp are on the workspace's clock, so a token looks expired here "+
			"while it is valid there (or the other way), and refreshes come early or late", off, way)
}

func (r *run) checkSecret(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckSecret)
	if !r.reached {
		return skip(c, notReached)
	}
	if r.cfg.ClientID == "" || r.cfg.ClientSecret == "" {
		return fail(c, "set SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET", "the service principal's client id or secret is not configured")
	}
	a, err := r.do(ctx, request{method: http.MethodPost, path: wire.PathToken, basic: true,
		form: url.Values{"grant_type": {wire.GrantClientCredentials}, "scope": {wire.ScopeAllAPIs}}})
	if err != nil {
		return fail(c, "check the network to the workspace", "the token endpoint could not be reached: %v", err)
	}
	var oe wire.OAuthError
	_ = json.Unmarshal(a.body, &oe)
	switch {
	case a.status == http.StatusOK:
	case a.status == http.StatusUnauthorized || oe.Code == wire.OAuthInvalidClient:
		return fail(c, r.pick("check SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET; the secret may be revoked or expired: create a new OAuth secret for the service principal",
			"check the service principal's application_id and secret in the emulator's state file"),
			"the workspace refused the service principal %s's credentials (%s)", r.cfg.ClientID, said(a))
	default:
		return fail(c, "read the workspace's answer; the service principal must be allowed client_credentials with scope all-apis",
			"client_credentials for %s was refused: %s", r.cfg.ClientID, said(a))
	}
	var tr wire.TokenResponse
	if err := json.Unmarshal(a.body, &tr); err != nil || tr.AccessToken == "" {
		return fail(c, "", "the token endpoint answered 200 without an access token")
	}
	r.spToken = tr.AccessToken
	expires, known, note := r.secretExpiry(ctx)
	switch {
	case !known:
		return pass(c, "the workspace accepted %s's secret; it did not say when the secret expires (%s)", r.cfg.ClientID, note)
	case expires.IsZero():
		return pass(c, "the workspace accepted %s's secret, and the secrets API lists none that expires", r.cfg.ClientID)
	}
	left := expires.Sub(r.cfg.Now())
	when := fmt.Sprintf("%s (%s)", expires.UTC().Format("2006-01-02 15:04 MST"), days(left))
	rotate := r.pick("create a new OAuth secret for the service principal and deploy it before the old one expires",
		"set a later secret_expire_time on the service principal in the emulator's state file")
	switch {
	case left <= 0:
		return fail(c, rotate, "the workspace lists %s's secret as expired since %s", r.cfg.ClientID, when)
	case left < secretWarning:
		return warn(c, rotate, "the secret works, but expires %s", when)
	}
	return pass(c, "the workspace accepted %s's secret; it expires %s", r.cfg.ClientID, when)
}

func days(d time.Duration) string {
	switch n := int(d.Hours() / 24); {
	case d < 0:
		return fmt.Sprintf("%d days ago", -n)
	case n == 0:
		return "in less than a day"
	case n == 1:
		return "in 1 day"
	default:
		return fmt.Sprintf("in %d days", n)
	}
}

// secretExpiry asks SCIM for the service principal's id, then the secrets
// API for its secrets: the earliest expiry of an active one, the zero time
// when none expires, or known=false with why not.
func (r *run) secretExpiry(ctx context.Context) (time.Time, bool, string) {
	q := url.Values{"filter": {fmt.Sprintf("applicationId eq %q", r.cfg.ClientID)}}
	a, err := r.get(ctx, wire.PathSCIMServicePrincipals+"?"+q.Encode(), r.spToken)
	if err != nil || a.status != http.StatusOK {
		return time.Time{}, false, "SCIM lookup: " + errText(a, err)
	}
	var list wire.SCIMListResponse
	if json.Unmarshal(a.body, &list) != nil || len(list.Resources) == 0 {
		return time.Time{}, false, "SCIM does not list the service principal to it"
	}
	b, err := r.get(ctx, wire.SecretsPath(url.PathEscape(list.Resources[0].ID)), r.spToken)
	if err != nil || b.status != http.StatusOK {
		return time.Time{}, false, "listing its secrets: " + errText(b, err)
	}
	var secrets wire.SecretList
	if json.Unmarshal(b.body, &secrets) != nil {
		return time.Time{}, false, "the secrets list is not the expected JSON"
	}
	var earliest time.Time
	for _, s := range secrets.Secrets {
		t, err := time.Parse(time.RFC3339, s.ExpireTime)
		if err != nil {
			continue
		}
		if s.Status == "ACTIVE" || s.Status == "EXPIRED" || s.Status == "" {
			if earliest.IsZero() || t.Before(earliest) {
				earliest = t
			}
		}
	}
	return earliest, true, ""
}

func errText(a answer, err error) string {
	if err != nil {
		return err.Error()
	}
	return said(a)
}

// exchange gets a scoped token for one viewer, the way the app does.
func (r *run) exchange(ctx context.Context, id, value string) (*broker.Result, error) {
	if r.brk == nil {
		return nil, errors.New("the broker could not be built from the settings (instance URL, client id and secret)")
	}
	return r.brk.Token(ctx, broker.Request{DashboardID: r.cfg.DashboardID, ExternalViewerID: id, ExternalValue: value})
}

func (r *run) checkTokenInfo(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckTokenInfo)
	switch {
	case !r.reached:
		return skip(c, notReached)
	case r.spToken == "":
		return skip(c, "skipped: it needs the service principal's token (see the secret check)")
	case r.cfg.DashboardID == "":
		return fail(c, "set DASHBOARD_ID", "no dashboard id is configured")
	}
	r.lookUpDashboard(ctx)
	res, err := r.exchange(ctx, r.probe.ID, r.probe.ExternalValue)
	var be *broker.Error
	switch {
	case err == nil:
		r.scoped = res
		return pass(c, "tokeninfo answered for dashboard %s and viewer %s: authorization_details, custom_claim and scope", r.cfg.DashboardID, r.probeName())
	case !errors.As(err, &be):
		return fail(c, "", "the exchange failed: %v", err)
	case be.Step == 3:
		r.scopedErr = be
		return pass(c, "tokeninfo answered for dashboard %s (the exchange that follows failed: see the next check)", r.cfg.DashboardID)
	case be.Step < 2:
		return fail(c, be.Fix, "the service principal's token could not be got again: %s", be.Message)
	}
	switch be.Kind {
	case broker.KindNoCanRun:
		return fail(c, r.pick(fmt.Sprintf("in the dashboard's Share dialog, give the service principal %s CAN RUN (CAN READ is not enough), and publish again if needed", r.cfg.ClientID),
			fmt.Sprintf("add %s to the dashboard's can_run in the emulator's state file", r.cfg.ClientID)),
			"no CAN RUN: tokeninfo answered %d, the service principal %s may not run dashboard %s", be.Status, r.cfg.ClientID, r.cfg.DashboardID)
	case broker.KindUnknownDashboard:
		switch {
		case r.dashStatus == http.StatusNotFound:
			return fail(c, "check DASHBOARD_ID: it is the id in the dashboard's URL (…/dashboardsv3/<id>/published); and that INSTANCE_URL is the workspace that holds it",
				"unknown id: workspace %s has no dashboard %s (%s)", r.cfg.WorkspaceID, r.cfg.DashboardID, r.dashSaid)
		case r.dashStatus == http.StatusOK && r.publishedStatus == http.StatusNotFound:
			return fail(c, r.pick("publish the dashboard (Share → Publish, or POST /api/2.0/lakeview/dashboards/{id}/published)",
				"set \"published\": true on the dashboard in the emulator's state file"),
				"unpublished: dashboard %s exists but has no published revision, and only published dashboards can be embedded", r.cfg.DashboardID)
		}
		return fail(c, "check DASHBOARD_ID and WORKSPACE_ID, and publish the dashboard",
			"unknown or unpublished: tokeninfo answered 404 for dashboard %s (the service principal may not read the dashboard to tell which)", r.cfg.DashboardID)
	case broker.KindInvalidViewer:
		return fail(c, "fix the viewer in the viewers file", "tokeninfo refused the viewer %s: %s", r.probeName(), be.Message)
	}
	return fail(c, be.Fix, "%s", be.Message)
}

func (r *run) probeName() string {
	if r.o.NameViewers || r.o.Viewers != nil || r.probe.ID == "embedlab-doctor" {
		return r.probe.ID
	}
	return "(the first configured viewer)"
}

// lookUpDashboard reads the dashboard and its published revision with the
// service principal's token, once: they tell an unknown dashboard from an
// unpublished one, hold the datasets, and say how it was published.
func (r *run) lookUpDashboard(ctx context.Context) {
	if r.dashStatus != 0 || r.spToken == "" {
		return
	}
	a, err := r.get(ctx, wire.LakeviewDashboardPath(url.PathEscape(r.cfg.DashboardID)), r.spToken)
	if err != nil {
		r.dashStatus, r.dashSaid = -1, err.Error()
		return
	}
	r.dashStatus, r.dashSaid = a.status, said(a)
	if a.status == http.StatusOK {
		var d wire.LakeviewDashboard
		var def wire.SerializedDashboard
		if json.Unmarshal(a.body, &d) == nil && d.SerializedDashboard != "" && json.Unmarshal([]byte(d.SerializedDashboard), &def) == nil {
			r.def, r.warehouseID = &def, d.WarehouseID
		} else {
			r.dashSaid = "the answer has no serialized_dashboard that reads as a dashboard definition"
		}
	}
	b, err := r.get(ctx, wire.PublishedDashboardPath(url.PathEscape(r.cfg.DashboardID)), r.spToken)
	if err != nil {
		r.publishedStatus, r.publishedSaid = -1, err.Error()
		return
	}
	r.publishedStatus, r.publishedSaid = b.status, said(b)
	var p wire.PublishedDashboard
	if b.status == http.StatusOK && json.Unmarshal(b.body, &p) == nil {
		r.published = &p
		// The published revision runs on its own warehouse, which may differ from the draft's.
		r.warehouseID = cmp.Or(p.WarehouseID, r.warehouseID)
	}
}

func (r *run) checkScopedToken(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckScopedToken)
	switch {
	case r.scopedErr != nil:
		return fail(c, r.scopedErr.Fix, "the scoped exchange (step 3) failed: %s", r.scopedErr.Message)
	case r.scoped == nil:
		return skip(c, "skipped: it needs tokeninfo's answer (see above)")
	}
	cl := r.scoped.Claims
	var problems []string
	pc, err := wire.ParseCustomClaim(cl.CustomClaim)
	switch {
	case err != nil:
		problems = append(problems, "its custom_claim is malformed: "+err.Error())
	case pc.DashboardID != r.cfg.DashboardID:
		problems = append(problems, fmt.Sprintf("its custom_claim names dashboard %s, not %s", pc.DashboardID, r.cfg.DashboardID))
	case pc.ExternalViewerID != r.probe.ID || pc.ExternalValue != r.probe.ExternalValue:
		problems = append(problems, "its custom_claim names another viewer than the one asked for")
	}
	var missing []string
	for _, s := range requiredScopes {
		if !cl.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "it lacks the scopes "+strings.Join(missing, ", ")+", which the embedded dashboard needs")
	}
	if cl.HasScope(wire.ScopeAllAPIs) {
		problems = append(problems, "it carries all-apis: the browser would hold a token for every API the service principal may call")
	}
	resource := "workspaces/" + r.cfg.WorkspaceID + "/dashboards/" + r.cfg.DashboardID
	runner := false
	for _, d := range cl.AuthorizationDetails {
		for _, g := range d.GrantRules {
			runner = runner || (d.ResourceName == resource && g.PermissionSet == wire.PermDashboardRunner)
		}
	}
	if !runner {
		problems = append(problems, fmt.Sprintf("its authorization_details do not grant %s on %s (is WORKSPACE_ID right?)", wire.PermDashboardRunner, resource))
	}
	if err := r.verifySignature(ctx, r.scoped.Token); err != nil {
		problems = append(problems, "its signature does not verify with the workspace's keys: "+err.Error())
	}
	c.Details = []string{
		"custom_claim names dashboard " + pc.DashboardID + " and viewer " + r.probeName(),
		"scope: " + cl.Scope,
		fmt.Sprintf("lifetime %s, signed with key %s", time.Duration(cl.ExpiresAt-cl.IssuedAt)*time.Second, r.scoped.Header.Kid),
	}
	if len(problems) > 0 {
		return fail(c, "the workspace mints these tokens: check that INSTANCE_URL, WORKSPACE_ID and DASHBOARD_ID name the same dashboard, and that the exchange passes tokeninfo's answer unchanged",
			"the scoped token is wrong: %s", strings.Join(problems, "; "))
	}
	return pass(c, "the scoped token's custom_claim names this dashboard; it has the embed scopes, no all-apis, and a valid signature")
}

// verifySignature checks a token's RS256 signature with the JWKS the
// discovery names. Times are not checked here: the clock check does that.
func (r *run) verifySignature(ctx context.Context, token string) error {
	if r.meta.JWKSURI == "" {
		return errors.New("the discovery names no jwks_uri")
	}
	a, err := r.get(ctx, r.meta.JWKSURI, "")
	if err != nil || a.status != http.StatusOK {
		return fmt.Errorf("the JWKS could not be read: %s", errText(a, err))
	}
	var set wire.JWKS
	if err := json.Unmarshal(a.body, &set); err != nil {
		return fmt.Errorf("the JWKS is not JSON: %w", err)
	}
	_, err = jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range set.Keys {
			if k.Kid == kid && k.Kty == "RSA" {
				return rsaKey(k)
			}
		}
		return nil, fmt.Errorf("no published key has kid %q", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	return err
}

func rsaKey(k wire.JWK) (*rsa.PublicKey, error) {
	n, err1 := base64.RawURLEncoding.DecodeString(k.N)
	e, err2 := base64.RawURLEncoding.DecodeString(k.E)
	if err1 != nil || err2 != nil || len(e) > 4 {
		return nil, errors.New("the key is not a valid RSA JWK")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

func (r *run) checkOrigin(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckOrigin)
	switch {
	case r.o.Origin == "":
		return skip(c, "no app origin was given to check (embedlab doctor -origin https://app.example.com)")
	case !r.reached:
		return skip(c, notReached)
	}
	origin := strings.TrimRight(r.o.Origin, "/")
	q := url.Values{"o": {r.cfg.WorkspaceID}}
	a, err := r.get(ctx, wire.EmbedPath(r.cfg.DashboardID, "")+"?"+q.Encode(), "")
	if err != nil {
		return fail(c, "", "the embed page could not be read: %v", err)
	}
	fix := r.pick(fmt.Sprintf("a workspace admin adds %s to the approved domains for embedding dashboards (workspace settings → Security → Embed dashboards), or serve the app from an approved origin", origin),
		fmt.Sprintf("add %q to embedding_origins in the emulator's state file", origin))
	sources, found := frameAncestors(a.header.Values("Content-Security-Policy"))
	if !found {
		switch xfo := strings.ToUpper(strings.TrimSpace(a.header.Get("X-Frame-Options"))); xfo {
		case "DENY", "SAMEORIGIN":
			return fail(c, fix, "the embed page answers X-Frame-Options %s: no other origin may frame it", xfo)
		}
		return warn(c, fix, "the embed page (%d) does not say which origins may frame it (no CSP frame-ancestors): check the workspace's embedding settings by hand", a.status)
	}
	c.Details = []string{"frame-ancestors " + strings.Join(sources, " ")}
	if allowed(origin, sources, r.cfg.InstanceURL) {
		return pass(c, "the workspace's frame-ancestors allow %s to embed its dashboards", origin)
	}
	if len(sources) == 0 || (len(sources) == 1 && sources[0] == "'none'") {
		return fail(c, fix, "the workspace allows no origin to embed its dashboards (frame-ancestors 'none')")
	}
	return fail(c, fix, "%s may not embed the dashboard: the workspace's frame-ancestors allow %s only", origin, strings.Join(sources, " "))
}

// frameAncestors returns the sources of the first frame-ancestors
// directive of the CSP headers.
func frameAncestors(csps []string) ([]string, bool) {
	for _, csp := range csps {
		for _, dir := range strings.Split(csp, ";") {
			f := strings.Fields(dir)
			if len(f) > 0 && strings.EqualFold(f[0], "frame-ancestors") {
				return f[1:], true
			}
		}
	}
	return nil, false
}

// allowed matches an origin against CSP source expressions: *, a scheme
// (https:), 'self', or a host source with an optional scheme, a leading
// *. wildcard and a port.
func allowed(origin string, sources []string, instance string) bool {
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return false
	}
	for _, s := range sources {
		ls := strings.ToLower(s)
		switch {
		case ls == "*":
			if o.Scheme == "http" || o.Scheme == "https" {
				return true
			}
		case ls == "'self'":
			if strings.EqualFold(strings.TrimRight(instance, "/"), origin) {
				return true
			}
		case strings.HasSuffix(ls, ":") && !strings.Contains(ls, "/"):
			if ls == o.Scheme+":" {
				return true
			}
		default:
			if hostSourceMatches(ls, o) {
				return true
			}
		}
	}
	return false
}

func hostSourceMatches(src string, o *url.URL) bool {
	scheme := ""
	if i := strings.Index(src, "://"); i >= 0 {
		scheme, src = src[:i], src[i+3:]
	}
	src = strings.TrimRight(src, "/")
	if scheme != "" && scheme != o.Scheme && !(scheme == "http" && o.Scheme == "https") {
		return false
	}
	if scheme == "" && o.Scheme != "http" && o.Scheme != "https" {
		return false
	}
	host, port := src, ""
	if i := strings.LastIndex(src, ":"); i >= 0 && !strings.Contains(src[i:], "]") {
		host, port = src[:i], src[i+1:]
	}
	oport := o.Port()
	if oport == "" {
		oport = map[string]string{"http": "80", "https": "443"}[o.Scheme]
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[cmp.Or(scheme, o.Scheme)]
	}
	if port != "*" && port != oport {
		return false
	}
	h := strings.ToLower(o.Hostname())
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		return strings.HasSuffix(h, "."+rest)
	}
	return h == host
}

func (r *run) checkViewers(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckViewers)
	src := cmp.Or(r.cfg.ViewersSource, "the viewers file")
	fix := "give each viewer a unique, opaque external_viewer_id such as viewer-emea or customer-0042: it goes to the workspace's audit log, so no e-mail addresses, names or phone numbers"
	if r.cfg.ViewersErr != nil {
		lines := strings.Split(r.cfg.ViewersErr.Error(), "\n")
		c.Details = lines
		return fail(c, fix, "%s is refused (%s)", src, plural(len(lines), "problem"))
	}
	if r.cfg.Viewers == nil || r.cfg.Viewers.Len() == 0 {
		return fail(c, "list the viewers in EMBEDLAB_VIEWERS_FILE, or set EXTERNAL_VIEWER_ID and EXTERNAL_VALUE", "no viewers are configured")
	}
	vs := r.cfg.Viewers.Viewers()
	byValue := map[string][]string{}
	for _, v := range vs {
		byValue[v.ExternalValue] = append(byValue[v.ExternalValue], v.ID)
	}
	var shared []string
	for _, ids := range byValue {
		if len(ids) > 1 {
			slices.Sort(ids)
			if r.o.NameViewers {
				shared = append(shared, strings.Join(ids, ", ")+" share one external_value")
			} else {
				shared = append(shared, fmt.Sprintf("%d viewers share one external_value", len(ids)))
			}
		}
	}
	slices.Sort(shared)
	what := fmt.Sprintf("%s from %s: every external_viewer_id is unique and none looks like personal data (no '@', spaces or phone numbers)", plural(len(vs), "viewer"), src)
	if len(shared) > 0 {
		c.Details = shared
		return warn(c, "give each customer its own external_value, unless these viewers are meant to see the same rows",
			"%s; but viewers that share an external_value see the same rows", what)
	}
	return pass(c, "%s", what)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (r *run) checkDatasets(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckDatasets)
	if r.spToken == "" {
		return skip(c, "skipped: reading the definition needs the service principal's token (see the secret check)")
	}
	r.lookUpDashboard(ctx)
	switch {
	case r.dashStatus == http.StatusForbidden:
		return warn(c, r.pick("give the service principal CAN READ (or CAN RUN) on the dashboard so its datasets can be checked, or check every dataset by hand for __aibi_external_value",
			"add the service principal to the dashboard's can_read or can_run in the emulator's state file"),
			"the service principal may not read the dashboard's definition, so its datasets were not checked (%s)", r.dashSaid)
	case r.dashStatus == http.StatusNotFound:
		return skip(c, "skipped: the workspace has no dashboard %s (see the tokeninfo check)", r.cfg.DashboardID)
	case r.def == nil:
		return warn(c, "check the dashboard's datasets by hand for __aibi_external_value", "the definition could not be read: %s", r.dashSaid)
	case len(r.def.Datasets) == 0:
		return warn(c, "", "the definition has no datasets")
	}
	var unfiltered []string
	for _, ds := range r.def.Datasets {
		uses, mentions := scanExternalValue(ds.SQL())
		label := ds.Name
		if ds.DisplayName != "" && ds.DisplayName != ds.Name {
			label += " (" + ds.DisplayName + ")"
		}
		switch {
		case uses > 0:
			c.Details = append(c.Details, fmt.Sprintf("filtered: %s uses __aibi_external_value %s", label, plural(uses, "time")))
		case mentions > 0:
			unfiltered = append(unfiltered, label)
			c.Details = append(c.Details, fmt.Sprintf("UNFILTERED: %s names __aibi_external_value only in a comment or a string literal", label))
		default:
			unfiltered = append(unfiltered, label)
			c.Details = append(c.Details, fmt.Sprintf("UNFILTERED: %s never uses __aibi_external_value", label))
		}
	}
	if len(unfiltered) > 0 {
		why := "every viewer gets all their rows"
		if r.published != nil && r.published.EmbedCredentials {
			why += ", and with the publisher's credentials nothing else tells viewers apart"
		}
		return fail(c, "add a condition on __aibi_external_value (e.g. WHERE customer_id = __aibi_external_value) to each unfiltered dataset whose rows are per customer, or make sure it holds nothing per customer",
			"unfiltered: %s of %d never filter%s on __aibi_external_value, so %s: %s", plural(len(unfiltered), "dataset"), len(r.def.Datasets),
			map[bool]string{true: "s", false: ""}[len(unfiltered) == 1], why, strings.Join(unfiltered, ", "))
	}
	return pass(c, "all %s use __aibi_external_value", plural(len(r.def.Datasets), "dataset"))
}

// Meanings of the two ways to publish, for people.
const (
	meaningPublisher = "Published with the publisher's credentials: every query runs with the publisher's permissions, whoever views. " +
		"External viewers share that one identity, so Unity Catalog grants and row filters on the caller cannot tell them apart: " +
		"only __aibi_external_value in each dataset keeps their rows apart. The service principal needs CAN RUN, no SELECT."
	meaningViewer = "Published without embedded credentials: queries run as the viewer, which for external embedding is the service principal " +
		"of the scoped token. It needs SELECT on every table and CAN USE on the warehouse; every external viewer queries as that same " +
		"principal, so row filters on current_user() see the service principal, and only __aibi_external_value keeps viewers apart."
)

func (r *run) checkCredentials(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckCredentials)
	if r.spToken == "" {
		return skip(c, "skipped: it needs the service principal's token (see the secret check)")
	}
	r.lookUpDashboard(ctx)
	if r.published == nil {
		if r.publishedStatus == http.StatusNotFound {
			return skip(c, "skipped: the dashboard is not published (%s)", r.publishedSaid)
		}
		return warn(c, "give the service principal CAN READ or CAN RUN on the dashboard",
			"the workspace did not say how the dashboard was published (%s)", r.publishedSaid)
	}
	if r.published.EmbedCredentials {
		r.rep.Credentials = &api.EmbedCredentials{Mode: api.CredentialsPublisher, Meaning: meaningPublisher}
		return pass(c, "%s", meaningPublisher)
	}
	r.rep.Credentials = &api.EmbedCredentials{Mode: api.CredentialsViewer, Meaning: meaningViewer}
	// Queries run as the service principal: try one, as the probe viewer.
	if r.scoped == nil || r.def == nil || len(r.def.Datasets) == 0 {
		return pass(c, "%s (no query was run to confirm its grants)", meaningViewer)
	}
	a, err := r.get(ctx, wire.EmbedDatasetPath(url.PathEscape(r.cfg.DashboardID), url.PathEscape(r.def.Datasets[0].Name)), r.scoped.Token)
	switch {
	case err != nil:
		return pass(c, "%s (the query to confirm its grants failed: %v)", meaningViewer, err)
	case a.status == http.StatusOK:
		return pass(c, "%s The service principal can read the data.", meaningViewer)
	case noQueryAPI(a):
		return pass(c, "%s (this workspace has no query API embedlab can call to confirm the grants)", meaningViewer)
	case a.status == http.StatusForbidden:
		return fail(c, r.pick(fmt.Sprintf("grant %s SELECT on the dashboard's tables (with USE CATALOG and USE SCHEMA) and CAN USE on its SQL warehouse, or publish with embedded credentials", r.cfg.ClientID),
			fmt.Sprintf("add %s to the dashboard's select_grants in the emulator's state file, or set embed_credentials to publisher", r.cfg.ClientID)),
			"queries run as the service principal %s, and the workspace refuses them: %s", r.cfg.ClientID, said(a))
	}
	return warn(c, "", "%s A query to confirm the grants answered %s.", meaningViewer, said(a))
}

// noQueryAPI is true when the workspace has no dataset route at all (a
// real workspace), as opposed to refusing a call to it.
func noQueryAPI(a answer) bool {
	if a.status != http.StatusNotFound {
		return false
	}
	var ae wire.APIError
	return json.Unmarshal(a.body, &ae) != nil || ae.ErrorCode != wire.ErrResourceDoesNotExist
}
