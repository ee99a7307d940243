package emulator

import (
	"net/url"
	"regexp"
	"strings"
)

// IdentityProvider is the emulated external identity provider (the stand-in
// for Microsoft Entra ID, Okta or GitHub Actions): who may get its tokens.
// It serves on its own origin; see idp.go.
type IdentityProvider struct {
	// Users sign in with their e-mail address and password (public demo
	// values) and get ID tokens whose sub and email are that address.
	Users []IdPUser `json:"users"`
	// Workloads get tokens with client credentials, e.g. a CI job; the
	// token's sub is the workload's Subject.
	Workloads []IdPWorkload `json:"workloads,omitempty"`
}

// IdPUser is a person known to the identity provider.
type IdPUser struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// IdPWorkload is a program known to the identity provider.
type IdPWorkload struct {
	ClientID    string `json:"client_id"`
	Secret      string `json:"secret"`
	Subject     string `json:"subject"`
	Description string `json:"description,omitempty"`
}

// FederationPolicy says which identity provider tokens the workspace
// exchanges for its own (the wire reference, package wire, "Token
// federation"). Without ServicePrincipal it is account-wide: the token's
// subject names a user. With it, it is workload identity federation for that
// service principal, and the subject must be Subject.
type FederationPolicy struct {
	Name string `json:"name"`
	// Issuer is the identity provider's issuer URL; its discovery document
	// and keys are fetched from there. IssuerEmulatedIdP stands for the
	// emulator's own identity provider, whose URL is known only at start.
	Issuer string `json:"issuer"`
	// Audiences the token's aud must include one of; empty means the
	// workspace's token endpoint URL, what the official SDKs ask for.
	Audiences []string `json:"audiences,omitempty"`
	// ServicePrincipal is the application id of the service principal this
	// policy federates; empty for account-wide federation.
	ServicePrincipal string `json:"service_principal,omitempty"`
	// Subject is the value the subject claim must have (service principal
	// policies only).
	Subject string `json:"subject,omitempty"`
	// SubjectClaim names the claim holding the subject; default "sub".
	SubjectClaim string `json:"subject_claim,omitempty"`
}

// IssuerEmulatedIdP in a policy's issuer means the emulator's own identity
// provider.
const IssuerEmulatedIdP = "emulated-idp"

func (p FederationPolicy) subjectClaim() string {
	if p.SubjectClaim == "" {
		return "sub"
	}
	return p.SubjectClaim
}

func (p FederationPolicy) accountWide() bool { return p.ServicePrincipal == "" }

var claimName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`)

// validateFederation checks the identity provider and the policies.
func (s *State) validateFederation(bad func(format string, a ...any)) {
	if idp := s.IdentityProvider; idp != nil {
		emails := map[string]bool{}
		for i, u := range idp.Users {
			e := strings.ToLower(u.Email)
			switch {
			case !strings.Contains(e, "@"):
				bad("identity_provider.users[%d].email %q: must be an e-mail address", i, u.Email)
			case emails[e]:
				bad("identity_provider.users[%d].email %q: used twice", i, u.Email)
			}
			emails[e] = true
			if len(u.Password) < 8 {
				bad("identity_provider.users[%d].password: must be at least 8 characters", i)
			}
		}
		ids := map[string]bool{}
		for i, w := range idp.Workloads {
			switch {
			case !safeID.MatchString(w.ClientID):
				bad("identity_provider.workloads[%d].client_id %q: must be letters, digits, '.', '_' or '-'", i, w.ClientID)
			case ids[w.ClientID]:
				bad("identity_provider.workloads[%d].client_id %q: used twice", i, w.ClientID)
			}
			ids[w.ClientID] = true
			if len(w.Secret) < 16 {
				bad("identity_provider.workloads[%d].secret: must be at least 16 characters", i)
			}
			if strings.TrimSpace(w.Subject) == "" || len(w.Subject) > 256 {
				bad("identity_provider.workloads[%d].subject: required, at most 256 characters (e.g. repo:org/repo:ref:refs/heads/main)", i)
			}
		}
	}
	names := map[string]bool{}
	for i, p := range s.FederationPolicies {
		switch {
		case !safeID.MatchString(p.Name):
			bad("federation_policies[%d].name %q: must be letters, digits, '.', '_' or '-'", i, p.Name)
		case names[p.Name]:
			bad("federation_policies[%d].name %q: used twice", i, p.Name)
		}
		names[p.Name] = true
		if p.Issuer != IssuerEmulatedIdP {
			if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				bad("federation_policies[%d].issuer %q: must be the identity provider's issuer URL (https://...), or %q for the emulator's own", i, p.Issuer, IssuerEmulatedIdP)
			}
		}
		if p.Issuer == IssuerEmulatedIdP && s.IdentityProvider == nil {
			bad("federation_policies[%d].issuer %q: the state has no identity_provider", i, p.Issuer)
		}
		for j, a := range p.Audiences {
			if strings.TrimSpace(a) == "" {
				bad("federation_policies[%d].audiences[%d]: must not be empty", i, j)
			}
		}
		if p.SubjectClaim != "" && !claimName.MatchString(p.SubjectClaim) {
			bad("federation_policies[%d].subject_claim %q: must be a claim name such as sub or email", i, p.SubjectClaim)
		}
		if p.ServicePrincipal == "" {
			if p.Subject != "" {
				bad("federation_policies[%d].subject: only a service principal's policy names a subject; an account-wide policy maps the subject to a user", i)
			}
			continue
		}
		if _, ok := s.servicePrincipal(p.ServicePrincipal); !ok {
			bad("federation_policies[%d].service_principal %q: no service principal has that application_id", i, p.ServicePrincipal)
		}
		if p.Subject == "" {
			bad("federation_policies[%d].subject: required for a service principal's policy (the workload's subject, e.g. repo:org/repo:ref:refs/heads/main)", i)
		}
	}
}

// idpUser finds an identity provider user by e-mail.
func (s *State) idpUser(email string) (IdPUser, bool) {
	if s.IdentityProvider == nil {
		return IdPUser{}, false
	}
	for _, u := range s.IdentityProvider.Users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return IdPUser{}, false
}

// idpWorkload finds an identity provider workload by client id.
func (s *State) idpWorkload(clientID string) (IdPWorkload, bool) {
	if s.IdentityProvider == nil {
		return IdPWorkload{}, false
	}
	for _, w := range s.IdentityProvider.Workloads {
		if w.ClientID == clientID {
			return w, true
		}
	}
	return IdPWorkload{}, false
}
