// Package workshop is embedlab's workshop mode: exercises defined in files
// (one JSON file per exercise, the bundled ones embedded, a trainer's own
// from a folder), each with a goal, hints, terminal commands templated
// with the workspace's URLs, and a checkpoint: a small declarative matcher
// over the emulated workspace's request and audit logs since the exercise
// was started. Progress is kept per user in SQLite and survives a restart.
//
// It knows nothing of the emulator itself: the logs come through Source,
// so the build without the emulator need not compile this package.
package workshop
