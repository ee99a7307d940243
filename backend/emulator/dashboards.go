package emulator

import (
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"path/filepath"

	"embedlab/backend/emulator/dashboard"
)

// lvdash renders one dashboard definition over the sample database.
type lvdash struct {
	def   *dashboard.Definition
	db    *sql.DB
	title string
	raw   []byte // the .lvdash.json, served as serialized_dashboard
}

func (l lvdash) Title() string      { return l.title }
func (l lvdash) Stylesheet() string { return dashboard.Stylesheet() }

func (l lvdash) Pages() []PageInfo {
	out := make([]PageInfo, 0, len(l.def.Pages))
	for _, p := range l.def.Pages {
		out = append(out, PageInfo{Name: p.Name, DisplayName: p.DisplayName})
	}
	return out
}

func (l lvdash) Render(ctx context.Context, page, externalValue string) (template.HTML, error) {
	return l.def.Render(ctx, l.db, page, externalValue)
}

// Definition returns a dashboard's definition, for the isolation check.
func (e *Emulator) Definition(id string) (*dashboard.Definition, *sql.DB, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, ok := e.renderers[id].(lvdash)
	return r.def, r.db, ok
}

// loadDashboards reads every dashboard's definition at start, so a broken
// file stops the start with the file, the path inside it and the problem.
func (e *Emulator) loadDashboards(override string) error {
	db, err := dashboard.OpenSampleDB(context.Background())
	if err != nil {
		return fmt.Errorf("emulator sample data: %w", err)
	}
	e.closers = append(e.closers, db.Close)
	e.sampleDB = db
	e.renderers = map[string]renderer{}
	for _, d := range e.state.Dashboards {
		def, raw := dashboard.Sample(), dashboard.SampleFile()
		switch {
		case d.File != "":
			path := d.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(e.state.dir, path)
			}
			if def, raw, err = loadDefinition(path); err != nil {
				return fmt.Errorf("dashboard %s: %w", d.ID, err)
			}
		case override != "":
			if def, raw, err = loadDefinition(override); err != nil {
				return fmt.Errorf("dashboard file: %w", err)
			}
		}
		if len(def.Pages) == 0 {
			return fmt.Errorf("dashboard %s: its definition has no page", d.ID)
		}
		e.renderers[d.ID] = lvdash{def: def, db: db, title: d.DisplayName, raw: raw}
	}
	return nil
}

// Pages lists a dashboard's pages, for the app's page picker.
func (e *Emulator) Pages(id string) []PageInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if r, ok := e.renderers[id]; ok {
		return r.Pages()
	}
	return nil
}
