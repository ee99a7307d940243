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
	addTo := func(list []string, like, who string) []string {
		if slices.Contains(list, like) && !slices.Contains(list, who) {
			return append(list, who)
		}
		return list
	}
	err := e.Update(func(s *State) {
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
	})
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

// RemoveParticipant takes p's identities out of the workspace (a trainer's
// reset of one participant); lines already logged keep their owner.
func (e *Emulator) RemoveParticipant(p Participant) error {
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
