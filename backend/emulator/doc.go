// Package emulator is a stand-in Databricks workspace: a real HTTP server, on
// its own origin, that answers the OAuth, discovery and dashboard-token
// endpoints exactly as ../shared/docs/wire-formats.md describes, so that the
// same client code runs against it and against a real workspace.
//
// Its state (workspace id, dashboards, service principals, users, limits)
// comes from one JSON file; workspace.json beside this file is the default.
// Tests and the UI steer it through a fault switch (failures, clock skew,
// token lifetime) and read its request and audit logs over HTTP under
// /emulator/.
package emulator
