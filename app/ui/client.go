package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"embedlab/shared/api"
)

// request calls the backend API through the browser's fetch (net/http
// would add megabytes to the Wasm) and decodes the JSON answer into out.
// It blocks until the answer arrives, so call it from ctx.Async. A refusal
// comes back as *apiError with the server's message; status is the HTTP
// status, 0 when the server could not be reached.
func request(method, path, csrf string, in, out any) (status int, err error) {
	if !app.IsClient {
		return 0, errors.New("the API is called from the browser only")
	}
	headers := map[string]any{"Accept": "application/json"}
	init := map[string]any{"method": method, "credentials": "same-origin", "cache": "no-store"}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		headers["Content-Type"] = "application/json"
		init["body"] = string(b)
	}
	if csrf != "" {
		headers[api.HeaderCSRF] = csrf
	}
	init["headers"] = headers

	res, err := await(app.Window().Call("fetch", path, init))
	if err != nil {
		return 0, errors.New("embedlab's server could not be reached: is `make run` still running?")
	}
	status = res.Get("status").Int()
	text, err := await(res.Call("text"))
	if err != nil {
		return status, fmt.Errorf("read the answer to %s %s: %w", method, path, err)
	}
	body := text.String()
	if status < 200 || status > 299 {
		var e api.Error
		if json.Unmarshal([]byte(body), &e) != nil || e.Message == "" {
			e = api.Error{Error: "http_" + fmt.Sprint(status), Message: fmt.Sprintf("%s %s answered %d", method, path, status)}
		}
		return status, &apiError{status: status, body: e}
	}
	if out != nil && strings.TrimSpace(body) != "" {
		if err := json.Unmarshal([]byte(body), out); err != nil {
			return status, fmt.Errorf("the answer to %s %s is not the expected JSON: %w", method, path, err)
		}
	}
	return status, nil
}

// await waits for a JavaScript promise, releasing its callbacks afterwards.
// Both outcomes are handled, so the caller never waits forever.
func await(p app.Value) (app.Value, error) {
	type outcome struct {
		v   app.Value
		err error
	}
	done := make(chan outcome, 1)
	resolve := app.FuncOf(func(this app.Value, args []app.Value) any {
		done <- outcome{v: arg0(args)}
		return nil
	})
	reject := app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "promise rejected"
		if v := arg0(args); v.Truthy() {
			msg = v.Call("toString").String()
		}
		done <- outcome{err: errors.New(msg)}
		return nil
	})
	defer resolve.Release()
	defer reject.Release()
	p.Call("then", resolve, reject)
	o := <-done
	return o.v, o.err
}

func arg0(args []app.Value) app.Value {
	if len(args) == 0 {
		return app.Undefined()
	}
	return args[0]
}

// apiError is a refusal from the backend, with its status and JSON body.
type apiError struct {
	status int
	body   api.Error
}

func (e *apiError) Error() string { return e.body.Message }

// errorText is what the page shows for an error: the server's message and,
// when it knows one, the fix.
func errorText(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		if e.body.Fix != "" {
			return e.body.Message + " — " + e.body.Fix
		}
		return e.body.Message
	}
	return err.Error()
}
