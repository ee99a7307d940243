package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/redact"
	"embedlab/shared/wire"
)

// spLabel stands in for the service principal's token wherever a trace
// would show it: not even its ends reach the browser.
const spLabel = "<service principal token: kept on the server>"

// maxBody bounds what is read of an upstream answer: a token or tokeninfo
// answer is a few KB, and an error page must not fill the memory.
const maxBody = 1 << 20

// Backoff between attempts: doubling from backoffBase (100, 200, 400 ms for
// DefaultAttempts), plus up to backoffJitter so that exchanges failing
// together do not retry together. A Retry-After replaces both.
const (
	backoffBase   = 100 * time.Millisecond
	backoffJitter = 100 * time.Millisecond
)

// spTokenReuseMargin: the service principal token is reused until this long
// before it expires, so that it cannot expire between tokeninfo and the
// exchange (two calls, with their retries).
const spTokenReuseMargin = time.Minute

// answer is one upstream HTTP answer.
type answer struct {
	status     int
	body       []byte
	retryAfter int
}

// attempt makes one call; it returns the answer or a network error.
type attempt func(ctx context.Context) (answer, error)

// call runs an attempt with retries for 429, 5xx and network errors, each
// bounded by the timeout, waiting with jittered backoff or Retry-After.
func (b *Broker) call(ctx context.Context, step int, do attempt) (answer, time.Duration, error) {
	start := b.cfg.Now()
	defer func() {
		b.calls[step-1].Add(1)
		b.nanos[step-1].Add(int64(b.cfg.Now().Sub(start)))
	}()
	var a answer
	var err error
	for i := 0; i < b.cfg.Attempts; i++ {
		actx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		a, err = do(actx)
		cancel()
		retryable := err != nil || a.status == http.StatusTooManyRequests || a.status >= 500
		if !retryable || i == b.cfg.Attempts-1 {
			break
		}
		wait := backoffBase<<i + time.Duration(rand.Int64N(int64(backoffJitter)))
		if a.retryAfter > 0 {
			wait = time.Duration(a.retryAfter) * time.Second
		}
		// The progress hook of issue #14: the page shows this wait.
		reportWait(ctx, Wait{Step: stepNames[step], Reason: waitReason(a, err), Attempt: i + 2, Attempts: b.cfg.Attempts, For: min(wait, b.cfg.MaxBackoff)})
		if err := b.cfg.Sleep(ctx, min(wait, b.cfg.MaxBackoff)); err != nil {
			return a, b.cfg.Now().Sub(start), err
		}
	}
	return a, b.cfg.Now().Sub(start), err
}

func (b *Broker) send(ctx context.Context, req *http.Request) (answer, error) {
	res, err := b.http.Do(req.WithContext(ctx))
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, err
	}
	ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	return answer{status: res.StatusCode, body: body, retryAfter: ra}, nil
}

// unreachable describes a network failure without the URL's query.
func unreachable(step int, err error) *Error {
	msg := "the workspace could not be reached"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "the workspace did not answer in time"
	}
	return &Error{Kind: KindUnreachable, Step: step, Message: msg,
		Fix: "check INSTANCE_URL and the network (in emulator mode: is the emulator running?)", Err: errors.New(redact.Text(err.Error()))}
}

// recorder keeps the last answer oauth2 got, for the trace and the retries.
type recorder struct {
	next http.RoundTripper
	last answer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	r.last = answer{status: res.StatusCode, body: body, retryAfter: ra}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// clientCredentials is a client_credentials call with golang.org/x/oauth2
// (steps 1 and 3), the service principal's id and secret in the
// Authorization header, params beside grant_type in the form, and the
// retries of call. It answers what the workspace answered (the recorder's
// copy, for the trace), and the token oauth2 read from it, nil when there
// was none.
func (b *Broker) clientCredentials(ctx context.Context, step int, params url.Values) (answer, *oauth2.Token, time.Duration, error) {
	base := b.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &recorder{next: base}
	cc := clientcredentials.Config{ClientID: b.cfg.ClientID, ClientSecret: b.cfg.ClientSecret,
		TokenURL: b.cfg.InstanceURL + wire.PathToken, EndpointParams: params, AuthStyle: oauth2.AuthStyleInHeader}
	var tok *oauth2.Token
	a, dur, err := b.call(ctx, step, func(ctx context.Context) (answer, error) {
		rec.last = answer{}
		t, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: rec}))
		tok = t
		if err != nil && rec.last.status == 0 {
			return answer{}, err // no answer at all: the network
		}
		return rec.last, nil
	})
	return a, tok, dur, err
}

// expiresAt is when a token answer got at sent expires, on this host's
// clock: expires_in is relative, while exp is on the workspace's clock,
// which may be minutes off this one, and a cache must not keep a token the
// workspace already refuses as expired. It counts from before the request,
// to err on the early side; exp (0 when unknown) serves only when the
// answer has no expires_in.
func expiresAt(sent time.Time, tr wire.TokenResponse, exp int64) time.Time {
	if tr.ExpiresIn <= 0 && exp != 0 {
		return time.Unix(exp, 0)
	}
	return sent.Add(time.Duration(tr.ExpiresIn) * time.Second)
}

// servicePrincipalToken is step 1: the all-apis token, reused until
// spTokenReuseMargin before it expires. Concurrent callers share one call;
// renew asks for a new token even when the one held has time left.
func (b *Broker) servicePrincipalToken(ctx context.Context, renew bool) (string, api.TraceStep, error) {
	b.spMu.Lock()
	held := b.sp
	b.spMu.Unlock()
	if !renew && held.token != "" && b.cfg.Now().Before(held.exp.Add(-spTokenReuseMargin)) {
		return held.token, api.TraceStep{Name: step1Name, Reused: true, Purpose: step1Purpose,
			Note: "Reused the service principal token held in memory (expires " + held.exp.UTC().Format(time.RFC3339) + "): no call."}, nil
	}
	type fetched struct {
		token string
		step  api.TraceStep
	}
	v, err, _ := b.spFlight.Do("", func() (any, error) {
		tok, step, err := b.fetchServicePrincipalToken(ctx, held.gen)
		return fetched{tok, step}, err
	})
	f := v.(fetched)
	return f.token, f.step, err
}

const (
	step1Name    = "1. Service principal token"
	step1Purpose = "client_credentials with the service principal's secret and scope=all-apis: a broad token that stays on the server."
)

// fetchServicePrincipalToken makes step 1's call, and keeps the token
// unless Forget was called since gen was read.
func (b *Broker) fetchServicePrincipalToken(ctx context.Context, gen uint64) (string, api.TraceStep, error) {
	step := api.TraceStep{Name: step1Name, Method: http.MethodPost, URL: b.cfg.InstanceURL + wire.PathToken, Purpose: step1Purpose}
	sent := b.cfg.Now()
	a, tok, dur, err := b.clientCredentials(ctx, 1, url.Values{"scope": {wire.ScopeAllAPIs}})
	step.Status, step.DurationMS = a.status, ms(dur)
	step.Request = "Authorization: Basic ****\n\ngrant_type=client_credentials&scope=all-apis"
	step.Response = redactSPBody(a.body)
	if err != nil {
		return "", step, unreachable(1, err)
	}
	held := spToken{gen: gen}
	if a.status == http.StatusOK && tok != nil {
		var tr wire.TokenResponse
		_ = json.Unmarshal(a.body, &tr) // oauth2 read it
		held.token, held.exp = tok.AccessToken, expiresAt(sent, tr, 0)
	}
	b.spMu.Lock()
	if b.sp.gen == gen {
		b.sp = held // a refusal drops the token held
	}
	b.spMu.Unlock()
	if held.token == "" {
		return "", step, stepError(1, a)
	}
	return held.token, step, nil
}

// redactSPBody replaces the service principal token in step 1's answer.
func redactSPBody(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return redact.Text(string(body))
	}
	if _, ok := m["access_token"]; ok {
		m["access_token"] = spLabel
	}
	out, _ := json.MarshalIndent(m, "", "  ")
	return string(out)
}

// tokenInfo is step 2: what the viewer's token must contain.
func (b *Broker) tokenInfo(ctx context.Context, sp string, req Request) (*wire.TokenInfo, api.TraceStep, error) {
	u := b.cfg.InstanceURL + wire.TokenInfoPath(url.PathEscape(req.DashboardID)) + "?" + url.Values{
		wire.ParamExternalViewerID: {req.ExternalViewerID}, wire.ParamExternalValue: {req.ExternalValue}}.Encode()
	step := api.TraceStep{Name: "2. Token info", Method: http.MethodGet, URL: u,
		Purpose: "Asks the workspace what a token for this viewer of this dashboard must contain: authorization_details, custom_claim and scopes.",
		Request: "Authorization: Bearer " + spLabel}
	a, dur, err := b.call(ctx, 2, func(ctx context.Context) (answer, error) {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		r.Header.Set("Authorization", "Bearer "+sp)
		return b.send(ctx, r)
	})
	step.Status, step.DurationMS = a.status, ms(dur)
	step.Response = pretty(a.body)
	if err != nil {
		return nil, step, unreachable(2, err)
	}
	if a.status != http.StatusOK {
		return nil, step, stepError(2, a)
	}
	var info wire.TokenInfo
	if err := json.Unmarshal(a.body, &info); err != nil {
		return nil, step, &Error{Kind: KindUpstream, Step: 2, Status: a.status, Message: "the tokeninfo answer is not what the workspace should send: " + err.Error()}
	}
	return &info, step, nil
}

// scopedToken is step 3: the tokeninfo fields exchangeForm chooses, sent
// back unchanged.
func (b *Broker) scopedToken(ctx context.Context, info *wire.TokenInfo) (*Result, api.TraceStep, error) {
	params := exchangeForm(info)
	step := api.TraceStep{Name: "3. Scoped token", Method: http.MethodPost, URL: b.cfg.InstanceURL + wire.PathToken,
		Purpose: "client_credentials again with tokeninfo's authorization_details, custom_claim and scope: a narrow token for this viewer only, the one the browser receives.",
		Request: "Authorization: Basic ****\n\n" + strings.ReplaceAll(params.Encode(), "&", "\n&")}
	sent := b.cfg.Now()
	a, _, dur, err := b.clientCredentials(ctx, 3, params)
	step.Status, step.DurationMS = a.status, ms(dur)
	if err != nil {
		return nil, step, unreachable(3, err)
	}
	var tr wire.TokenResponse
	if a.status == http.StatusOK {
		if err := json.Unmarshal(a.body, &tr); err != nil || tr.AccessToken == "" {
			a.status = http.StatusBadGateway
		}
	}
	step.Response = redact.Text(pretty(a.body))
	if a.status != http.StatusOK {
		return nil, step, stepError(3, a)
	}
	h, c, err := claims.Decode(tr.AccessToken)
	if err != nil {
		return nil, step, &Error{Kind: KindUpstream, Step: 3, Status: a.status, Message: "the scoped token is not a JWT: " + err.Error()}
	}
	if c.CustomClaim != info.CustomClaim() {
		return nil, step, &Error{Kind: KindUpstream, Step: 3, Status: a.status, Message: "the scoped token carries another viewer's custom_claim"}
	}
	return &Result{Token: tr.AccessToken, IssuedAt: time.Unix(c.IssuedAt, 0), ExpiresAt: expiresAt(sent, tr, c.ExpiresAt), Header: h, Claims: c}, step, nil
}

func pretty(body []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") == nil {
		return buf.String()
	}
	return redact.Text(string(body))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// stepError maps a refusal by the workspace to what is wrong and the fix.
func stepError(step int, a answer) *Error {
	var oe wire.OAuthError
	var ae wire.APIError
	_ = json.Unmarshal(a.body, &oe)
	_ = json.Unmarshal(a.body, &ae)
	said := strings.TrimSpace(oe.Code + " " + oe.Description + ae.ErrorCode + " " + ae.Message)
	said = redact.Text(said)
	e := &Error{Step: step, Status: a.status, Message: "the workspace refused: " + said}
	switch {
	case a.status == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = KindRateLimited, max(1, a.retryAfter)
		e.Message = "the workspace is rate limiting dashboard tokens and kept refusing after retries: " + said
		e.Fix = "wait a few seconds and try again; the workspace allows 20 dashboard loads per second"
	case oe.Code == wire.OAuthInvalidClient || (step != 2 && a.status == http.StatusUnauthorized):
		e.Kind = KindBadSecret
		e.Message = "the workspace refused the service principal's credentials: " + said
		e.Fix = "check SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET; the secret may be revoked or expired"
	case step == 2 && a.status == http.StatusForbidden:
		e.Kind = KindNoCanRun
		e.Message = "the service principal may not run this dashboard: " + said
		e.Fix = "give the service principal CAN RUN on the published dashboard"
	case step == 2 && a.status == http.StatusNotFound:
		e.Kind = KindUnknownDashboard
		e.Message = "the dashboard is unknown or not published: " + said
		e.Fix = "check DASHBOARD_ID and WORKSPACE_ID, and publish the dashboard"
	case step == 2 && a.status == http.StatusBadRequest:
		e.Kind = KindInvalidViewer
		e.Fix = "fix the viewer's external_viewer_id or external_value"
	case a.status >= 500:
		e.Kind = KindUpstream
		e.Message = fmt.Sprintf("the workspace failed (%d) and kept failing after retries: %s", a.status, said)
		e.Fix = "try again shortly; check the workspace's status"
	default:
		e.Kind = KindUpstream
	}
	return e
}
