package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
)

// switches is how many viewer switches the bench times.
const switches = 20

// measureSwitches opens the dashboard, then clicks between two viewers and
// times each click until the frame shows the new viewer's rows (issue #14:
// the figure a presenter feels). It returns the durations in seconds.
func measureSwitches(ctx context.Context, base string, cookie *http.Cookie) ([]float64, error) {
	if _, err := openDashboard(ctx, base, cookie); err != nil {
		return nil, err
	}
	other, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var a=[].slice.call(document.querySelectorAll('#viewers a[data-viewer]'))
		.map(function(e){return e.dataset.viewer}).filter(function(v){return v!=='`+pageViewer+`'});return a[0]||''})()`))
	if err != nil || other == "" {
		return nil, fmt.Errorf("no second viewer to switch to (%v)", err)
	}
	var out []float64
	for i := range switches {
		to := []string{other, pageViewer}[i%2]
		start := time.Now()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){document.querySelector('#viewers a[data-viewer="`+to+`"]').click();return true})()`)); err != nil {
			return nil, err
		}
		deadline := start.Add(20 * time.Second)
		for {
			v, err := browsertest.FrameEval[frameView](ctx, mainFrameName, frameViewJS)
			if err == nil && v.State == "ready" && v.Viewer == to && v.Rows > 0 {
				out = append(out, time.Since(start).Seconds())
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("switch %d to %s: no rows after 20 s (frame %+v, %v)", i+1, to, v, err)
			}
			if err := sleepCtx(ctx, pagePoll); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
