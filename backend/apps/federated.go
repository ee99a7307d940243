package apps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/shared/api"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Token federation (the wire reference, package wire, "Token federation"): an
// identity provider's JWT (Microsoft Entra ID, Okta, GitHub Actions, or the
// emulator's IdP) cannot call an app; it is exchanged at the workspace's
// token endpoint for a Databricks token first, exactly as the official SDKs'
// env-oidc and file-oidc auth types do.

// SubjectTokenSource gives an identity provider's token to exchange.
type SubjectTokenSource interface {
	// SubjectToken returns a JWT of the identity provider, for audience
	// where the source can ask for one.
	SubjectToken(ctx context.Context, audience string) (string, error)
	// Describe says in one line where the token comes from.
	Describe() string
}

// EnvSubjectToken reads the token from an environment variable each time,
// as the SDKs' env-oidc does (wire.EnvOIDCToken, DATABRICKS_OIDC_TOKEN).
func EnvSubjectToken(getenv func(string) string, name string) SubjectTokenSource {
	return envSubject{getenv, name}
}

type envSubject struct {
	getenv func(string) string
	name   string
}

func (s envSubject) Describe() string { return "$" + s.name }
func (s envSubject) SubjectToken(context.Context, string) (string, error) {
	v := strings.TrimSpace(s.getenv(s.name))
	if v == "" {
		return "", &SourceError{Kind: api.SourceFederated, Message: s.name + " is not set",
			Fix: "set " + s.name + " to the identity provider's token (a JWT), e.g. the ID token your CI job or Entra ID gives you"}
	}
	return v, nil
}

// FileSubjectToken reads the token from a file each time, as the SDKs'
// file-oidc does (DATABRICKS_OIDC_TOKEN_FILEPATH); a workload's token file
// is often rewritten before it expires.
func FileSubjectToken(path string) SubjectTokenSource { return fileSubject(path) }

type fileSubject string

func (s fileSubject) Describe() string { return "the file " + string(s) }
func (s fileSubject) SubjectToken(context.Context, string) (string, error) {
	b, err := os.ReadFile(string(s))
	if err != nil {
		return "", &SourceError{Kind: api.SourceFederated, Message: "cannot read the identity provider's token", Err: err,
			Fix: "point " + wire.EnvOIDCTokenFile + " (or -oidc-token-file) at a file holding the JWT"}
	}
	if len(b) > claims.MaxTokenBytes {
		return "", &SourceError{Kind: api.SourceFederated, Message: string(s) + " is larger than a token can be", Fix: "the file must hold the JWT alone"}
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", &SourceError{Kind: api.SourceFederated, Message: string(s) + " is empty", Fix: "write the identity provider's JWT into it"}
	}
	return v, nil
}

// IdPLogin is how to get a token from an identity provider's token
// endpoint: a user's name and password (grant_type=password), or a
// workload's client credentials. The emulator's IdP takes both.
type IdPLogin struct {
	Username, Password string // a user
	ClientID, Secret   string // a workload
}

// IdPSubjectToken fetches tokens from the identity provider at issuer: its
// token endpoint comes from its discovery document
// ({issuer}/.well-known/openid-configuration), and each token is asked for
// the audience the exchange needs.
func IdPSubjectToken(issuer string, login IdPLogin) (SubjectTokenSource, error) {
	u, err := url.Parse(strings.TrimRight(issuer, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Scheme == "http" && !isLoopback(u.Hostname())) {
		return nil, &SourceError{Kind: api.SourceFederated, Message: fmt.Sprintf("%q is not an identity provider's issuer URL", issuer), Fix: "use https://<issuer> (http only on loopback)"}
	}
	if (login.Username == "") == (login.ClientID == "") {
		return nil, &SourceError{Input: true, Kind: api.SourceFederated, Message: "name either a user (and password) or a workload (client id and secret)", Fix: "pick one identity of the identity provider"}
	}
	return &idpSubject{issuer: u.String(), login: login, client: &http.Client{Timeout: 15 * time.Second}}, nil
}

type idpSubject struct {
	issuer string
	login  IdPLogin
	client *http.Client

	mu       sync.Mutex
	endpoint string
}

func (s *idpSubject) Describe() string {
	who := "user " + s.login.Username
	if s.login.ClientID != "" {
		who = "workload " + s.login.ClientID
	}
	return who + " at the identity provider " + s.issuer
}

func (s *idpSubject) SubjectToken(ctx context.Context, audience string) (string, error) {
	endpoint, err := s.tokenEndpoint(ctx)
	if err != nil {
		return "", err
	}
	form := url.Values{"audience": {audience}}
	if s.login.Username != "" {
		form.Set("grant_type", "password")
		form.Set("username", s.login.Username)
		form.Set("password", s.login.Password)
		form.Set("scope", "openid email profile")
	} else {
		form.Set("grant_type", wire.GrantClientCredentials)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.login.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(s.login.ClientID), url.QueryEscape(s.login.Secret))
	}
	var tr wire.TokenResponse
	if err := s.do(req, &tr); err != nil {
		return "", err
	}
	tok := tr.IDToken
	if tok == "" {
		tok = tr.AccessToken
	}
	if tok == "" {
		return "", &SourceError{Kind: api.SourceFederated, Message: "the identity provider answered without a token", Fix: "check the identity provider's token endpoint " + endpoint}
	}
	return tok, nil
}

// tokenEndpoint reads the issuer's discovery document once.
func (s *idpSubject) tokenEndpoint(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endpoint != "" {
		return s.endpoint, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.issuer+wire.PathOpenIDConfiguration, nil)
	if err != nil {
		return "", err
	}
	var doc wire.OpenIDConfiguration
	if err := s.do(req, &doc); err != nil {
		return "", err
	}
	if doc.TokenEndpoint == "" {
		return "", &SourceError{Kind: api.SourceFederated, Message: s.issuer + wire.PathOpenIDConfiguration + " names no token_endpoint", Fix: "get the token from the identity provider another way (a file or " + wire.EnvOIDCToken + ")"}
	}
	s.endpoint = doc.TokenEndpoint
	return s.endpoint, nil
}

func (s *idpSubject) do(req *http.Request, v any) error {
	res, err := s.client.Do(req)
	if err != nil {
		return &SourceError{Kind: api.SourceFederated, Message: "the identity provider could not be reached", Err: err, Fix: "check the identity provider's URL " + s.issuer}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 256<<10))
	if res.StatusCode != http.StatusOK {
		var oe wire.OAuthError
		_ = json.Unmarshal(body, &oe)
		msg := fmt.Sprintf("the identity provider refused (%d)", res.StatusCode)
		if oe.Code != "" {
			msg = "the identity provider refused: " + oe.Error()
		}
		return &SourceError{Kind: api.SourceFederated, Message: msg, Fix: "check the identity's credentials at the identity provider"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &SourceError{Kind: api.SourceFederated, Message: "the identity provider's answer is not the expected JSON", Err: err, Fix: "check the identity provider's URL " + s.issuer}
	}
	return nil
}

// FederatedConfig configures the exchange.
type FederatedConfig struct {
	// Host is the workspace URL.
	Host string
	// ClientID is the service principal's application id for workload
	// identity federation; empty for account-wide federation, where the
	// token's subject names a workspace user.
	ClientID string
	// Audience is asked of the identity provider; empty means the
	// workspace's token endpoint URL, as the SDKs do.
	Audience string
	// Subject gives the identity provider's token.
	Subject SubjectTokenSource
}

// federated exchanges the identity provider's token, and renews the
// Databricks token (with a fresh subject token) before it expires.
type federated struct {
	cfg      FederatedConfig
	tokenURL string
	src      oauth2.TokenSource
}

// NewFederated is token federation: the subject token exchanged at the
// workspace's /oidc/v1/token for a Databricks token with scope all-apis.
func NewFederated(ctx context.Context, cfg FederatedConfig) (Source, error) {
	h, err := NormalizeHost(cfg.Host)
	if err != nil {
		return nil, &SourceError{Kind: api.SourceFederated, Message: "workspace URL " + err.Error(), Fix: "set DATABRICKS_HOST to the workspace URL"}
	}
	if cfg.Subject == nil {
		return nil, &SourceError{Kind: api.SourceFederated, Message: "no identity provider token",
			Fix: "set " + wire.EnvOIDCToken + " or " + wire.EnvOIDCTokenFile + ", or fetch one from an identity provider"}
	}
	cfg.Host = h
	f := &federated{cfg: cfg, tokenURL: h + wire.PathToken}
	if f.cfg.Audience == "" {
		f.cfg.Audience = f.tokenURL
	}
	f.src = oauth2.ReuseTokenSourceWithExpiry(nil, exchanger{ctx, f}, renewBefore)
	return f, nil
}

func (f *federated) Kind() string { return api.SourceFederated }
func (f *federated) Describe() string {
	how := "account-wide federation"
	if f.cfg.ClientID != "" {
		how = "workload identity federation for service principal " + f.cfg.ClientID
	}
	return fmt.Sprintf("an identity provider's token (%s) exchanged at %s (token federation, %s, scope all-apis)", f.cfg.Subject.Describe(), f.tokenURL, how)
}

func (f *federated) Token(ctx context.Context) (*oauth2.Token, error) {
	return f.src.Token()
}

type exchanger struct {
	ctx context.Context
	f   *federated
}

// Token performs one exchange, with the request the SDKs send:
// golang.org/x/oauth2's client credentials with the client id in the form
// and the exchange's fields as endpoint parameters.
func (x exchanger) Token() (*oauth2.Token, error) {
	f := x.f
	subject, err := f.cfg.Subject.SubjectToken(x.ctx, f.cfg.Audience)
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID: f.cfg.ClientID, AuthStyle: oauth2.AuthStyleInParams, TokenURL: f.tokenURL, Scopes: []string{wire.ScopeAllAPIs},
		EndpointParams: url.Values{
			wire.FieldSubjectTokenType: {wire.TokenTypeJWT},
			wire.FieldSubjectToken:     {subject},
			"grant_type":               {wire.GrantTokenExchange},
		},
	}
	t, err := cc.Token(x.ctx)
	if err != nil {
		return nil, exchangeError(err)
	}
	return t, nil
}

// exchangeError words the workspace's refusal of an exchange with its fix.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return &SourceError{Kind: api.SourceFederated, Message: "the token exchange failed", Err: err, Fix: "check that the workspace URL is right and reachable"}
	}
	msg := re.ErrorCode
	if re.ErrorDescription != "" {
		msg += ": " + re.ErrorDescription
	}
	fix := "check the federation policy against the token: its issuer, audience and subject"
	desc := strings.ToLower(re.ErrorDescription)
	switch {
	case re.ErrorCode == wire.OAuthInvalidGrant && strings.Contains(desc, "user not found"):
		// The token is fine; the person is not a user of the workspace.
		fix = "the token's subject is not a user of this workspace: add the user (with that e-mail) to the workspace, or exchange for a service principal with client_id (workload identity federation)"
	case re.ErrorCode == wire.OAuthInvalidGrant && strings.Contains(desc, "wrong subject"):
		fix = "the federation policy names another subject: get the token for the identity the policy expects (its subject, or subject_claim), or change the policy"
	case re.ErrorCode == wire.OAuthInvalidGrant && strings.Contains(desc, "wrong audience"):
		fix = "ask the identity provider for a token whose audience the policy accepts (by default the workspace's token endpoint URL)"
	case re.ErrorCode == wire.OAuthInvalidGrant && strings.Contains(desc, "untrusted issuer"):
		fix = "get the token from an identity provider a federation policy trusts, or add a policy for this issuer"
	case re.ErrorCode == wire.OAuthInvalidGrant && strings.Contains(desc, "expired"):
		fix = "the identity provider's token has expired: get a fresh one and exchange it at once"
	case re.ErrorCode == wire.OAuthInvalidGrant:
		fix = "the workspace's federation policy does not accept this token: get it from an issuer a policy trusts, for the audience the policy expects (by default the workspace's token endpoint URL), with the subject it names, before it expires"
	case re.ErrorCode == wire.OAuthInvalidClient:
		fix = "client_id must be a service principal's application id (workload identity federation), or be left out (account-wide federation)"
	case re.ErrorCode == wire.OAuthInvalidRequest || re.ErrorCode == wire.OAuthInvalidScope:
		fix = "send grant_type=" + wire.GrantTokenExchange + ", subject_token=<the JWT>, subject_token_type=" + wire.TokenTypeJWT + " and scope=all-apis"
	case re.ErrorCode == wire.OAuthTemporarilyUnavail:
		fix = "the workspace could not fetch the identity provider's keys: its discovery document and jwks_uri must be reachable; retry"
	}
	return &SourceError{Kind: api.SourceFederated, Message: "the workspace refused the token exchange (" + msg + ")", Fix: fix}
}

// idpDirect sends the identity provider's token as is.
type idpDirect struct {
	subject  SubjectTokenSource
	audience string

	mu  sync.Mutex
	tok *oauth2.Token
}

// NewIdPDirect sends the identity provider's own token, for audience,
// without exchanging it: the Apps proxy refuses it with 401, and the
// diagnosis explains the exchange.
func NewIdPDirect(subject SubjectTokenSource, audience string) Source {
	return &idpDirect{subject: subject, audience: audience}
}

func (s *idpDirect) Kind() string { return api.SourceIdPDirect }
func (s *idpDirect) Describe() string {
	return "an identity provider's token (" + s.subject.Describe() + ") sent as is, without the exchange: Databricks Apps refuse it"
}

func (s *idpDirect) Token(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && time.Until(s.tok.Expiry) > renewBefore {
		return s.tok, nil
	}
	raw, err := s.subject.SubjectToken(ctx, s.audience)
	if err != nil {
		return nil, err
	}
	t := &oauth2.Token{AccessToken: raw, TokenType: "Bearer"}
	if _, c, err := claims.Decode(raw); err == nil && c.ExpiresAt != 0 {
		t.Expiry = time.Unix(c.ExpiresAt, 0)
	}
	s.tok = t
	return t, nil
}

// isIdPToken tells an identity provider's JWT from a workspace's, whose
// issuer is {workspace URL}/oidc, when the answer names no reason (a real
// workspace may send none).
func isIdPToken(cl *claims.Claims) bool {
	return cl != nil && cl.Issuer != "" && !strings.HasSuffix(strings.TrimRight(cl.Issuer, "/"), "/oidc")
}

// idpTokenDiagnosis is the cause and fix of an identity provider's token
// sent to an app without the exchange.
func idpTokenDiagnosis(cl *claims.Claims, issuer string) (cause, fix string) {
	if issuer == "" && cl != nil {
		issuer = cl.Issuer
	}
	cause = fmt.Sprintf("The token was issued by the identity provider %s, not by the workspace: Databricks Apps accept only Databricks OAuth tokens, never an identity provider's token (Entra ID, Okta, GitHub Actions) directly.", issuer)
	fix = "Exchange it at /oidc/v1/token (token federation) first: grant_type=" + wire.GrantTokenExchange +
		" with the JWT as subject_token, subject_token_type=" + wire.TokenTypeJWT +
		" and scope=all-apis (add client_id=<service principal> for workload identity federation), then send the token that comes back. " +
		"The SDKs do it with auth type env-oidc (" + wire.EnvOIDCToken + "); in embedlab, use the source federated."
	return cause, fix
}
