// Package viewers knows the dashboard's external viewers and which logged-in
// users may act as each of them.
//
// An external viewer is what Databricks calls the person or tenant an
// embedded dashboard is shown to: its external_viewer_id goes to the
// workspace's audit log and its external_value is bound into the dataset SQL
// as __aibi_external_value (the row filter). The browser only ever names a
// viewer id; the external_value always comes from the Set, so a user cannot
// widen their own row filter by editing a request.
//
// A Set comes from a viewers file (Load, Parse), from the bundled demo file
// (Default), or from the single-viewer sample apps' EXTERNAL_VIEWER_ID and
// EXTERNAL_VALUE variables (FromEnv). Every source is validated the same way:
// the workspace's own rules (wire.ValidateViewer) plus a refusal of viewer ids
// that look like personal data, because the audit log must not hold any.
//
// The file format:
//
//	{
//	  "_note": "optional free text, ignored",
//	  "viewers": [
//	    {"id": "viewer-emea", "display_name": "Europe (EMEA)",
//	     "external_value": "EMEA", "users": ["ada", "admin"]}
//	  ]
//	}
package viewers
