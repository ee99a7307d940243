package ui

import (
	"fmt"
	"net/url"
	"strconv"
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
//
// Each viewer, page or dashboard gets a new iframe element (mount). Changing
// only the src of the old one would be unsafe twice over: a src that differs
// only in its #token= fragment is a same-document navigation, so the old
// viewer's page (and rows) stayed on screen; and a navigation inside an
// existing iframe adds a browser history entry, so Back walked the frame
// rather than the page. A new element loads a fresh document with no
// history entry, and its contentWindow differs from the old one's, so a
// late message from the old document can never pass for the new one's.
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

	// Callbacks, given once by newDashboardFrame. They are unexported on
	// purpose: go-app compares a component's exported fields on every
	// parent render, a func never compares equal, so an exported callback
	// made every render an update (and, before, a new refresh timer).
	onExpiring func(ctx app.Context)                // nil: no refresh method
	onEvent    func(ctx app.Context, ev frameEvent) // protocol events and errors

	mountKey  string    // viewer|page|dashboard the current iframe shows
	mounts    int       // how many iframes this component has made
	iframe    app.Value // the current iframe element
	sentToken string
	ready     bool
	listener  app.Func

	refreshKey string      // token|expiry|margin the refresh timer is set for
	refresh    *time.Timer // asks for a new token before expiry
	expired    *time.Timer // reports TOKEN_EXPIRED_NO_REFRESH_METHOD

	watch frameWatchdog // framecheck.go

	// ctx is the frame's own context, from OnMount: timers and the Retry
	// button's work dispatch through it, never through a handler's ctx,
	// which go-app stops delivering to once the clicked element is gone.
	ctx        app.Context
	dismounted bool
}

// newDashboardFrame is a frame with its callbacks; the parent sets the
// I fields on the value it returns.
func newDashboardFrame(onExpiring func(ctx app.Context), onEvent func(ctx app.Context, ev frameEvent)) *dashboardFrame {
	return &dashboardFrame{onExpiring: onExpiring, onEvent: onEvent}
}

// frameEvent is something that happened between the page and the frame.
type frameEvent struct {
	At     time.Time
	Kind   string // "mount", "ready", "config", "token", "refresh", "error", "stalled"
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
	f.ctx = ctx
	f.listener = app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) > 0 {
			f.onMessage(ctx, args[0])
		}
		return nil
	})
	app.Window().Call("addEventListener", "message", f.listener)
	jsListeners.Add(1)
	f.sync(ctx)
}

func (f *dashboardFrame) OnDismount() {
	f.dismounted = true
	f.stopTimers()
	f.watch.stop()
	if f.listener != nil {
		app.Window().Call("removeEventListener", "message", f.listener)
		f.listener.Release()
		f.listener = nil
		jsListeners.Add(-1)
	}
}

func (f *dashboardFrame) stopTimers() {
	if f.refresh != nil {
		f.refresh.Stop()
		f.refresh = nil
	}
	if f.expired != nil {
		f.expired.Stop()
		f.expired = nil
	}
	f.refreshKey = ""
}

// OnUpdate runs when the parent changes an input: a new viewer or page
// mounts a new iframe; a new token is sent to the ready frame.
func (f *dashboardFrame) OnUpdate(ctx app.Context) { f.sync(ctx) }

func (f *dashboardFrame) sync(ctx app.Context) {
	if f.dismounted || f.listener == nil {
		return // OnMount has not run yet; it syncs
	}
	// Timers and the watchdog dispatch through the frame's own context,
	// whatever context this update came with.
	ctx = f.ctx
	if key := f.IViewerID + "|" + f.IPage + "|" + f.IDashboardID; key != f.mountKey {
		f.mountKey = key
		f.mount(ctx, "loading the dashboard for "+f.IViewerID+" in a new iframe, first token in the URL fragment (#token=…)")
	}
	if f.ready && f.IToken != "" && f.IToken != f.sentToken {
		f.sendToken(ctx, "refresh")
	}
	f.scheduleRefresh(ctx)
}

// mount replaces the iframe with a new element loading the embed page for
// the current inputs. The first token travels in the src's fragment, as the
// official client does; SET_TOKEN is only for the tokens that follow.
func (f *dashboardFrame) mount(ctx app.Context, why string) {
	host := f.JSValue()
	if !host.Truthy() {
		return
	}
	if host = host.Call("querySelector", ".frame-host"); !host.Truthy() {
		return
	}
	f.mounts++
	f.ready, f.sentToken = false, f.IToken
	doc := app.Window().Get("document")
	el := doc.Call("createElement", "iframe")
	el.Set("id", f.frameID())
	el.Set("name", f.frameID())
	el.Set("className", "dashboard-frame")
	el.Set("title", "Embedded dashboard for "+f.IViewerID)
	el.Set("referrerPolicy", "no-referrer")
	el.Call("setAttribute", "data-viewer", f.IViewerID)
	el.Call("setAttribute", "data-page", f.IPage)
	el.Call("setAttribute", "data-mount", strconv.Itoa(f.mounts))
	// src before the element is in the document: its first navigation
	// then replaces about:blank and adds no history entry.
	el.Set("src", f.embedURL())
	if f.iframe != nil && f.iframe.Truthy() && f.iframe.Get("parentNode").Truthy() {
		f.iframe.Get("parentNode").Call("removeChild", f.iframe)
	}
	host.Call("replaceChildren", el)
	f.iframe = el
	f.emit(ctx, "mount", "", why)
	f.watch.start(ctx, f)
}

// remount loads the same viewer and page again in a new iframe (the
// watchdog's retry).
func (f *dashboardFrame) remount(why string) {
	if f.dismounted || f.listener == nil {
		return
	}
	f.mount(f.ctx, why)
}

// embedURL is the iframe's src. The first token travels in the fragment,
// so it never reaches a server log.
func (f *dashboardFrame) embedURL() string {
	return wire.EmbedURL(f.IInstanceURL, f.IWorkspaceID, f.IDashboardID, f.IPage, f.IToken)
}

func (f *dashboardFrame) contentWindow() app.Value {
	if f.iframe == nil || !f.iframe.Truthy() {
		return app.Undefined()
	}
	return f.iframe.Get("contentWindow")
}

func (f *dashboardFrame) onMessage(ctx app.Context, ev app.Value) {
	if f.dismounted {
		return
	}
	// Only the workspace's origin, and only our current iframe: in compare
	// mode two frames share the origin, and a replaced iframe is gone.
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
	mount := f.mounts
	ctx.Dispatch(func(ctx app.Context) {
		if mount != f.mounts || f.dismounted {
			return // a newer iframe took over while this waited
		}
		f.ready = true
		f.watch.ready(f)
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

// scheduleRefresh asks for a new token at max(0, exp - now - margin). It
// sets one timer per token, expiry and margin: a render that changes none
// of them leaves the timer alone, and a new one stops the old timer.
func (f *dashboardFrame) scheduleRefresh(ctx app.Context) {
	key := f.IToken + "|" + f.IExpiresAt.String() + "|" + f.IMargin.String()
	if f.IToken == "" || key == f.refreshKey {
		return
	}
	f.stopTimers()
	f.refreshKey = key
	exp, err := tokenExpiry(f.IToken)
	if err != nil {
		return
	}
	if !f.IExpiresAt.IsZero() {
		exp = f.IExpiresAt
	}
	wait := max(0, time.Until(exp)-refreshMargin(f.IToken, f.IMargin))
	f.refresh = time.AfterFunc(wait, func() {
		ctx.Dispatch(func(ctx app.Context) {
			if f.dismounted || key != f.refreshKey {
				return // a newer token or a remount took over
			}
			if f.onExpiring != nil {
				f.onExpiring(ctx)
				return
			}
			f.expired = time.AfterFunc(max(0, time.Until(exp)), func() {
				ctx.Dispatch(func(ctx app.Context) {
					if key == f.refreshKey && !f.dismounted {
						f.emit(ctx, "error", errExpiredNoRefresh, "the token expired and no refresh method was given")
					}
				})
			})
		})
	})
}

func (f *dashboardFrame) emit(ctx app.Context, kind, code, detail string) {
	if f.onEvent != nil {
		f.onEvent(ctx, frameEvent{At: time.Now(), Kind: kind, Code: code, Detail: detail})
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

// Render draws the frame's box; the iframe inside .frame-host is made by
// mount, not by go-app, so that each mount is a new element.
func (f *dashboardFrame) Render() app.UI {
	return app.Div().Class("frame-wrap").DataSet("viewer", f.IViewerID).DataSet("state", f.watch.state()).Body(
		app.Div().Class("frame-host"),
		f.watch.render(f),
	)
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
