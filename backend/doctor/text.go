package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"embedlab/shared/api"
)

// WriteText prints a report for a terminal: the checklist, each line's
// reason and fix, then the isolation table when there is one.
func WriteText(w io.Writer, rep *api.DoctorReport) error {
	var b strings.Builder
	mode := "real workspace"
	if rep.Emulated {
		mode = "emulator"
	}
	fmt.Fprintf(&b, "embedlab doctor: %s (%s), workspace %s, dashboard %s\n", rep.InstanceURL, mode, orDash(rep.WorkspaceID), orDash(rep.DashboardID))
	fmt.Fprintf(&b, "  service principal %s, app origin %s\n\n", orDash(rep.ClientID), orDash(rep.Origin))
	counts := map[string]int{}
	for _, c := range rep.Checks {
		counts[c.Status]++
		fmt.Fprintf(&b, "%-4s  %s\n", strings.ToUpper(c.Status), c.Title)
		fmt.Fprintf(&b, "      %s\n", c.Reason)
		for _, d := range c.Details {
			fmt.Fprintf(&b, "      · %s\n", d)
		}
		if c.Fix != "" && c.Status != api.StatusPass {
			fmt.Fprintf(&b, "      fix: %s\n", c.Fix)
		}
	}
	if iso := rep.Isolation; iso != nil && len(iso.Datasets) > 0 {
		b.WriteString("\nIsolation: every dataset run as each viewer (rows and a fingerprint of them; equal fingerprints, equal rows)\n\n")
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprint(tw, "  dataset\t")
		for _, v := range iso.Viewers {
			fmt.Fprintf(tw, "%s\t", v.ID)
		}
		fmt.Fprint(tw, "verdict\n")
		for _, d := range iso.Datasets {
			fmt.Fprintf(tw, "  %s\t", d.Name)
			for _, c := range d.Cells {
				fmt.Fprintf(tw, "%s\t", CellText(c))
			}
			fmt.Fprintf(tw, "%s\n", strings.ToUpper(d.Verdict))
		}
		_ = tw.Flush()
		var problems []string
		for _, d := range iso.Datasets {
			if d.Status != api.StatusPass {
				problems = append(problems, fmt.Sprintf("  %-4s  %s\n", strings.ToUpper(d.Status), d.Reason))
			}
		}
		for _, v := range iso.Viewers {
			if v.Error != "" {
				problems = append(problems, fmt.Sprintf("  FAIL  %s: %s\n", v.ID, v.Error))
			}
		}
		if len(problems) > 0 {
			b.WriteString("\n" + strings.Join(problems, ""))
		}
		b.WriteString("\n  Tokens that must get nothing at all:\n")
		for _, p := range iso.Probes {
			fmt.Fprintf(&b, "  %-4s  %s: %s\n", strings.ToUpper(p.Status), p.Title, p.Reason)
		}
	}
	fmt.Fprintf(&b, "\n%s: %d passed, %d failed, %d warnings, %d skipped\n", verdictWord(rep.OK),
		counts[api.StatusPass], counts[api.StatusFail], counts[api.StatusWarn], counts[api.StatusSkip])
	_, err := io.WriteString(w, b.String())
	return err
}

// CellText is one cell of the isolation table: the row count and the
// fingerprint, or the error.
func CellText(c api.IsolationCell) string {
	switch {
	case c.Error != "":
		return "error"
	case c.Rows == 0:
		return "0 rows"
	}
	s := fmt.Sprintf("%d rows %s", c.Rows, c.Fingerprint)
	if c.Rows == 1 {
		s = "1 row " + c.Fingerprint
	}
	if c.Truncated {
		s = "≥" + s
	}
	if c.Shared > 0 {
		s += fmt.Sprintf(" (%d shared)", c.Shared)
	}
	return s
}

func verdictWord(ok bool) string {
	if ok {
		return "OK"
	}
	return "FAILED"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
