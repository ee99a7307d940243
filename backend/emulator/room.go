package emulator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// A classroom: participants' laptops reach the trainer's machine by its
// address or a host name (Options.PublicHost). Browsers resolve
// "<app>-<workspace>.localhost" to their own loopback address, and a room
// has no DNS for names like "<app>-<workspace>.192.168.1.20", so each app
// also gets a port of its own on the room's host: an app's origin is then
// http://<host>:<port>, still one origin per app, as Databricks Apps have.

// appPortKey marks a request that came in on an app's own port; its value
// is the app's name.
type appPortKey struct{}

// appPorts are the port-form URLs and servers of the apps; written once in
// Start before anything serves, read-only afterwards.
type appPorts struct {
	urls map[string]string
	srvs []*http.Server
}

func (a *appPorts) url(name string) string { return a.urls[name] }

func (a *appPorts) servers() []*http.Server { return a.srvs }

// appPortOffset is the first app's port above the workspace's (8000: the
// Apps proxy is 8001, the identity provider 8002, apps 8003, 8004...).
const appPortOffset = 3

// servePublic names host in every URL and gives each app its own port,
// beside the workspace's listener (same interface).
func (e *Emulator) servePublic(host string, ln, appsLn, idpLn net.Listener) error {
	port := func(l net.Listener) string { return strconv.Itoa(l.Addr().(*net.TCPAddr).Port) }
	origin := func(l net.Listener) string { return "http://" + net.JoinHostPort(host, port(l)) }
	if e.URL() == "" {
		e.SetURL(origin(ln))
	}
	e.SetIdPURL(origin(idpLn))
	if e.AppsURL() == "" {
		e.SetAppsURL(origin(appsLn))
	}
	ws := ln.Addr().(*net.TCPAddr)
	e.mu.RLock()
	apps := append([]App(nil), e.state.Apps...)
	e.mu.RUnlock()
	e.appPort.urls = map[string]string{}
	for i, a := range apps {
		l, err := listenBeside("app "+a.Name, "", ln.Addr().String(), ws, appPortOffset+i)
		if err != nil {
			for _, s := range e.appPort.srvs {
				s.Close()
			}
			return fmt.Errorf("a classroom's port for app %s: %w", a.Name, err)
		}
		name := a.Name
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.appsHandler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), appPortKey{}, name)))
		})
		e.appPort.urls[name] = origin(l)
		e.appPort.srvs = append(e.appPort.srvs, e.server(h, l, "emulator app "+name))
	}
	return nil
}

// AllowEmbeddingOrigin lets pages on origin embed dashboards (the embed
// page's frame-ancestors and postMessage peers), e.g. a classroom's app URL.
func (e *Emulator) AllowEmbeddingOrigin(origin string) error {
	return e.Update(func(s *State) {
		for _, o := range s.EmbeddingOrigins {
			if o == origin {
				return
			}
		}
		s.EmbeddingOrigins = append(s.EmbeddingOrigins, origin)
	})
}
