package ui

import (
	"fmt"
	"net/url"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/claims"
	"embedlab/shared/wire"
)

// Messages and error codes of the embedding protocol (see shared/wire).
const (
	msgReady     = wire.MsgEmbedReady
	msgSetConfig = wire.MsgSetConfig
	msgSetToken  = wire.MsgSetToken

	errInvalidTokenFormat = wire.EmbedErrInvalidTokenFormat
	errNotLoadedExpired   = wire.EmbedErrNotLoadedTokenExpired
	errExpiredNoRefresh   = wire.EmbedErrExpiredNoRefresh
)

// dashboardFrame mounts the workspace's embed page in a cross-origin iframe
// and speaks the embedding protocol with it, as @databricks/aibi-client
// does: it trusts messages only from the instance origin and from its own
// iframe, answers READY with SET_CONFIG and SET_TOKEN, and asks for a new
// token IMargin before the current one expires.
type dashboardFrame struct {
	app.Compo

	// Inputs, set by the parent.
	IKey         string // unique per frame on the page (compare mode has two)
	IInstanceURL string
	IWorkspaceID string
	IDashboardID string
	IPage        string
	IViewerID    string
	IToken       string
	IMargin      time.Duration
	// IExpiresAt is the token's expiry as the backend counted it (from
	// expires_in, on its own clock); it beats exp when the workspace's
	// clock is off. Zero means read exp.
	IExpiresAt time.Time
	// IOnExpiring is called when the token needs renewing; the parent
	// fetches a new one and sets IToken. Nil means no refresh method.
	IOnExpiring func(ctx app.Context)
	// IOnEvent reports protocol events and errors to the parent.
	IOnEvent func(ctx app.Context, ev frameEvent)

	src        string // set when the viewer or page changes, never on refresh
	mountedFor string
	sentToken  string
	ready      bool
	gen        int // invalidates refresh timers scheduled for older tokens
	listener   app.Func
	dismounted bool
}

// frameEvent is something that happened between the page and the frame.
type frameEvent struct {
	At     time.Time
	Kind   string // "ready", "config", "token", "refresh", "error"
	Code   string
	Detail string
}

func (f *dashboardFrame) frameID() string { return "dashboard-frame-" + f.IKey }

func (f *dashboardFrame) instanceOrigin() string {
	u, err := url.Parse(f.IInstanceURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (f *dashboardFrame) OnMount(ctx app.Context) {
	f.listener = app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) > 0 {
			f.onMessage(ctx, args[0])
		}
		return nil
	})
	app.Window().Call("addEventListener", "message", f.listener)
	f.sync(ctx)
}

func (f *dashboardFrame) OnDismount() {
	f.dismounted = true
	f.gen++
	if f.listener != nil {
		app.Window().Call("removeEventListener", "message", f.listener)
		f.listener.Release()
		f.listener = nil
	}
}

// OnUpdate runs when the parent changes an input: a new viewer or page
// remounts the frame; a new token is sent to the ready frame.
func (f *dashboardFrame) OnUpdate(ctx app.Context) { f.sync(ctx) }

func (f *dashboardFrame) sync(ctx app.Context) {
	key := f.IViewerID + "|" + f.IPage + "|" + f.IDashboardID
	if key != f.mountedFor {
		// The first token travels in the src's fragment, as the official
		// client does; SET_TOKEN is only for the tokens that follow.
		f.mountedFor, f.ready, f.sentToken = key, false, f.IToken
		f.src = f.embedURL()
		f.emit(ctx, "mount", "", "loading the dashboard for "+f.IViewerID+", first token in the URL fragment (#token=…)")
	}
	if f.ready && f.IToken != "" && f.IToken != f.sentToken {
		f.sendToken(ctx, "refresh")
	}
	f.scheduleRefresh(ctx)
}

// embedURL is the iframe's src. The first token travels in the fragment,
// so it never reaches a server log.
func (f *dashboardFrame) embedURL() string {
	return wire.EmbedURL(f.IInstanceURL, f.IWorkspaceID, f.IDashboardID, f.IPage, f.IToken)
}

func (f *dashboardFrame) contentWindow() app.Value {
	el := app.Window().GetElementByID(f.frameID())
	if !el.Truthy() {
		return app.Undefined()
	}
	return el.Get("contentWindow")
}

func (f *dashboardFrame) onMessage(ctx app.Context, ev app.Value) {
	if f.dismounted {
		return
	}
	// Only the workspace's origin, and only our own iframe: in compare mode
	// two frames share the origin.
	if ev.Get("origin").String() != f.instanceOrigin() {
		return
	}
	if win := f.contentWindow(); !win.Truthy() || !ev.Get("source").Equal(win) {
		return
	}
	data := ev.Get("data")
	if !data.Truthy() || data.Type() != app.TypeObject || data.Get("type").Type() != app.TypeString {
		return
	}
	if data.Get("type").String() != msgReady {
		return
	}
	ctx.Dispatch(func(ctx app.Context) {
		f.ready = true
		f.emit(ctx, "ready", "", "the frame posted "+msgReady)
		f.post(map[string]any{"type": msgSetConfig, "config": map[string]any{"version": wire.EmbedConfigVersion, "hideRefreshButton": false}})
		f.emit(ctx, "config", "", "sent "+msgSetConfig+" (version 1)")
		if f.IToken != f.sentToken {
			f.sendToken(ctx, "refresh") // renewed while the frame was loading
		}
	})
}

func (f *dashboardFrame) post(msg map[string]any) {
	if win := f.contentWindow(); win.Truthy() {
		win.Call("postMessage", msg, f.instanceOrigin())
	}
}

func (f *dashboardFrame) sendToken(ctx app.Context, kind string) {
	exp, err := tokenExpiry(f.IToken)
	switch {
	case err != nil:
		f.emit(ctx, "error", errInvalidTokenFormat, err.Error())
		return
	case time.Now().After(exp) && !f.ready:
		f.emit(ctx, "error", errNotLoadedExpired, "the token expired before the frame loaded")
		return
	}
	f.post(map[string]any{"type": msgSetToken, "token": f.IToken})
	f.sentToken = f.IToken
	f.emit(ctx, kind, "", fmt.Sprintf("sent %s, expires %s", msgSetToken, exp.Local().Format("15:04:05")))
}

// scheduleRefresh asks for a new token at max(0, exp - now - margin).
func (f *dashboardFrame) scheduleRefresh(ctx app.Context) {
	if f.IToken == "" {
		return
	}
	exp, err := tokenExpiry(f.IToken)
	if err != nil {
		return
	}
	if !f.IExpiresAt.IsZero() {
		exp = f.IExpiresAt
	}
	f.gen++
	gen, token := f.gen, f.IToken
	wait := max(0, time.Until(exp)-refreshMargin(f.IToken, f.IMargin))
	ctx.After(wait, func(ctx app.Context) {
		if f.dismounted || gen != f.gen || token != f.IToken {
			return // a newer token or a remount took over
		}
		if f.IOnExpiring == nil {
			ctx.After(max(0, time.Until(exp)), func(ctx app.Context) {
				if gen == f.gen && !f.dismounted {
					f.emit(ctx, "error", errExpiredNoRefresh, "the token expired and no refresh method was given")
				}
			})
			return
		}
		f.IOnExpiring(ctx)
	})
}

func (f *dashboardFrame) emit(ctx app.Context, kind, code, detail string) {
	if f.IOnEvent != nil {
		f.IOnEvent(ctx, frameEvent{At: time.Now(), Kind: kind, Code: code, Detail: detail})
	}
}

// tokenExpiry reads exp from a token, as the embedding client does with a
// plain base64 decode of the payload.
func tokenExpiry(token string) (time.Time, error) {
	_, c, err := claims.Decode(token)
	if err != nil {
		return time.Time{}, err
	}
	if c.ExpiresAt == 0 {
		return time.Time{}, fmt.Errorf("the token has no exp claim")
	}
	return time.Unix(c.ExpiresAt, 0), nil
}

func (f *dashboardFrame) Render() app.UI {
	return app.IFrame().
		ID(f.frameID()).
		Class("dashboard-frame").
		Attr("name", f.frameID()).
		Src(f.src).
		Title("Embedded dashboard for "+f.IViewerID).
		ReferrerPolicy("no-referrer").
		DataSet("viewer", f.IViewerID)
}

// refreshMargin is the margin, capped at half the token's lifetime: a token
// shorter-lived than the margin (the fault lab's 2 minutes) is renewed
// half-way, not at once and again and again.
func refreshMargin(token string, margin time.Duration) time.Duration {
	_, c, err := claims.Decode(token)
	if err != nil || c.IssuedAt == 0 || c.ExpiresAt <= c.IssuedAt {
		return margin
	}
	return min(margin, time.Duration(c.ExpiresAt-c.IssuedAt)*time.Second/2)
}
