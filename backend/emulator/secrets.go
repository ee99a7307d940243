package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
	"time"

	"embedlab/shared/wire"
)

// A service principal may look itself up in SCIM and list its own OAuth
// secrets (never their values), so a client can say when its secret
// expires: the state's secret_expire_time.

// scimID is a service principal's numeric SCIM id, derived from its
// application id so it is stable across restarts.
func scimID(applicationID string) string {
	h := fnv.New64a()
	h.Write([]byte(applicationID))
	return fmt.Sprintf("%d", 1_000_000_000_000_000+h.Sum64()%9_000_000_000_000_000)
}

var scimFilterRE = regexp.MustCompile(`^(?i:applicationId)\s+(?i:eq)\s+"([^"]*)"$`)

// handleSCIMServicePrincipals is GET /api/2.0/preview/scim/v2/ServicePrincipals
// with an optional filter=applicationId eq "<id>". A service principal sees
// itself only.
func (e *Emulator) handleSCIMServicePrincipals(w http.ResponseWriter, r *http.Request) {
	c, ok := e.bearer(w, r)
	if !ok {
		return
	}
	want := ""
	if f := strings.TrimSpace(r.URL.Query().Get("filter")); f != "" {
		m := scimFilterRE.FindStringSubmatch(f)
		if m == nil {
			apiError(w, r, http.StatusBadRequest, wire.ErrInvalidParameterValue, `filter: the emulator understands applicationId eq "<id>" only`)
			return
		}
		want = m[1]
	}
	out := wire.SCIMListResponse{Schemas: []string{wire.SCIMListSchema}, Resources: []wire.SCIMServicePrincipal{}}
	e.mu.RLock()
	for _, sp := range e.state.ServicePrincipals {
		if sp.ApplicationID == c.Subject && (want == "" || want == sp.ApplicationID) {
			out.Resources = append(out.Resources, wire.SCIMServicePrincipal{ID: scimID(sp.ApplicationID),
				ApplicationID: sp.ApplicationID, DisplayName: sp.DisplayName, Active: true})
		}
	}
	e.mu.RUnlock()
	out.TotalResults = len(out.Resources)
	writeJSON(w, http.StatusOK, out)
}

// handleListSecrets is GET /api/2.0/accounts/servicePrincipals/{sp}/credentials/secrets.
func (e *Emulator) handleListSecrets(w http.ResponseWriter, r *http.Request) {
	c, ok := e.bearer(w, r)
	if !ok {
		return
	}
	e.mu.RLock()
	sp, found := e.state.servicePrincipal(c.Subject)
	e.mu.RUnlock()
	if !found || scimID(sp.ApplicationID) != r.PathValue("sp") {
		apiError(w, r, http.StatusForbidden, wire.ErrPermissionDenied,
			"Only a workspace admin or the service principal itself may list its secrets.")
		return
	}
	sum := sha256.Sum256([]byte(sp.Secret))
	s := wire.SecretInfo{ID: hex.EncodeToString(sum[:16]), SecretHash: hex.EncodeToString(sum[16:24]), Status: "ACTIVE",
		ExpireTime: sp.SecretExpireTime}
	if t, err := time.Parse(time.RFC3339, sp.SecretExpireTime); err == nil && !t.After(e.clock.now()) {
		s.Status = "EXPIRED"
	}
	writeJSON(w, http.StatusOK, wire.SecretList{Secrets: []wire.SecretInfo{s}})
}
