package emulator_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// start is an emulator of the bundled workspace for the test.
func start(t *testing.T) *emulator.Emulator { return testkit.Emulator(t, emulator.Options{}) }

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d, body is not the expected JSON (%v): %s", r.status, err, r.body)
	}
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	return doWith(t, http.DefaultClient, req)
}

// doWith sends req with c and reads the whole answer.
func doWith(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func get(t *testing.T, u, bearer string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

// postForm sends a form to the token endpoint with HTTP Basic when id is set.
func postForm(t *testing.T, em *emulator.Emulator, id, secret string, form url.Values) response {
	t.Helper()
	return postTo(t, em.URL()+wire.PathToken, id, secret, form)
}

// postTo sends a form to u with HTTP Basic when id is set.
func postTo(t *testing.T, u, id, secret string, form url.Values) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

func sendJSON(t *testing.T, method, u, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// adminJSON sends JSON to a state-changing admin route with the admin key.
func adminJSON(t *testing.T, em *emulator.Emulator, method, u, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+em.AdminKey())
	return do(t, req)
}

// spToken is step 1.
func spToken(t *testing.T, em *emulator.Emulator) string {
	t.Helper()
	r := postForm(t, em, testkit.EmbedderID, testkit.EmbedderSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	var tr wire.TokenResponse
	r.json(t, &tr)
	if r.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("step 1: %d %s", r.status, r.body)
	}
	return tr.AccessToken
}

func tokenInfoURL(em *emulator.Emulator, dash, viewer, value string) string {
	return em.URL() + wire.TokenInfoPath(dash) + "?" + url.Values{
		wire.ParamExternalViewerID: {viewer}, wire.ParamExternalValue: {value}}.Encode()
}

// tokenInfo is step 2.
func tokenInfo(t *testing.T, em *emulator.Emulator, bearer, viewer, value string) *wire.TokenInfo {
	t.Helper()
	r := get(t, tokenInfoURL(em, testkit.DashboardID, viewer, value), bearer)
	if r.status != http.StatusOK {
		t.Fatalf("step 2: %d %s", r.status, r.body)
	}
	var info wire.TokenInfo
	r.json(t, &info)
	return &info
}

// verifyWithJWKS checks a token's signature against the keys the emulator
// publishes, fetched over HTTP as any consumer would.
func verifyWithJWKS(t *testing.T, em *emulator.Emulator, token string) claims.Claims {
	t.Helper()
	var set wire.JWKS
	get(t, em.URL()+wire.PathKeys, "").json(t, &set)
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || k.Kty != "RSA" || k.Kid == "" {
			t.Fatalf("bad JWK %+v", k)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	var mc jwt.MapClaims
	tok, err := jwt.ParseWithClaims(token, &mc, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(em.URL()+"/oidc"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token does not verify against the JWKS: %v", err)
	}
	if tok.Header["typ"] != "at+jwt" {
		t.Fatalf("typ header = %v, want at+jwt", tok.Header["typ"])
	}
	_, c, err := claims.Decode(token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
