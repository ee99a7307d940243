package browsertest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// FrameEval evaluates a JavaScript expression inside the first child frame
// whose iframe name is name, in an isolated world: it sees the frame's DOM
// but not its scripts' variables. The page's own script could never read a
// cross-origin frame; the test reads it through the DevTools protocol, as a
// person reads it on the screen. Site isolation is off in New, so the frame
// is part of the page's target.
func FrameEval[T any](ctx context.Context, name, expr string) (T, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (T, error) {
		var zero T
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return zero, err
		}
		f := findFrame(tree.FrameTree, name)
		if f == nil {
			return zero, fmt.Errorf("no frame named %q", name)
		}
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: f.ID, WorldName: "browsertest"})
		if err != nil {
			return zero, fmt.Errorf("frame %q: %w", name, err)
		}
		byValue := true
		r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: w.ExecutionContextID, ReturnByValue: &byValue})
		if err != nil {
			return zero, err
		}
		if r.ExceptionDetails != nil {
			return zero, &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails}
		}
		if r.Result == nil || len(r.Result.Value) == 0 {
			return zero, fmt.Errorf("frame %q: %s gave no value", name, expr)
		}
		var v T
		if err := json.Unmarshal(r.Result.Value, &v); err != nil {
			return zero, fmt.Errorf("frame %q: %s: %w", name, expr, err)
		}
		return v, nil
	})
}

func findFrame(t *page.FrameTree, name string) *cdp.Frame {
	if t == nil {
		return nil
	}
	for _, c := range t.ChildFrames {
		if c.Frame != nil && c.Frame.Name == name {
			return c.Frame
		}
		if f := findFrame(c, name); f != nil {
			return f
		}
	}
	return nil
}
