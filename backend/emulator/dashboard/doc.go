// Package dashboard is the data-and-rendering half of the emulated AI/BI
// (Lakeview) dashboard that embedlab's workspace emulator embeds.
//
// It reads the subset of the `.lvdash.json` definition format described in
// the wire reference (package wire, "Dashboard embedding for external users":
// datasets, pages, a 6-column layout of widgets, their queries and
// encodings), runs a page's widget queries against a SQLite database with the
// viewer's external_value bound as a query parameter wherever the dataset SQL
// names __aibi_external_value, and renders the results as an HTML fragment: a
// CSS grid of counters, tables and inline SVG charts with no scripts, no
// inline styles and no external assets, so the embed page can serve it under
// a strict Content-Security-Policy with Stylesheet served as a separate file.
//
// The bundled sample (Sample, OpenSampleDB) is a sales dashboard whose rows
// belong to the demo viewers' regions EMEA, AMER and APAC, so two viewers
// of the same dashboard visibly see different numbers.
//
// The HTTP page, tokens and embedding protocol live in the emulator package;
// this package is plain Go with no knowledge of them.
package dashboard
