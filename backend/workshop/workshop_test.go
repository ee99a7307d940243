package workshop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"embedlab/shared/api"
)

func TestBundledExercisesLoad(t *testing.T) {
	xs, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) < 6 || xs[0].ID != "sp-token" {
		t.Fatalf("loaded %d exercises, first %q", len(xs), xs[0].ID)
	}
}

func TestBrokenExerciseFilesNameTheFileAndField(t *testing.T) {
	good := `{"id":"x","title":"T","goal":"G","commands":[{"shell":"curl {{.Instance}}"}],
	  "checkpoint":{"description":"d","steps":[{"expect":"e","log":"request","where":{"path":"/x"},"hint":"h"}]}}`
	cases := []struct{ name, body, want string }{
		{"syntax.json", `{"id": "x",`, "syntax.json: not valid JSON"},
		{"unknown.json", strings.Replace(good, `"goal"`, `"gaol"`, 1), `unknown.json: unknown field "gaol"`},
		{"type.json", strings.Replace(good, `"title":"T"`, `"title":3`, 1), "type.json: field title: must be a string"},
		{"id.json", strings.Replace(good, `"id":"x"`, `"id":"Bad Id"`, 1), `id.json: field id: "Bad Id" must be`},
		{"log.json", strings.Replace(good, `"log":"request"`, `"log":"requests"`, 1), `log.json: field checkpoint.steps[0].log: "requests" must be`},
		{"field.json", strings.Replace(good, `"path":"/x"`, `"stauts":"200"`, 1), `field.json: field checkpoint.steps[0].where.stauts: the request log has no field "stauts"`},
		{"op.json", strings.Replace(good, `"path":"/x"`, `"path":{"prefx":"/x"}`, 1), "op.json: a condition is a string or an object"},
		{"two.json", strings.Replace(good, `"path":"/x"`, `"path":{"prefix":"/x","contains":"y"}`, 1), "two.json: field checkpoint.steps[0].where.path: has 2 operators"},
		{"regex.json", strings.Replace(good, `"path":"/x"`, `"path":{"regex":"("}`, 1), "regex.json: field checkpoint.steps[0].where.path.regex"},
		{"tmpl.json", strings.Replace(good, `{{.Instance}}`, `{{.Instanse}}`, 1), "tmpl.json: field commands[0].shell: template"},
		{"same.json", strings.Replace(good, `"path":"/x"`, `"principal":{"same_as":"caller"}`, 1), `same.json: field checkpoint.steps[0].where.principal.same_as: "caller" is not captured`},
		{"hint.json", strings.Replace(good, `"hint":"h"`, `"hint":""`, 1), "hint.json: field checkpoint.steps[0].hint: is required"},
	}
	for _, c := range cases {
		_, err := Parse(c.name, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if _, err := Parse("good.json", []byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
}

func TestTrainersOwnFolder(t *testing.T) {
	dir := t.TempDir()
	own := `{"id":"my-own","title":"Mine","goal":"G","commands":[{"shell":"true"}],
	  "checkpoint":{"description":"d","steps":[{"expect":"e","log":"audit","where":{"action":"app_call"},"hint":"h"}]}}`
	os.WriteFile(filepath.Join(dir, "mine.json"), []byte(own), 0o600)
	xs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range xs {
		found = found || x.ID == "my-own"
	}
	if !found {
		t.Fatal("the trainer's exercise is missing")
	}
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"id":"b"}`), 0o600)
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "broken.json")+": field title: is required") {
		t.Fatalf("err = %v", err)
	}
}

// fakeLog is a Source over entries the test adds.
type fakeLog struct{ entries []Entry }

func (f *fakeLog) add(log string, fields map[string]string) {
	f.entries = append(f.entries, Entry{Log: log, Seq: int64(len(f.entries) + 1), Time: time.Now(), Fields: fields})
}

func (f *fakeLog) Entries(log string, after int64) []Entry {
	var out []Entry
	for _, e := range f.entries {
		if e.Log == log && e.Seq > after {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeLog) Cursors() (int64, int64) {
	n := int64(len(f.entries))
	return n, n
}

func newService(t *testing.T, path string, src Source) *Service {
	t.Helper()
	xs, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(Options{Exercises: xs, Store: st, Source: src,
		Vars: Vars{Instance: "http://127.0.0.1:8000", ClientID: "sp-1", DashboardID: "d1", WorkspaceID: "1", StateFile: "w.json"}})
}

func TestCheckpointSameCallerAndProgressSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "workshop.db")
	log := &fakeLog{}
	s := newService(t, path, log)
	log.add(LogAudit, map[string]string{"action": "app_call", "app": "sales-api", "status": "403", "principal": "old"})
	if _, err := s.Start(ctx, "ada", "app-403"); err != nil {
		t.Fatal(err)
	}
	// A 403 for one caller, a 200 for another: stays red with the hint of the second step.
	log.add(LogAudit, map[string]string{"action": "app_call", "app": "sales-api", "status": "403", "principal": "sp-no-access"})
	log.add(LogAudit, map[string]string{"action": "app_call", "app": "sales-api", "status": "200", "principal": "sp-1"})
	x, err := s.Check(ctx, "ada", "app-403")
	if err != nil {
		t.Fatal(err)
	}
	if x.Status.State != api.ExerciseFailed || !strings.Contains(x.Status.Hint, "same caller") {
		t.Fatalf("status = %+v", x.Status)
	}
	log.add(LogAudit, map[string]string{"action": "app_call", "app": "sales-api", "status": "200", "principal": "sp-no-access"})
	if x, _ = s.Check(ctx, "ada", "app-403"); x.Status.State != api.ExercisePassed {
		t.Fatalf("status = %+v", x.Status)
	}
	// grace has not started it; ada's progress is her own.
	if x, _ = s.Check(ctx, "grace", "app-403"); x.Status.State != api.ExerciseNotStarted {
		t.Fatalf("grace: %+v", x.Status)
	}
	// A new service on the same file: still passed.
	s2 := newService(t, path, &fakeLog{})
	ov, err := s2.Overview(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ov.Exercises {
		if e.ID == "app-403" && e.Status.State != api.ExercisePassed {
			t.Fatalf("after restart: %+v", e.Status)
		}
	}
	tr, err := s2.Trainer(ctx)
	if err != nil || len(tr.Participants) != 1 || tr.Participants[0].States["app-403"] != api.ExercisePassed {
		t.Fatalf("trainer = %+v %v", tr, err)
	}
}

func TestNearMissGivesItsHint(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{}
	s := newService(t, filepath.Join(t.TempDir(), "w.db"), log)
	s.Start(ctx, "ada", "tokeninfo-new-viewer")
	log.add(LogRequest, map[string]string{"method": "GET", "path": "/api/2.0/lakeview/dashboards/d1/published/tokeninfo", "status": "401",
		"query.external_viewer_id": "partner-ada"})
	x, _ := s.Check(ctx, "ada", "tokeninfo-new-viewer")
	if x.Status.State != api.ExerciseFailed || !strings.Contains(x.Status.Hint, "answered 401") {
		t.Fatalf("status = %+v", x.Status)
	}
	log.add(LogRequest, map[string]string{"method": "GET", "path": "/api/2.0/lakeview/dashboards/d1/published/tokeninfo", "status": "200",
		"query.external_viewer_id": "partner-ada"})
	if x, _ = s.Check(ctx, "ada", "tokeninfo-new-viewer"); x.Status.State != api.ExercisePassed || len(x.Status.Evidence) != 1 {
		t.Fatalf("status = %+v", x.Status)
	}
}
