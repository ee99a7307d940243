package emulator

import (
	"fmt"
	"slices"
)

// Workshop participants each get identities of their own in the workspace
// (a service principal with its secret, a workspace user), with the grants
// of the workspace's demo identities, so that every log line says whose
// call it was and one participant's calls never count for another's
// checkpoint. The owners map survives Restore (the fault lab's reset):
// the workshop adds the identities again after one.

// Participant is one participant's workspace identities.
type Participant struct {
	// Name is the participant (their embedlab login name): the owner
	// written on their log lines.
	Name string
	// ClientID and Secret are their service principal's credentials.
	ClientID, Secret string
	// UserID, UserName (an e-mail address) and Password are their
	// workspace user, for the authorization-code (U2M) exercises.
	UserID, UserName, Password string
}

// AddParticipant adds p's identities (again: it is idempotent), with the
// grants likeSP has (CAN RUN, CAN READ, SELECT, CAN USE) for the service
// principal and those likeUser (a user_name) has for the user.
func (e *Emulator) AddParticipant(p Participant, likeSP, likeUser string) error {
	if p.Name == "" {
		return fmt.Errorf("a participant needs a name")
	}
	e.partMu.Lock()
	e.participants[p.Name] = participantGrant{p, likeSP, likeUser}
	e.partMu.Unlock()
	err := e.Update(func(s *State) { p.addTo(s, likeSP, likeUser) })
	if err != nil {
		return err
	}
	for _, id := range []string{p.ClientID, p.UserID, p.UserName} {
		if id != "" {
			e.owners.Store(id, p.Name)
		}
	}
	return nil
}

// participantGrant is a participant and whose grants they mirror.
type participantGrant struct {
	p               Participant
	likeSP, likeUse string
}

// applyParticipants adds every participant to st (Restore). Called with
// e.mu held, so it takes only partMu.
func (e *Emulator) applyParticipants(st *State) {
	e.partMu.Lock()
	defer e.partMu.Unlock()
	for _, g := range e.participants {
		g.p.addTo(st, g.likeSP, g.likeUse)
	}
}

// addTo adds p's identities and grants to s.
func (p Participant) addTo(s *State, likeSP, likeUser string) {
	addTo := func(list []string, like, who string) []string {
		if slices.Contains(list, like) && !slices.Contains(list, who) {
			return append(list, who)
		}
		return list
	}
	{
		if _, ok := s.servicePrincipal(p.ClientID); !ok {
			s.ServicePrincipals = append(s.ServicePrincipals, ServicePrincipal{ApplicationID: p.ClientID,
				DisplayName: "participant " + p.Name, Secret: p.Secret})
		}
		if p.UserName != "" && !slices.ContainsFunc(s.Users, func(u User) bool { return u.ID == p.UserID || u.UserName == p.UserName }) {
			s.Users = append(s.Users, User{ID: p.UserID, UserName: p.UserName, DisplayName: p.Name + " (participant)", Password: p.Password})
		}
		for i := range s.Dashboards {
			d := &s.Dashboards[i]
			d.CanRun = addTo(d.CanRun, likeSP, p.ClientID)
			d.CanRead = addTo(d.CanRead, likeSP, p.ClientID)
			d.SelectGrants = addTo(d.SelectGrants, likeSP, p.ClientID)
		}
		for i := range s.Apps {
			a := &s.Apps[i]
			a.CanUse = addTo(a.CanUse, likeSP, p.ClientID)
			if p.UserName != "" {
				a.CanUse = addTo(a.CanUse, likeUser, p.UserName)
			}
		}
	}
}

// RemoveParticipant takes p's identities out of the workspace (a trainer's
// reset of one participant); lines already logged keep their owner.
func (e *Emulator) RemoveParticipant(p Participant) error {
	e.partMu.Lock()
	delete(e.participants, p.Name)
	e.partMu.Unlock()
	drop := func(list []string) []string {
		return slices.DeleteFunc(list, func(x string) bool { return x == p.ClientID || (p.UserName != "" && x == p.UserName) })
	}
	return e.Update(func(s *State) {
		s.ServicePrincipals = slices.DeleteFunc(s.ServicePrincipals, func(sp ServicePrincipal) bool { return sp.ApplicationID == p.ClientID })
		s.Users = slices.DeleteFunc(s.Users, func(u User) bool { return p.UserID != "" && u.ID == p.UserID })
		for i := range s.Dashboards {
			d := &s.Dashboards[i]
			d.CanRun, d.CanRead, d.SelectGrants = drop(d.CanRun), drop(d.CanRead), drop(d.SelectGrants)
		}
		for i := range s.Apps {
			s.Apps[i].CanUse = drop(s.Apps[i].CanUse)
		}
	})
}

// owner is the participant whose principal (or, for a refused client,
// the client id it claimed) this is; "" for the workspace's own.
func (e *Emulator) owner(ids ...string) string {
	for _, id := range ids {
		if id == "" {
			continue
		}
		if v, ok := e.owners.Load(id); ok {
			return v.(string)
		}
	}
	return ""
}

// Users lists the workspace users' user names, in the state's order.
func (e *Emulator) Users() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, len(e.state.Users))
	for _, u := range e.state.Users {
		out = append(out, u.UserName)
	}
	return out
}
