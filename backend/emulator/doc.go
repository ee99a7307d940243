// Package emulator is a stand-in Databricks workspace: a real HTTP server, on
// its own origin, that answers the OAuth, discovery and dashboard-token
// endpoints exactly as the wire reference (package wire's documentation)
// describes, so that the same client code runs against it and against a
// real workspace.
//
// Users sign in through /oidc/v1/authorize (authorization code + PKCE, a
// login and consent page; authorize.go, u2m.go), and a second listener, the
// Apps proxy, serves Databricks Apps on their own origin with the
// 401/403/404 rules and X-Forwarded-* headers of a real workspace (apps.go,
// apps_login.go, apps_sample.go). A third listener is an external identity
// provider (idp.go), whose tokens the token endpoint exchanges for the
// workspace's own under the state's federation policies (token federation,
// federation.go); the Apps proxy refuses them unexchanged.
//
// Its state (workspace id, dashboards, service principals, users, OAuth
// clients, apps, limits) comes from one JSON file; workspace.json beside
// this file is the default.
// Tests and the UI steer it through a fault switch (failures, clock skew,
// token lifetime) and read its request and audit logs over HTTP under
// /emulator/; the routes that change state need its admin key (adminkey.go).
package emulator
