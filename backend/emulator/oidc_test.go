package emulator_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

func TestDiscoveryDocuments(t *testing.T) {
	em := start(t)
	var md wire.AuthServerMetadata
	r := get(t, em.URL()+wire.PathOIDCDiscovery, "")
	r.json(t, &md)
	if md.Issuer != em.URL()+"/oidc" || md.TokenEndpoint != em.URL()+wire.PathToken ||
		md.JWKSURI != em.URL()+wire.PathKeys || md.AuthorizationEndpoint != em.URL()+wire.PathAuthorize {
		t.Fatalf("discovery has wrong endpoints: %+v", md)
	}
	if strings.Join(md.CodeChallengeMethodsSupported, ",") != "S256" {
		t.Errorf("PKCE methods = %v, want only S256", md.CodeChallengeMethodsSupported)
	}
	var dc wire.DatabricksConfig
	get(t, em.URL()+wire.PathDatabricksConfig, "").json(t, &dc)
	if dc.OIDCEndpoint != em.URL()+"/oidc" || dc.WorkspaceID != testkit.WorkspaceID || dc.HostType != "workspace" {
		t.Fatalf("databricks-config = %+v", dc)
	}
	var set wire.JWKS
	get(t, em.URL()+wire.PathKeys, "").json(t, &set)
	if len(set.Keys) != 1 || set.Keys[0].Alg != "RS256" || set.Keys[0].Kid == "" {
		t.Fatalf("JWKS = %+v", set)
	}
}

// The oauth2 client library, as the broker will use it, in both styles of
// client authentication.
func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	em := start(t)
	for name, style := range map[string]oauth2.AuthStyle{"basic": oauth2.AuthStyleInHeader, "form": oauth2.AuthStyleInParams} {
		t.Run(name, func(t *testing.T) {
			cc := clientcredentials.Config{ClientID: testkit.EmbedderID, ClientSecret: testkit.EmbedderSecret, TokenURL: em.URL() + wire.PathToken,
				Scopes: []string{"all-apis"}, AuthStyle: style}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Extra("scope") != "all-apis" {
				t.Fatalf("token type %q scope %v", tok.TokenType, tok.Extra("scope"))
			}
			c := verifyWithJWKS(t, em, tok.AccessToken)
			if c.Subject != testkit.EmbedderID || c.ClientID != testkit.EmbedderID || c.Scope != "all-apis" || c.ExpiresAt-c.IssuedAt != 3600 || c.ID == "" {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: testkit.EmbedderID, ClientSecret: "dosewrongwrongwrongwrong", TokenURL: em.URL() + wire.PathToken,
			Scopes: []string{"all-apis"}, AuthStyle: oauth2.AuthStyleInHeader}
		_, err := cc.Token(context.Background())
		var re *oauth2.RetrieveError
		if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "dosewrong") {
			t.Fatal("the error echoes the secret")
		}
	})
}

func asRetrieveError(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

func TestTokenEndpointErrors(t *testing.T) {
	em := start(t)
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range cc {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	raw := func(contentType, body string, basic bool) response {
		req, _ := http.NewRequest(http.MethodPost, em.URL()+wire.PathToken, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if basic {
			req.SetBasicAuth(testkit.EmbedderID, testkit.EmbedderSecret)
		}
		return do(t, req)
	}
	cases := []struct {
		name       string
		r          func() response
		status     int
		code, desc string
	}{
		{"wrong secret", func() response { return postForm(t, em, testkit.EmbedderID, "dose-not-the-secret-at-all", cc) }, 401, "invalid_client", "Client authentication failed"},
		{"unknown client", func() response { return postForm(t, em, "nobody", testkit.EmbedderSecret, cc) }, 401, "invalid_client", "Client authentication failed"},
		{"no credentials", func() response { return postForm(t, em, "", "", cc) }, 401, "invalid_client", "client_id and client_secret"},
		{"two methods", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("client_secret", testkit.EmbedderSecret))
		}, 400, "invalid_request", "authenticated twice"},
		{"ids differ", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("client_id", testkit.NoAccessID))
		}, 400, "invalid_request", "differs"},
		{"no grant type", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"scope": {"all-apis"}})
		}, 400, "invalid_request", "grant_type is required"},
		{"unknown grant", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("grant_type", "password"))
		}, 400, "unsupported_grant_type", `"password"`},
		{"no scope", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}})
		}, 400, "invalid_scope", "scope is required"},
		{"unknown scope", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("scope", "root"))
		}, 400, "invalid_scope", `"root"`},
		{"embed scope alone", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("scope", "dashboards.lakeview-embedded:read"))
		}, 400, "invalid_scope", "tokeninfo"},
		{"JSON body", func() response { return raw("application/json", `{"grant_type":"client_credentials"}`, true) }, 400, "invalid_request", "Content-Type"},
		{"no content type", func() response { return raw("", cc.Encode(), true) }, 400, "invalid_request", "Content-Type"},
		{"huge body", func() response {
			return raw("application/x-www-form-urlencoded", cc.Encode()+"&pad="+strings.Repeat("a", 200<<10), true)
		}, 413, "invalid_request", "larger than"},
		{"repeated parameter", func() response { return raw("application/x-www-form-urlencoded", cc.Encode()+"&scope=sql", true) }, 400, "invalid_request", "repeated"},
		{"broken authorization_details", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("authorization_details", `[{"type":`, "custom_claim", "x"))
		}, 400, "invalid_request", "authorization_details must be the JSON array"},
		{"custom_claim without details", func() response {
			return postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, with("custom_claim", "urn:x"))
		}, 400, "invalid_request", "authorization_details is required"},
		{"bad percent-encoding", func() response { return raw("application/x-www-form-urlencoded", "grant_type=%zz", true) }, 400, "invalid_request", "not a valid form"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			var oe wire.OAuthError
			r.json(t, &oe)
			if r.status != tc.status || oe.Code != tc.code || !strings.Contains(oe.Description, tc.desc) {
				t.Fatalf("got %d %+v, want %d %s containing %q", r.status, oe, tc.status, tc.code, tc.desc)
			}
			if strings.Contains(string(r.body), testkit.EmbedderSecret) {
				t.Fatal("the answer echoes the secret")
			}
		})
	}
	t.Run("basic challenge", func(t *testing.T) {
		r := postForm(t, em, testkit.EmbedderID, "dose-not-the-secret-at-all", cc)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Fatal("401 to a Basic client has no WWW-Authenticate")
		}
	})
	t.Run("form credentials", func(t *testing.T) {
		r := postForm(t, em, "", "", with("client_id", testkit.EmbedderID, "client_secret", testkit.EmbedderSecret))
		if r.status != http.StatusOK {
			t.Fatalf("client_secret_post refused: %d %s", r.status, r.body)
		}
	})
}
