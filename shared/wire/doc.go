// Package wire defines the requests, responses and errors that a Databricks
// workspace speaks on the OAuth and dashboard-token endpoints (see
// ../shared/docs/wire-formats.md). The emulator answers with these types and
// the broker decodes them, so a field renamed on one side breaks both at once.
//
// It compiles for the browser (GOOS=js) as well as the host: it imports
// nothing beyond the standard library's encoding and text packages.
package wire
