package emulator_test

// Hostile tokens (issue 8, item 4): forged, re-signed and borrowed tokens
// are refused by the query API the dashboard page calls and by tokeninfo,
// and a viewer's token only ever shows that viewer's rows. Expired tokens
// are refused in TestQueryAPIRefusesExpiredToken and TestExpiredTokenIsRefused,
// a token for another dashboard by the query API in
// TestQueryAPIRefusesWrongTokens, SQL in external_value in
// TestInjectionValuesMatchNoRow (and FuzzRowsStayWithTheirViewer).

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
	"embedlab/shared/wire"
)

var b64 = base64.RawURLEncoding

// jwtParts splits a token into its decoded header and claims and its
// signature as sent.
func jwtParts(t *testing.T, tok string) (header, claims map[string]any, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := b64.DecodeString(p[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("part %d of the token: %v", i, err)
		}
	}
	return header, claims, p[2]
}

func encodePart(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hs256 signs header.claims with HMAC-SHA256 under key.
func hs256(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	h := clone(header)
	h["alg"] = "HS256"
	signing := encodePart(t, h) + "." + encodePart(t, claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	tok := signing + "." + b64.EncodeToString(mac.Sum(nil))
	// The forgery is well made: a verifier that trusted HS256 with this key
	// would accept it, so a refusal is the workspace's doing.
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatalf("the HS256 forgery is malformed: %v", err)
	}
	return tok
}

// rs256 signs header.claims with a key of the attacker's.
func rs256(t *testing.T, header, claims map[string]any, key *rsa.PrivateKey) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	tok.Header["alg"] = "RS256"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publicKeyForms are the encodings of the workspace's RSA public key that an
// HS256 key-confusion attack would try as the HMAC secret.
func publicKeyForms(t *testing.T, em *emulator.Emulator) map[string][]byte {
	t.Helper()
	r := get(t, em.URL()+wire.PathKeys, "")
	var set wire.JWKS
	r.json(t, &set)
	k := set.Keys[0]
	n, _ := b64.DecodeString(k.N)
	e, _ := b64.DecodeString(k.E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwk, _ := json.Marshal(k)
	return map[string][]byte{
		"PKIX PEM":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"PKIX DER":  pkix,
		"PKCS1 PEM": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"PKCS1 DER": pkcs1,
		"JWK":       jwk,
		"JWKS":      r.body,
		"modulus":   n,
		"n":         []byte(k.N),
	}
}

// refused checks that a token gets 401 from an endpoint and nothing of the
// dashboard or the tokeninfo answer.
func refused(t *testing.T, name, u, tok string, status int, want string) {
	t.Helper()
	r := get(t, u, tok)
	var ae wire.APIError
	_ = json.Unmarshal(r.body, &ae)
	if r.status != status || ae.ErrorCode == "" || !strings.Contains(ae.Message, want) ||
		strings.Contains(string(r.body), "dash-widget") || strings.Contains(string(r.body), "custom_claim") {
		t.Errorf("%s: %d %.300s; want %d with %q", name, r.status, r.body, status, want)
	}
}

// Forged viewer tokens at the query API, and forged all-apis tokens at
// tokeninfo: a payload changed under a valid signature, alg none, HS256
// with the workspace's public key (every usual encoding of it) as the HMAC
// secret, a signature by another key under the workspace's kid, a key
// embedded in the header (jwk) or linked from it (jku, x5u), and a token of
// another workspace. Each is refused with 401 before anything is read.
func TestForgedTokensAreRefused(t *testing.T) {
	em := start(t)
	emea := scopedToken(t, em, "viewer-emea", "EMEA")
	broad := spToken(t, em)
	render := renderURL(em, testkit.DashboardID, "")
	info := tokenInfoURL(em, testkit.DashboardID, "viewer-emea", "EMEA")
	// The genuine tokens work, so each refusal is about the forgery.
	if r := get(t, render, emea); r.status != 200 {
		t.Fatalf("genuine viewer token: %d %s", r.status, r.body)
	}
	if r := get(t, info, broad); r.status != 200 {
		t.Fatalf("genuine service principal token: %d %s", r.status, r.body)
	}

	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var fetched atomic.Int64 // the key URLs the forgeries point at
	keyServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(keyServer.Close)
	attackerJWK := map[string]any{"kty": "RSA", "n": b64.EncodeToString(attacker.N.Bytes()), "e": "AQAB"}

	for _, target := range []struct {
		name, url, tok string
		// escalate turns the genuine token's claims into what the forger wants.
		escalate func(map[string]any)
	}{
		{"query API", render, emea, func(c map[string]any) {
			// viewer-emea's token, but with APAC's value, for longer.
			c["custom_claim"] = wire.CustomClaim("APAC", "viewer-emea", testkit.DashboardID)
			c["exp"] = c["exp"].(float64) + 86400
		}},
		{"tokeninfo", info, emea, func(c map[string]any) {
			// A viewer's token raised to the service principal's scope.
			c["scope"] = wire.ScopeAllAPIs
		}},
	} {
		t.Run(target.name, func(t *testing.T) {
			h, c, sig := jwtParts(t, target.tok)
			forged := clone(c)
			target.escalate(forged)
			signing := encodePart(t, h) + "." + encodePart(t, forged)

			cases := map[string]string{
				"payload changed, signature kept": signing + "." + sig,
				"signature removed":               signing + ".",
				"signature of another token":      signing + "." + strings.Split(broad, ".")[2],
			}
			for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
				hn := clone(h)
				hn["alg"] = alg
				cases["alg "+alg] = encodePart(t, hn) + "." + encodePart(t, forged) + "."
				cases["alg "+alg+" with the old signature"] = encodePart(t, hn) + "." + encodePart(t, forged) + "." + sig
			}
			for form, key := range publicKeyForms(t, em) {
				cases["HS256 keyed with the public key as "+form] = hs256(t, h, forged, key)
			}
			cases["RS256 by another key under the workspace's kid"] = rs256(t, h, forged, attacker)
			hj := clone(h)
			hj["jwk"] = attackerJWK
			cases["RS256 by another key given in the jwk header"] = rs256(t, hj, forged, attacker)
			hk := clone(h)
			hk["jku"], hk["x5u"], hk["kid"] = keyServer.URL+"/keys", keyServer.URL+"/cert", "attacker"
			cases["RS256 by another key at a jku / x5u URL"] = rs256(t, hk, forged, attacker)
			hm := clone(h)
			hm["kid"] = "../../../dev/null"
			cases["kid naming a file"] = hs256(t, hm, forged, []byte{})

			for name, tok := range cases {
				refused(t, name, target.url, tok, http.StatusUnauthorized, "Token")
			}
		})
	}
	if fetched.Load() != 0 {
		t.Errorf("the workspace fetched a key URL a token named %d times", fetched.Load())
	}

	// Tokens of another workspace (its own keys and issuer): refused by both.
	other := start(t)
	refused(t, "another workspace's viewer token", render, scopedToken(t, other, "viewer-emea", "EMEA"), http.StatusUnauthorized, "")
	refused(t, "another workspace's service principal token", info, spToken(t, other), http.StatusUnauthorized, "")
}

// Genuine tokens used where they do not belong: a viewer's token at
// tokeninfo (it lacks all-apis) and the service principal's at the query
// API (it lacks the embedding scopes and names no viewer).
func TestBorrowedTokensAreRefused(t *testing.T) {
	em := start(t)
	emea := scopedToken(t, em, "viewer-emea", "EMEA")
	refused(t, "viewer token at tokeninfo", tokenInfoURL(em, testkit.DashboardID, "viewer-apac", "APAC"), emea,
		http.StatusForbidden, "does not have required scopes: all-apis")
	refused(t, "service principal token at the query API", renderURL(em, testkit.DashboardID, ""), spToken(t, em),
		http.StatusForbidden, "does not have required scopes")
	// A viewer's token for this dashboard is no use at another published one.
	if err := em.Update(func(s *emulator.State) { s.Dashboards[1].Published = true }); err != nil {
		t.Fatal(err)
	}
	refused(t, "viewer token at another dashboard", renderURL(em, testkit.DraftDashboardID, ""), emea,
		http.StatusForbidden, "was issued for dashboard "+testkit.DashboardID)
}

// A token for viewer A only ever shows A's rows: whatever the request says
// about viewers and values (query parameters, headers, another page), the
// query API reads the viewer and value from the signed custom_claim alone.
func TestTokenShowsOnlyItsOwnViewersRows(t *testing.T) {
	em := start(t)
	emea := scopedToken(t, em, "viewer-emea", "EMEA")
	apacTotal := counter(t, string(render(t, em, scopedToken(t, em, "viewer-apac", "APAC"), "").HTML))
	emeaTotal := counter(t, string(render(t, em, emea, "").HTML))
	if emeaTotal == apacTotal {
		t.Fatalf("EMEA and APAC totals are both %s: the test cannot tell them apart", emeaTotal)
	}
	hostile := url.Values{
		wire.ParamExternalValue: {"APAC"}, wire.ParamExternalViewerID: {"viewer-apac"}, "value": {"APAC"},
		"viewer": {"viewer-apac"}, "o": {testkit.WorkspaceID}, "custom_claim": {wire.CustomClaim("APAC", "viewer-apac", testkit.DashboardID)},
	}
	for _, c := range []struct {
		name   string
		query  string
		header map[string]string
	}{
		{"plain", "", nil},
		{"query parameters naming APAC", hostile.Encode(), nil},
		{"repeated parameters", "external_value=APAC&external_value=EMEA&external_viewer_id=viewer-apac", nil},
		{"headers naming APAC", "", map[string]string{"X-External-Value": "APAC", "X-External-Viewer-Id": "viewer-apac",
			"X-Databricks-External-Value": "APAC", "X-Forwarded-User": "viewer-apac"}},
		{"a second bearer token", "", map[string]string{"X-Authorization": "Bearer " + scopedToken(t, em, "viewer-apac", "APAC")}},
	} {
		u := renderURL(em, testkit.DashboardID, "") + "?" + c.query
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+emea)
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		r := do(t, req)
		var rr emulator.RenderResponse
		r.json(t, &rr)
		html := string(rr.HTML)
		if r.status != 200 || rr.ExternalViewerID != "viewer-emea" || counter(t, html) != emeaTotal ||
			strings.Contains(html, "Japan") || strings.Contains(html, "Australia") {
			t.Errorf("%s: %d viewer %q total %s (EMEA %s, APAC %s)", c.name, r.status, rr.ExternalViewerID, counter(t, html), emeaTotal, apacTotal)
		}
	}
	// Every page, too: the second page's table lists EMEA's countries only.
	second := render(t, em, emea, "").Pages[1].Name
	html := string(render(t, em, emea, second).HTML)
	if strings.Contains(html, "Japan") || strings.Contains(html, "United States") || !strings.Contains(html, "Germany") {
		t.Errorf("page %s for viewer-emea shows other regions' countries or not its own", second)
	}
}
