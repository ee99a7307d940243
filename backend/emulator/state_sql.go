package emulator

import (
	"slices"
	"strconv"
)

// The SQL side of the state file: the warehouses statements run on and the
// tables of the sample data with their SELECT grants. A state file without
// them (older ones) gets one warehouse everyone may use and tables everyone
// may read, so it keeps working as before.

// Warehouse is a SQL warehouse and who may run statements on it.
type Warehouse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// CreatorName owns the warehouse: with a workspace admin, the one who
	// can grant CAN USE on it.
	CreatorName string `json:"creator_name,omitempty"`
	// CanUse are the principals (service principal application ids, user
	// names) with CAN USE.
	CanUse []string `json:"can_use"`

	open bool // the default warehouse of a state that lists none: anyone may use it
}

// Table is a table of the sample data and who may read it.
type Table struct {
	// Name is the table as SQL names it in the sample database.
	Name string `json:"name"`
	// FullName is how errors name it, e.g. main.embedlab.sales; Name when empty.
	FullName string `json:"full_name,omitempty"`
	// Owner can grant SELECT on it (as can a metastore admin).
	Owner string `json:"owner,omitempty"`
	// Select are the principals with SELECT (USE CATALOG and USE SCHEMA
	// included).
	Select []string `json:"select"`
}

func (t Table) fullName() string {
	if t.FullName != "" {
		return t.FullName
	}
	return t.Name
}

// warehouses lists the state's warehouses, or the default one everyone
// may use when it lists none.
func (s *State) warehouses() []Warehouse {
	if len(s.Warehouses) > 0 {
		return s.Warehouses
	}
	return []Warehouse{{ID: emulatorWarehouseID, Name: "Starter Warehouse", open: true}}
}

// warehouse finds a warehouse by id.
func (s *State) warehouse(id string) (Warehouse, bool) {
	for _, w := range s.warehouses() {
		if w.ID == id {
			return w, true
		}
	}
	return Warehouse{}, false
}

// dashboardWarehouse is the warehouse every dashboard runs on: the first.
func (s *State) dashboardWarehouse() string { return s.warehouses()[0].ID }

// canUse reports whether one of names has CAN USE on the warehouse. A
// state that lists no warehouse has one open to everyone.
func (w Warehouse) canUse(names ...string) bool {
	if w.open {
		return true
	}
	for _, n := range names {
		if slices.Contains(w.CanUse, n) {
			return true
		}
	}
	return false
}

// table finds a table by its SQL name, case-insensitively as SQLite does.
func (s *State) table(name string) (Table, bool) {
	for _, t := range s.Tables {
		if asciiFold(t.Name) == asciiFold(name) {
			return t, true
		}
	}
	return Table{}, false
}

// canSelect reports whether one of names may read a table. A table the
// state does not list is readable by everyone.
func (s *State) canSelect(table string, names ...string) bool {
	t, ok := s.table(table)
	if !ok {
		return true
	}
	for _, n := range names {
		if slices.Contains(t.Select, n) {
			return true
		}
	}
	return false
}

func asciiFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// validateSQL checks the state fields of this file.
func (s *State) validateSQL(bad func(format string, a ...any)) {
	principals := map[string]bool{}
	for _, sp := range s.ServicePrincipals {
		principals[sp.ApplicationID] = true
	}
	for _, u := range s.Users {
		principals[u.UserName] = true
	}
	check := func(field string, names []string) {
		for j, p := range names {
			if !principals[p] {
				bad("%s[%d] %q: no service principal application_id or user_name is that", field, j, p)
			}
		}
	}
	ids := map[string]bool{}
	for i, w := range s.Warehouses {
		switch {
		case !safeID.MatchString(w.ID):
			bad("warehouses[%d].id %q: must be letters, digits, '.', '_' or '-', e.g. \"e0e0b1c2d3e4f5a6\"", i, w.ID)
		case ids[w.ID]:
			bad("warehouses[%d].id %q: used twice", i, w.ID)
		}
		ids[w.ID] = true
		if w.Name == "" {
			bad("warehouses[%d].name: must be set, e.g. \"Starter Warehouse\"", i)
		}
		check("warehouses["+strconv.Itoa(i)+"].can_use", w.CanUse)
	}
	names := map[string]bool{}
	for i, t := range s.Tables {
		switch {
		case !safeID.MatchString(t.Name):
			bad("tables[%d].name %q: must be a table of the sample data, e.g. \"sales\"", i, t.Name)
		case names[asciiFold(t.Name)]:
			bad("tables[%d].name %q: used twice", i, t.Name)
		}
		names[asciiFold(t.Name)] = true
		check("tables["+strconv.Itoa(i)+"].select", t.Select)
	}
}
