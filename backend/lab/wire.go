package lab

import (
	"embedlab/backend/emulator"
	"embedlab/backend/workshop"
)

// Options wire the fault lab and the workshop to one emulator.
type Options struct {
	ClientID, DashboardID string // the embedding app's
	// StateFile is the emulator's state file as participants' commands
	// name it (default: the bundled backend/emulator/workspace.json).
	StateFile string
	// ProgressFile is the workshop's SQLite file.
	ProgressFile string
	// ExercisesDir adds a trainer's own exercise files.
	ExercisesDir string
	// AppURL is embedlab's own URL, for the exercises' texts.
	AppURL string
}

// Wire builds the fault lab (take its snapshot of the workspace now) and
// the workshop, whose reset is the lab's. forget drops the app's cached
// tokens. A broken exercise file is an error naming the file and field.
func Wire(em *emulator.Emulator, o Options, forget func()) (*Lab, *workshop.Service, *workshop.Store, error) {
	xs, err := workshop.Load(o.ExercisesDir)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := workshop.OpenStore(o.ProgressFile)
	if err != nil {
		return nil, nil, nil, err
	}
	l := New(em, o.ClientID, o.DashboardID, forget)
	if o.StateFile == "" {
		o.StateFile = "backend/emulator/workspace.json"
	}
	v := workshop.Vars{Instance: em.URL(), AppsURL: em.AppsURL(), WorkspaceID: em.WorkspaceID(), DashboardID: o.DashboardID,
		ClientID: o.ClientID, AppURL: o.AppURL, StateFile: o.StateFile, Apps: map[string]string{}}
	for _, sp := range em.ServicePrincipals() {
		if sp.ID != o.ClientID && v.NoAccessID == "" {
			v.NoAccessID = sp.ID
		}
	}
	for _, a := range em.Apps() {
		v.Apps[a.Name] = a.URL
	}
	ws := workshop.New(workshop.Options{Exercises: xs, Store: st, Source: Source{Em: em}, Vars: v,
		ResetWorkspace: l.Reset, Identities: identities{em: em, likeSP: o.ClientID, likeUser: firstUser(em)}})
	if err := ws.RestoreIdentities(); err != nil { // the participants of an earlier run
		return nil, nil, nil, err
	}
	return l, ws, st, nil
}

// identities registers workshop participants' identities with the
// emulator, with the grants of the embedding service principal and of the
// workspace's first demo user.
type identities struct {
	em               *emulator.Emulator
	likeSP, likeUser string
}

func (i identities) participant(id workshop.Identity) emulator.Participant {
	return emulator.Participant{Name: id.User, ClientID: id.ClientID, Secret: id.Secret,
		UserID: id.UserID, UserName: id.UserName, Password: id.Password}
}

func (i identities) Add(id workshop.Identity) error {
	return i.em.AddParticipant(i.participant(id), i.likeSP, i.likeUser)
}

func (i identities) Remove(id workshop.Identity) error {
	return i.em.RemoveParticipant(i.participant(id))
}

// firstUser is the user_name of the workspace's first user (ada@example.com
// in the bundled state), whose grants participants' users get.
func firstUser(em *emulator.Emulator) string {
	if us := em.Users(); len(us) > 0 {
		return us[0]
	}
	return ""
}
