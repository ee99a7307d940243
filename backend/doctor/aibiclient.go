package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"embedlab/backend/broker"
	"embedlab/backend/viewers"
	"embedlab/shared/api"
)

// aibiClientVersions are the versions of @databricks/aibi-client that read a
// token's exp with JSON.parse(atob(token.split('.')[1])): every version on
// npm when this check was written (read in each package's dist/index.js).
// atob takes the standard base64 alphabet only, so a payload holding
// base64url's '-' or '_' throws InvalidCharacterError, and the client
// replaces the dashboard with an error page: in initialize() when a
// getNewToken callback is set, and at every refresh.
const aibiClientVersions = "1.0.0, 1.0.1-alpha.0 and 1.0.3-alpha.0"

// maxAIBIViewers bounds the tokens the check gets: one exchange per viewer.
const maxAIBIViewers = 100

// aibiShim is the workaround an embedding page can load before the client:
// '-' and '_' never occur in standard base64, so mapping them is lossless.
const aibiShim = `const atob0 = window.atob; window.atob = (s) => atob0(String(s).replace(/-/g, '+').replace(/_/g, '/'));`

// checkAIBIClient gets each viewer's real scoped token and warns about those
// the official browser client cannot decode. embedlab's own frame decodes
// base64url and is not affected; apps built on the official client are.
func (r *run) checkAIBIClient(ctx context.Context) api.DoctorCheck {
	c := check(api.CheckAIBIClient)
	if r.scoped == nil {
		return skip(c, "skipped: it needs a scoped token (see the scoped token check)")
	}
	vs := r.o.Viewers
	if vs == nil && r.cfg.Viewers != nil {
		vs = r.cfg.Viewers.Viewers()
	}
	if len(vs) == 0 {
		vs = []viewers.Viewer{r.probe}
	}
	of := ""
	if len(vs) > maxAIBIViewers {
		of = fmt.Sprintf(" (the first %d of %d)", maxAIBIViewers, len(vs))
		vs = vs[:maxAIBIViewers]
	}
	named := r.o.NameViewers || r.o.Viewers != nil
	var broken, unchecked []string
	for i, v := range vs {
		name := v.ID
		if !named {
			name = fmt.Sprintf("viewer %d", i+1)
		}
		res, err := r.exchange(ctx, v.ID, v.ExternalValue)
		if err != nil {
			msg := err.Error()
			var be *broker.Error
			if errors.As(err, &be) {
				msg = be.Message
			}
			unchecked = append(unchecked, name+": no token: "+msg)
			continue
		}
		if at, ch, bad := atobBreaks(res.Token); bad {
			d := fmt.Sprintf("%s: the token's payload has %q at character %d", name, ch, at+1)
			if risky := riskyChars(v.ExternalValue); risky != "" && named {
				d += ", from an external_value with " + risky
			}
			broken = append(broken, d)
		}
	}
	c.Details = append(broken, unchecked...)
	fix := fmt.Sprintf("if an app embeds with @databricks/aibi-client (%s): load this before the client, `%s`; "+
		"or give these viewers an external_value of ASCII letters, digits and punctuation other than ~ ? > "+
		"(e.g. a code the dataset maps to the value); or embed without getNewToken and reload the page before the token expires. "+
		"embedlab's own frame is not affected.", aibiClientVersions, aibiShim)
	checked := len(vs) - len(unchecked)
	switch {
	case len(broken) > 0:
		return warn(c, fix, "%s of %d%s would break @databricks/aibi-client %s: the payload of their scoped token holds base64url's '-' or '_', which the client's atob refuses, so initialize() with getNewToken shows an error instead of the dashboard",
			plural(len(broken), "viewer"), len(vs), of, aibiClientVersions)
	case checked == 0:
		return skip(c, "skipped: no viewer's token could be got%s", of)
	case len(unchecked) > 0:
		return warn(c, "see why the other viewers got no token (the tokeninfo and scoped token checks)",
			"checked the scoped tokens of %s%s: no '-' or '_' in their payloads, but %d could not be checked", plural(checked, "viewer"), of, len(unchecked))
	}
	return pass(c, "checked the scoped tokens of %s%s: no '-' or '_' in any payload, so @databricks/aibi-client %s can read their exp", plural(checked, "viewer"), of, aibiClientVersions)
}

// atobBreaks says whether the official client's atob would refuse the
// token's payload, and where: the first '-' or '_' of its second part.
func atobBreaks(token string) (int, string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) < 2 {
		return 0, "", false
	}
	i := strings.IndexAny(parts[1], "-_")
	if i < 0 {
		return 0, "", false
	}
	return i, parts[1][i : i+1], true
}

// riskyChars names the characters of an external_value that can encode to
// '-' or '_' in base64url (where they fall decides whether they do): '~',
// '?', '>' and anything beyond ASCII.
func riskyChars(v string) string {
	var found []string
	seen := map[rune]bool{}
	for _, c := range v {
		if (c == '~' || c == '?' || c == '>' || c >= utf8.RuneSelf) && !seen[c] {
			seen[c] = true
			found = append(found, fmt.Sprintf("%q", c))
		}
	}
	return strings.Join(found, ", ")
}
