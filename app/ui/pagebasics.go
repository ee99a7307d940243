package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// codeUnknownViewer: a link or the URL names a viewer that is not among the
// signed-in user's viewers.
const codeUnknownViewer = "unknown_viewer"

// embedBasics is what the dashboard and compare pages load first: who is
// signed in, the embed settings and the viewers this user may act as.
type embedBasics struct {
	loaded   bool
	loading  bool
	session  api.Session
	settings api.EmbedSettings
	viewers  []api.Viewer
	failure  error
	// then is the latest navigation's selection, applied once loaded: a
	// Back or a click while loading replaces it rather than queueing.
	then func(ctx app.Context)
}

// load loads the basics once, then runs then (at once when loaded). A
// missing session sends the browser to the login page, keeping this URL.
func (b *embedBasics) load(ctx app.Context, then func(ctx app.Context)) {
	if b.loaded {
		if b.failure == nil {
			then(ctx)
		}
		return
	}
	b.then = then
	if b.loading {
		return
	}
	b.loading = true
	ctx.Async(func() {
		s, ok, err := currentSession(ctx)
		if !ok {
			return
		}
		var st api.EmbedSettings
		var vs api.Viewers
		if err == nil {
			_, err = request(http.MethodGet, api.PathEmbedSettings, "", nil, &st)
		}
		if err == nil {
			_, err = request(http.MethodGet, api.PathViewers, "", nil, &vs)
		}
		ctx.Dispatch(func(ctx app.Context) {
			b.loaded, b.loading = true, false
			b.session, b.settings, b.viewers, b.failure = s, st, vs.Viewers, err
			if err == nil && b.then != nil {
				b.then(ctx)
			}
			b.then = nil
		})
	})
}

// unknownViewer reports whether id is not among the user's viewers: the
// backend would refuse it, and the page says so without asking.
func (b *embedBasics) unknownViewer(id string) bool {
	return !slices.ContainsFunc(b.viewers, func(v api.Viewer) bool { return v.ID == id })
}

func unknownViewerError(id string, vs []api.Viewer) error {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return &apiError{status: http.StatusNotFound, body: api.Error{Error: codeUnknownViewer,
		Message: "The link names the viewer \"" + id + "\", which is not one of the viewers you may act as (" + strings.Join(ids, ", ") + ").",
		Fix:     "Pick one of your viewers; if the link came from someone else, check its viewer id or sign in as a user who may act as it."}}
}
