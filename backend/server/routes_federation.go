package server

import (
	"net/http"

	"embedlab/backend/apps"
	"embedlab/shared/api"
)

// FederatedIdentity is one identity provider identity the "Call an app"
// page may use: Federated exchanges its token (token federation), Direct
// sends the token as is, to show the Apps proxy's 401.
type FederatedIdentity struct {
	api.FederatedIdentity
	Federated apps.Source
	Direct    apps.Source
}

// federationSources lists the two federation sources and the identities
// they may use.
func (s *Server) federationSources(out *api.AppsOverview) []api.TokenSource {
	a := s.apps
	fed := api.TokenSource{ID: api.SourceFederated, Label: "Token federation: an identity provider's token, exchanged", Available: len(a.Federation) > 0,
		Description: "The identity provider's JWT exchanged at the workspace's /oidc/v1/token (RFC 8693 token exchange) for a Databricks token, then sent to the app."}
	direct := api.TokenSource{ID: api.SourceIdPDirect, Label: "The identity provider's token, not exchanged", Available: len(a.Federation) > 0,
		Description: "The same JWT sent to the app as is, to see the 401 an app answers: identity provider tokens must be exchanged first."}
	if len(a.Federation) == 0 {
		fed.Problem, fed.Fix = a.FederationProblem, a.FederationFix
		if fed.Problem == "" {
			fed.Problem = "not configured"
		}
		direct.Problem, direct.Fix = fed.Problem, fed.Fix
	}
	for _, id := range a.Federation {
		out.Identities = append(out.Identities, id.FederatedIdentity)
	}
	return []api.TokenSource{fed, direct}
}

// federatedSource picks the identity of a federated or idp-direct call.
func (s *Server) federatedSource(req api.AppCallRequest) (apps.Source, error) {
	fs := s.apps.Federation
	if len(fs) == 0 {
		return nil, &problem{status: http.StatusConflict, code: "source_unavailable", message: "token federation is not configured here: " + s.apps.FederationProblem, fix: s.apps.FederationFix}
	}
	id := fs[0]
	if req.Identity != "" {
		found := false
		for _, f := range fs {
			if f.ID == req.Identity {
				id, found = f, true
				break
			}
		}
		if !found {
			return nil, fail(http.StatusBadRequest, "bad_request", "identity %q: pick one of the identities GET /api/apps lists", clip(req.Identity, 80))
		}
	}
	if req.Source == api.SourceIdPDirect {
		return id.Direct, nil
	}
	return id.Federated, nil
}
