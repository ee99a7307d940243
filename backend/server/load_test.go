package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"embedlab/backend/viewers"
	"embedlab/shared/api"
	"embedlab/shared/wire"
)

// manyViewers is a viewers file with n viewers, all for the user admin.
func manyViewers(t *testing.T, n int) *viewers.Set {
	t.Helper()
	type entry struct {
		ID            string   `json:"id"`
		DisplayName   string   `json:"display_name"`
		ExternalValue string   `json:"external_value"`
		Users         []string `json:"users"`
	}
	var es []entry
	for i := range n {
		es = append(es, entry{ID: fmt.Sprintf("load-%04d", i), DisplayName: fmt.Sprintf("Load viewer %d", i),
			ExternalValue: fmt.Sprintf("V%04d", i), Users: []string{"admin"}})
	}
	b, _ := json.Marshal(map[string]any{"viewers": es})
	s, err := viewers.Parse("load.json", b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// 1,000 distinct viewers ask for tokens at once through the upstream rate
// limit. The client behaves as the frontend does (waits as Retry-After says
// on 429), so users see no error; every viewer gets a token carrying its
// own value, and no token is returned twice.
func TestThousandViewersAtOnce(t *testing.T) {
	const n = 1000
	f := newFixtureWith(t, fixtureOptions{viewers: manyViewers(t, n), rate: 100})
	// The workspace's own limit matches the broker's pace.
	if err := f.em.SetRateLimit(120); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	c.http.Transport = &http.Transport{MaxConnsPerHost: 128, MaxIdleConnsPerHost: 128}
	if r := c.login(t, "admin", "admin-demo-pass"); r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}

	type result struct {
		viewer, token string
		err           string
		retries       int
	}
	results := make([]result, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("load-%04d", i)
			res := result{viewer: id}
			defer func() { results[i] = res }()
			for attempt := 0; ; attempt++ {
				req, _ := http.NewRequest(http.MethodGet, f.url+api.PathEmbedToken+"?viewer="+id, nil)
				hr, err := c.http.Do(req)
				if err != nil {
					res.err = err.Error()
					return
				}
				var tok api.EmbedToken
				var e api.Error
				dec := json.NewDecoder(hr.Body)
				if hr.StatusCode == 200 {
					err = dec.Decode(&tok)
				} else {
					err = dec.Decode(&e)
				}
				hr.Body.Close()
				switch {
				case hr.StatusCode == http.StatusTooManyRequests && attempt < 10:
					res.retries++
					time.Sleep(time.Duration(max(e.RetryAfter, 1)) * time.Second)
					continue
				case hr.StatusCode != 200 || err != nil:
					res.err = fmt.Sprintf("%d %s %v", hr.StatusCode, e.Message, err)
					return
				}
				pc, perr := wire.ParseCustomClaim(tok.Claims.CustomClaim)
				if perr != nil || pc.ExternalViewerID != id || pc.ExternalValue != fmt.Sprintf("V%04d", i) || tok.Viewer.ID != id {
					res.err = fmt.Sprintf("wrong token: viewer %s got custom_claim %q", id, tok.Claims.CustomClaim)
					return
				}
				res.token = tok.Token
				return
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	seen := map[string]string{}
	errs, retries := 0, 0
	for _, r := range results {
		retries += r.retries
		if r.err != "" {
			errs++
			if errs <= 5 {
				t.Errorf("%s: %s", r.viewer, r.err)
			}
			continue
		}
		if other, dup := seen[r.token]; dup {
			t.Errorf("the same token went to %s and %s", other, r.viewer)
		}
		seen[r.token] = r.viewer
	}
	// Every line of the workspace's request log (it holds 20,000 since the
	// room of #18; at 2,000 it used to cut this count off at 2,000, so the
	// bound below could not fail): the calls that did work, and the 429s
	// the broker waited out.
	calls, throttled := 0, 0
	statuses := map[string]int{}
	for _, e := range f.em.Requests(0) {
		if e.Path == wire.PathToken || strings.HasSuffix(e.Path, "/tokeninfo") {
			statuses[fmt.Sprintf("%s %d", e.Path[strings.LastIndexByte(e.Path, '/')+1:], e.Status)]++
			if e.Status == http.StatusTooManyRequests {
				throttled++
			} else {
				calls++
			}
		}
	}
	t.Logf("%d viewers in %s: %d errors, %d client retries, %d upstream calls and %d answered 429", n, elapsed.Round(time.Millisecond), errs, retries, calls, throttled)
	if errs > 0 {
		t.Fatalf("%d of %d viewers saw an error", errs, n)
	}
	// Two calls per viewer (tokeninfo, exchange) plus the service
	// principal's token; the 429s are the workspace's limit met in bursts
	// (more on a loaded machine), each waited out once per call at most.
	if calls > 2*n+1 {
		t.Errorf("%d upstream calls that did work for %d viewers (want at most %d); by answer: %v", calls, n, 2*n+1, statuses)
	}
	if throttled > n {
		t.Errorf("%d calls answered 429 for %d viewers: the broker does not pace itself", throttled, n)
	}
}
