package apps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// Source gets bearer tokens for calling an app.
type Source interface {
	// Kind is the source's id in the shared table (api.Sources: api.SourceM2M, ...).
	Kind() string
	// Describe says in one line where the tokens come from.
	Describe() string
	// Token returns a token valid for at least a little while, renewing
	// it before expiry where the source can.
	Token(ctx context.Context) (*oauth2.Token, error)
}

// SourceError is a token source that cannot give a token, with the fix.
type SourceError struct {
	Kind, Message, Fix string
	// Input is true when the caller's own input is at fault (a scope that
	// does not exist, a profile file or profile that is not there): a 400
	// for the caller to fix, not a failure of embedlab or the workspace.
	Input bool
	Err   error
}

func (e *SourceError) Error() string {
	s := e.Kind + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SourceError) Unwrap() error { return e.Err }

// renewBefore is how long before expiry a cached token is renewed, so a
// call never leaves with a token about to expire.
const renewBefore = 5 * time.Minute

// clientCredentials is M2M and app to app: a service principal's id and
// secret, exchanged at the workspace's token endpoint for an all-apis token.
type clientCredentials struct {
	kind, host, clientID string
	src                  oauth2.TokenSource
}

// NewM2M is a service principal's client credentials
// (DATABRICKS_HOST, DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET).
func NewM2M(ctx context.Context, host, clientID, clientSecret string) (Source, error) {
	return newClientCredentials(ctx, api.SourceM2M, host, clientID, clientSecret)
}

// NewAppToApp is the calling app's own service principal, from the
// variables the Apps runtime sets.
func NewAppToApp(ctx context.Context, getenv func(string) string) (Source, error) {
	if getenv("DATABRICKS_APP_NAME") == "" {
		return nil, &SourceError{Kind: api.SourceAppToApp, Message: "not running inside a Databricks App (DATABRICKS_APP_NAME is not set)",
			Fix: "deploy the calling program as an app, or use m2m with a service principal's credentials"}
	}
	return newClientCredentials(ctx, api.SourceAppToApp, getenv("DATABRICKS_HOST"), getenv("DATABRICKS_CLIENT_ID"), getenv("DATABRICKS_CLIENT_SECRET"))
}

func newClientCredentials(ctx context.Context, kind, host, id, secret string) (Source, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, &SourceError{Kind: kind, Message: "DATABRICKS_HOST " + err.Error(), Fix: "set DATABRICKS_HOST to the workspace URL"}
	}
	if id == "" || secret == "" {
		return nil, &SourceError{Kind: kind, Message: "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET must both be set",
			Fix: "create an OAuth secret for the service principal and set both variables"}
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: h + wire.PathToken, Scopes: []string{"all-apis"}}
	return &clientCredentials{kind: kind, host: h, clientID: id,
		src: oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(ctx), renewBefore)}, nil
}

func (c *clientCredentials) Kind() string { return c.kind }
func (c *clientCredentials) Describe() string {
	return fmt.Sprintf("service principal %s at %s (client credentials, scope all-apis)", c.clientID, c.host)
}

func (c *clientCredentials) Token(ctx context.Context) (*oauth2.Token, error) {
	t, err := c.src.Token()
	if err != nil {
		return nil, tokenError(c.kind, err)
	}
	return t, nil
}

// tokenError turns a token endpoint failure into a SourceError with a fix.
func tokenError(kind string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		fix := "check the workspace URL and the credentials"
		switch re.ErrorCode {
		case "invalid_client":
			fix = "the client id or secret is wrong, revoked or expired: create a new OAuth secret"
		case "invalid_grant":
			fix = "sign in again: the code or refresh token was used, expired or revoked"
		case "invalid_scope":
			fix = "request only scopes the workspace knows"
		}
		// A scope the workspace does not know is the caller's pick.
		return &SourceError{Kind: kind, Message: "the workspace refused the token request (" + msg + ")", Fix: fix, Input: re.ErrorCode == "invalid_scope"}
	}
	return &SourceError{Kind: kind, Message: "the token request failed", Fix: "check that the workspace URL is right and reachable", Err: err}
}

// NormalizeHost checks a workspace URL and returns scheme://host[:port].
func NormalizeHost(host string) (string, error) {
	if host == "" {
		return "", errors.New("is not set")
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%q is not a workspace URL (https://<workspace host>)", host)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("%q: plain http only for a local emulator", host)
	}
	return u.Scheme + "://" + u.Host, nil
}

// isLoopback reports whether plain http may carry tokens to h: this
// machine, or (a classroom, EMBEDLAB_ROOM_HOST) a private network's
// address or local name, where the trainer's emulator serves the room.
// A real workspace is never there: Databricks serves https only.
func isLoopback(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	for _, local := range []string{".local", ".lan", ".home.arpa", ".internal"} {
		if strings.HasSuffix(h, local) {
			return true
		}
	}
	return false
}
