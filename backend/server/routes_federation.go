package server

import (
	"net/http"

	"embedlab/backend/apps"
	"embedlab/backend/session"
	"embedlab/shared/api"
)

// FederatedIdentity is one identity provider identity the "Call an app"
// page may use: Federated exchanges its token (token federation), Direct
// sends the token as is, to show the Apps proxy's 401.
type FederatedIdentity struct {
	api.FederatedIdentity
	// Email is the identity provider user's e-mail ("" for a workload):
	// the embedlab user with that e-mail in the users file may use it
	// without a role.
	Email     string
	Federated apps.Source
	Direct    apps.Source
}

// federatedSource picks the identity of a federated or idp-direct call:
// the one named, else the first the user may use. Another's identity needs
// the source's role (api.Sources); one's own does not.
func (s *Server) federatedSource(sess session.Session, req api.AppCallRequest) (apps.Source, error) {
	fs := s.apps.Federation
	if len(fs) == 0 {
		return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: "token federation is not configured here: " + s.apps.FederationProblem, fix: s.apps.FederationFix}
	}
	var id *FederatedIdentity
	for i := range fs {
		if fs[i].ID == req.Identity {
			id = &fs[i]
			break
		}
	}
	if req.Identity == "" {
		if mine := s.identitiesFor(sess); len(mine) > 0 {
			id = &mine[0]
		} else {
			id = &fs[0]
		}
	}
	if id == nil {
		return nil, fail(http.StatusBadRequest, "bad_request", "identity %q: pick one of the identities GET /api/apps lists", clip(req.Identity, 80))
	}
	info, _ := api.LookupSource(req.Source)
	if !sess.HasRole(info.Role) && !s.ownIdentity(sess, *id) {
		msg, fix := api.RoleRefusal(sess.User, info.Role, "calling an app with \""+info.Label+"\" as "+id.ID)
		return nil, &problem{status: http.StatusForbidden, code: api.CodeRoleRequired, message: msg,
			fix: fix + "; or pick your own identity (the e-mail the users file gives " + sess.User + ")"}
	}
	if req.Source == api.SourceIdPDirect {
		return id.Direct, nil
	}
	return id.Federated, nil
}
