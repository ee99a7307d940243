//go:build !noemulator

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"embedlab/backend/testkit"
)

// emulatorLines runs "embedlab emulator" with env and returns its terminal
// lines up to the last start-up line, its log and a stop function.
func emulatorLines(t *testing.T, env map[string]string, args ...string) (out []string, logs *testkit.Buffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs = &testkit.Buffer{}
	done := make(chan error, 1)
	go func() {
		args := append([]string{"emulator", "-addr", "127.0.0.1:0", "-apps-addr", "127.0.0.1:0", "-idp-addr", "127.0.0.1:0"}, args...)
		done <- run(ctx, args, func(k string) string { return env[k] }, pw, logs)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out = append(out, sc.Text())
		if strings.Contains(sc.Text(), "admin") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("the emulator did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return out, logs, stop
}

func putClock(t *testing.T, base, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/emulator/clock", strings.NewReader(`{"skew_seconds":30}`))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// The emulator run alone prints a random admin key once, on the terminal of
// whoever started it and not in its log; a key given in the environment is
// used and not repeated.
func TestEmulatorCommandPrintsItsAdminKeyOnce(t *testing.T) {
	out, logs, stop := emulatorLines(t, nil)
	text := strings.Join(out, "\n")
	base := strings.Fields(strings.TrimPrefix(out[0], "embedlab: workspace emulator on "))[0]
	last := out[len(out)-1]
	key := last[strings.LastIndex(last, " ")+1:]
	if !strings.HasPrefix(key, "emuadmin-") || strings.Count(text, key) != 1 {
		t.Fatalf("terminal lines:\n%s", text)
	}
	if putClock(t, base, "") != http.StatusUnauthorized || putClock(t, base, key) != http.StatusOK {
		t.Fatal("the printed key does not guard /emulator/clock")
	}
	stop()
	if strings.Contains(logs.String(), key) {
		t.Fatal("the emulator's log holds its admin key")
	}

	const given = "room-key-from-the-environment"
	out, _, _ = emulatorLines(t, map[string]string{"EMBEDLAB_EMULATOR_ADMIN_KEY": given})
	base = strings.Fields(strings.TrimPrefix(out[0], "embedlab: workspace emulator on "))[0]
	if strings.Contains(strings.Join(out, "\n"), given) {
		t.Fatal("a given admin key was printed")
	}
	if putClock(t, base, given) != http.StatusOK {
		t.Fatal("the key from EMBEDLAB_EMULATOR_ADMIN_KEY is not accepted")
	}
}
