package server_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/lab"
	"embedlab/shared/api"
)

// TestSharedStateNeedsTheTrainerRole: the fault lab's toggles and reset, the
// workshop's workspace reset and the trainer view need the role trainer
// (issue 16, F1: nobody revoked the secret and ada's next token failed).
// Refusals name the role; the session says which roles the user has.
func TestSharedStateNeedsTheTrainerRole(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{lab: true})
	nobody, ada, admin := f.client(), f.client(), f.client()
	nobody.login(t, "nobody", "nobody-demo-pass")
	ada.login(t, "ada", "ada-demo-pass")
	admin.login(t, "admin", "admin-demo-pass")

	var s api.Session
	nobody.do(t, http.MethodGet, api.PathSession, nil, false).json(t, &s)
	if s.Roles == nil || len(s.Roles) != 0 {
		t.Errorf("nobody's roles %v, want []", s.Roles)
	}
	admin.do(t, http.MethodGet, api.PathSession, nil, false).json(t, &s)
	if !s.HasRole(api.RoleTrainer) {
		t.Errorf("admin's roles %v", s.Roles)
	}

	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, api.PathLabToggle, api.LabSet{ID: lab.RevokeSecret, On: true}},
		{http.MethodPost, api.PathLabReset, struct{}{}},
		{http.MethodPost, api.PathWorkshopReset, api.WorkshopReset{Workspace: true}},
		{http.MethodGet, api.PathTrainer, nil},
		{http.MethodGet, api.PathTrainerRequests, nil},
	} {
		for _, who := range []*client{nobody, ada} {
			e := who.do(t, c.method, c.path, c.body, true).apiError(t, http.StatusForbidden, api.CodeRoleRequired)
			if !strings.Contains(e.Message, "needs the role trainer") || !strings.Contains(e.Fix, "admin") {
				t.Errorf("%s %s: %+v", c.method, c.path, e)
			}
		}
	}
	// The workspace is untouched: ada still gets her token.
	if r := ada.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false); r.status != http.StatusOK {
		t.Fatalf("ada's token after refused toggles: %d %s", r.status, r.body)
	}
	// Anyone may read the toggles, and reset their own progress.
	if r := nobody.do(t, http.MethodGet, api.PathLab, nil, false); r.status != http.StatusOK {
		t.Errorf("reading the toggles: %d", r.status)
	}
	var w api.Workshop
	nobody.do(t, http.MethodPost, api.PathWorkshopReset, api.WorkshopReset{Progress: true}, true).json(t, &w)
	if w.Trainer {
		t.Error("the workshop says nobody is a trainer")
	}

	// The trainer may.
	if r := admin.do(t, http.MethodPost, api.PathLabToggle, api.LabSet{ID: lab.RevokeSecret, On: true}, true); r.status != http.StatusOK {
		t.Fatalf("admin's toggle: %d %s", r.status, r.body)
	}
	ada.do(t, http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil, false).apiError(t, http.StatusBadGateway, api.CodeBadSecret)
	for _, p := range []string{api.PathLabReset} {
		if r := admin.do(t, http.MethodPost, p, struct{}{}, true); r.status != http.StatusOK {
			t.Fatalf("admin's reset: %d %s", r.status, r.body)
		}
	}
	if r := admin.do(t, http.MethodGet, api.PathTrainer, nil, false); r.status != http.StatusOK {
		t.Fatalf("trainer view: %d %s", r.status, r.body)
	}
}
