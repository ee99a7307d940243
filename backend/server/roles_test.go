package server_test

import (
	"net/http"
	"strings"
	"testing"

	"embedlab/backend/lab"
	"embedlab/backend/testkit"
	"embedlab/shared/api"
)

// TestSharedStateNeedsTheTrainerRole: the fault lab's toggles and reset, the
// workshop's workspace reset and the trainer view need the role trainer
// (issue 16, F1: nobody revoked the secret and ada's next token failed).
// Refusals name the role; the session says which roles the user has.
func TestSharedStateNeedsTheTrainerRole(t *testing.T) {
	f := serve(t, nil)
	nobody, ada, admin := f.signedIn(t, testkit.Nobody), f.signedIn(t, testkit.Ada), f.signedIn(t, testkit.Admin)

	var s api.Session
	nobody.Do(http.MethodGet, api.PathSession, nil).JSON(t, &s)
	if s.Roles == nil || len(s.Roles) != 0 {
		t.Errorf("nobody's roles %v, want []", s.Roles)
	}
	admin.Do(http.MethodGet, api.PathSession, nil).JSON(t, &s)
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
		for _, who := range []*testkit.Client{nobody, ada} {
			e := who.Do(c.method, c.path, c.body).APIError(t, http.StatusForbidden, api.CodeRoleRequired)
			if !strings.Contains(e.Message, "needs the role trainer") || !strings.Contains(e.Fix, "admin") {
				t.Errorf("%s %s: %+v", c.method, c.path, e)
			}
		}
	}
	// The workspace is untouched: ada still gets her token.
	if r := ada.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil); r.Status != http.StatusOK {
		t.Fatalf("ada's token after refused toggles: %d %s", r.Status, r.Body)
	}
	// Anyone may read the toggles, and reset their own progress.
	if r := nobody.Do(http.MethodGet, api.PathLab, nil); r.Status != http.StatusOK {
		t.Errorf("reading the toggles: %d", r.Status)
	}
	var w api.Workshop
	nobody.Do(http.MethodPost, api.PathWorkshopReset, api.WorkshopReset{Progress: true}).JSON(t, &w)
	if w.Trainer {
		t.Error("the workshop says nobody is a trainer")
	}

	// The trainer may.
	if r := admin.Do(http.MethodPost, api.PathLabToggle, api.LabSet{ID: lab.RevokeSecret, On: true}); r.Status != http.StatusOK {
		t.Fatalf("admin's toggle: %d %s", r.Status, r.Body)
	}
	ada.Do(http.MethodGet, api.PathEmbedToken+"?viewer=viewer-emea", nil).APIError(t, http.StatusBadGateway, api.CodeBadSecret)
	for _, p := range []string{api.PathLabReset} {
		if r := admin.Do(http.MethodPost, p, struct{}{}); r.Status != http.StatusOK {
			t.Fatalf("admin's reset: %d %s", r.Status, r.Body)
		}
	}
	if r := admin.Do(http.MethodGet, api.PathTrainer, nil); r.Status != http.StatusOK {
		t.Fatalf("trainer view: %d %s", r.Status, r.Body)
	}
}
