package broker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"embedlab/backend/broker"
	"embedlab/shared/wire"
)

// Step 3 sends what the official SDKs send: exactly the three fields of
// their tokeninfo answer type, even when the workspace answers with more.
func TestScopedTokenSendsTheThreeSDKFields(t *testing.T) {
	em := startEmulator(t)
	target, _ := url.Parse(em.URL())
	var mu sync.Mutex
	var step3 url.Values
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if !strings.HasSuffix(r.Request.URL.Path, "/tokeninfo") || r.StatusCode != http.StatusOK {
			return nil
		}
		// A workspace adding a top-level field the SDKs do not model.
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		m["future_flag"] = "on"
		b, _ = json.Marshal(m)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathToken {
			b, _ := io.ReadAll(r.Body)
			f, _ := url.ParseQuery(string(b))
			if f.Has(wire.FieldCustomClaim) {
				mu.Lock()
				step3 = f
				mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	b, err := broker.New(broker.Config{InstanceURL: srv.URL, ClientID: spID, ClientSecret: spSecret, Rate: 1000,
		MaxBackoff: 200 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Token(context.Background(), viewer("viewer-emea", "EMEA")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	keys := make([]string, 0, len(step3))
	for k := range step3 {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "authorization_details,custom_claim,grant_type,scope" {
		t.Fatalf("step 3 sent %v, want exactly grant_type and the SDKs' three fields", keys)
	}
	var details []wire.AuthorizationDetail
	if err := json.Unmarshal([]byte(step3.Get(wire.FieldAuthorizationDetails)), &details); err != nil ||
		len(details) != 3 || details[2].ResourceLegacyACLPath != "/dashboards/"+dashID {
		t.Fatalf("authorization_details = %s", step3.Get(wire.FieldAuthorizationDetails))
	}
}
