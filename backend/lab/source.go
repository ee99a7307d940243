package lab

import (
	"net/url"
	"strconv"

	"embedlab/backend/emulator"
	"embedlab/backend/workshop"
)

// Source reads the emulator's request and audit logs for the workshop's
// checkpoints.
type Source struct{ Em *emulator.Emulator }

// Entries returns log entries after seq as named fields.
func (s Source) Entries(log string, after int64) []workshop.Entry {
	var out []workshop.Entry
	switch log {
	case workshop.LogRequest:
		for _, r := range s.Em.Requests(after) {
			f := map[string]string{"method": r.Method, "path": r.Path, "query": r.Query, "status": strconv.Itoa(r.Status),
				"principal": r.Principal, "error": r.Error, "app": r.App, "fault": strconv.FormatBool(r.Fault),
				"owner": r.Owner}
			if q, err := url.ParseQuery(r.Query); err == nil {
				for k, v := range q {
					f["query."+k] = v[0]
				}
			}
			out = append(out, workshop.Entry{Log: log, Seq: r.Seq, Time: r.Time, Fields: f})
		}
	case workshop.LogAudit:
		for _, a := range s.Em.Audit(after) {
			f := map[string]string{"action": a.Action, "external_viewer_id": a.ExternalViewerID, "dashboard_id": a.DashboardID,
				"client_id": a.ClientID, "principal": a.Principal, "scope": a.Scope, "app": a.App, "path": a.Path,
				"owner": a.Owner}
			if a.Status != 0 {
				f["status"] = strconv.Itoa(a.Status)
			}
			out = append(out, workshop.Entry{Log: log, Seq: a.Seq, Time: a.Time, Fields: f})
		}
	}
	return out
}

// Cursors are the last sequence numbers of both logs.
func (s Source) Cursors() (request, audit int64) {
	if rs := s.Em.Requests(0); len(rs) > 0 {
		request = rs[len(rs)-1].Seq
	}
	if as := s.Em.Audit(0); len(as) > 0 {
		audit = as[len(as)-1].Seq
	}
	return request, audit
}
