package e2e

// A classroom across a real network: the trainer's machine is a Linux
// network namespace with its own loopback and a veth link to this one, the
// participant's laptop. The real `embedlab serve` runs inside it as a
// trainer runs it (EMBEDLAB_ROOM_HOST and nothing else, on the README's
// ports 3000 and 8000-8005); Chromium stays outside. The participant's own
// localhost has nothing of the trainer's stack, so any URL the app hands
// out that still names localhost or 127.0.0.1 fails, as it would on a
// laptop in a training room. The 127.0.0.2 tests (room_test.go,
// backend/room_main_test.go) cannot show this: their "second machine" is
// this machine's loopback, and the browser sees one network stack.
//
// Both of the README's forms are run: EMBEDLAB_ROOM_HOST=<the trainer's
// address>, and =trainer.internal, a host name that the trainer's machine
// resolves through a hosts file of its own and the browser through its
// --host-resolver-rules; the journey and its checks are the same.
//
// It needs root and iproute2 (ip netns). Without them it skips, unless
// EMBEDLAB_REQUIRE_NETNS=1 (.ci/run sets it), which makes it fail instead.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator/dashboard"
	"embedlab/backend/testkit"
	"embedlab/shared/claims"
)

// netnsPrefix names this test's namespaces, followed by the test process's
// pid, so a run killed before its cleanup is found and removed by the next.
const netnsPrefix = "embedlab-e2e-"

func TestRoomAcrossANetworkNamespace(t *testing.T) {
	m := newTrainerMachine(t)
	m.roomJourney(t, m.addr)
}

// roomName is the host name the name form serves the room by: a
// ".internal" name (reserved for private networks) is one that plain http
// may carry tokens to (apps.isLoopback), as a room's emulator needs.
const roomName = "trainer.internal"

// The same room served by host name (EMBEDLAB_ROOM_HOST=trainer.internal),
// as a trainer whose network names their machine does: serve listens on
// every interface and names the host in every URL. The trainer's machine
// resolves the name through its own hosts file (serve calls the emulator
// by its URL); the participant's browser through --host-resolver-rules,
// as the room's DNS would. Nothing outside knows the name otherwise, so a
// URL that names the address or localhost shows up in the checks.
func TestRoomByHostNameAcrossANetworkNamespace(t *testing.T) {
	m := newTrainerMachine(t)
	m.nameHost(t, roomName)
	m.roomJourney(t, roomName, chromedp.Flag("host-resolver-rules", "MAP "+roomName+" "+m.addr))
}

// roomJourney serves the room on the trainer's machine with
// EMBEDLAB_ROOM_HOST=host (its address, or a name that resolves to it on
// both sides), and goes through it as a participant does from this side of
// the link, in Chromium started with browserOpts: every URL names host.
func (m *trainerMachine) roomJourney(t *testing.T, host string, browserOpts ...chromedp.ExecAllocatorOption) {
	bin := buildEmbedlab(t)
	app, out, logs := m.serve(t, bin, map[string]string{"EMBEDLAB_ROOM_HOST": host, "EMBEDLAB_DATA_DIR": t.TempDir()})
	if app != "http://"+host+":3000" {
		t.Fatalf("serve names the app %s, want http://%s:3000 (the README's room)", app, host)
	}
	workspace := "http://" + host + ":8000"
	if !strings.Contains(out.String(), "workspace emulator on "+workspace+" ") {
		t.Fatalf("serve's output does not name the workspace %s:\n%s", workspace, out.String())
	}

	// The participant's laptop reaches the identity provider and an app of
	// the Apps proxy in port form over the link, by the room's host.
	idp := "http://" + host + ":8002"
	res, body := m.httpGet(t, idp+"/.well-known/openid-configuration")
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &disc) != nil || disc.Issuer != idp {
		t.Fatalf("the identity provider from the participant's side: %d %s", res.StatusCode, body)
	}
	res, body = m.httpGet(t, "http://"+host+":8003/api/whoami")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), "databricks-apps") ||
		!strings.Contains(body, "TOKEN_MISSING") {
		t.Fatalf("sales-api in port form, without a token, from the participant's side: %d %v %s", res.StatusCode, res.Header, body)
	}

	s := &stack{url: app, ctx: browsertest.NewWith(t, 4*time.Minute, browserOpts...), secret: testkit.EmbedderSecret}
	// As in every e2e test: neither the browser nor serve's output and logs
	// may hold the service principal's secret or an all-apis token.
	s.watch = watchLeaks(t, s.ctx, s.secret, out, logs)
	seen := watchRequests(t, s.ctx)
	s.loginAs(t, testkit.Ada)
	s.wait(t, "the viewer list", `document.querySelectorAll('#viewers a[data-viewer]').length == 2`, 60*time.Second)
	if origin := s.eval(t, `location.origin`); origin != app {
		t.Fatalf("the page's origin is %s, want the trainer's %s", origin, app)
	}
	// The premise: Chromium treats the page as another machine's plain
	// http origin, as a room's http://192.168.x.y:3000 is; any loopback
	// address, 127.0.0.2 included, would be a secure context.
	if secure := s.eval(t, `String(window.isSecureContext)`); secure != "false" {
		t.Fatalf("the participant's page is a secure context (%s): the browser does not see another machine", secure)
	}

	regions := sampleCountries(t)
	s.open(t, "/?viewer=viewer-emea")
	emea := s.waitRoomFrame(t, seen, "viewer-emea", regions["EMEA"])
	if src := frameSrc(t, s); !strings.HasPrefix(src, workspace+"/") {
		t.Fatalf("the frame's src is %q: it should be the workspace on the room's host, %s", src, workspace)
	}
	// Switching viewers shows the second viewer's rows, from the same place.
	if err := s.click(`#viewers a[data-viewer="viewer-amer"]`); err != nil {
		t.Fatal(err)
	}
	amer := s.waitRoomFrame(t, seen, "viewer-amer", regions["AMER"])
	if src := frameSrc(t, s); !strings.HasPrefix(src, workspace+"/") {
		t.Fatalf("after the switch the frame's src is %q, want the workspace on %s", src, workspace)
	}
	if emea.Revenue == amer.Revenue {
		t.Fatalf("EMEA and AMER both show revenue %s", emea.Revenue)
	}
	shot := "room-across-a-network-namespace"
	if host != m.addr {
		shot = "room-by-host-name-across-a-network-namespace"
	}
	browsertest.Screenshot(t, s.ctx, shot)

	// Copy works on the room's plain http origin, where the browser has no
	// clipboard API: the inspector's "Copy token" copies AMER's token.
	s.eval(t, `(window.copiedText = null, document.addEventListener('copy', () => {
		const a = document.activeElement;
		window.copiedText = a && a.tagName === 'TEXTAREA' ? a.value.slice(a.selectionStart, a.selectionEnd) : String(getSelection());
	}, {once: true}), '')`)
	if err := s.click(`button.copy`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the copy button to say Copied, and keep the focus", `document.querySelector('button.copy').textContent === 'Copied' && typeof window.copiedText === 'string' &&
		document.activeElement === document.querySelector('button.copy')`, 10*time.Second)
	if _, c, err := claims.Decode(s.eval(t, `window.copiedText`)); err != nil || !strings.Contains(c.CustomClaim, "viewer-amer") {
		t.Fatalf("Copy token copied a token for %+v (%v), want AMER's", c, err)
	}

	// U2M: the browser goes to the workspace's sign-in page on the room's
	// host, and comes back to the app's room URL (the redirect URI a room
	// derives), signed in; a call to an app with that token answers.
	s.open(t, "/call-app")
	s.wait(t, "the sources", `!!document.getElementById('source-u2m')`, 30*time.Second)
	if err := s.click(`#source-u2m`); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the scope list", `!!document.getElementById('scope-sql')`, 20*time.Second)
	if err := chromedp.Do(s.ctx, chromedp.Click(chromedp.ID("scope-sql")), chromedp.Click(chromedp.ID("u2m-sign-in"))); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "the workspace's sign-in page on the room's host",
		`location.href.indexOf('`+workspace+`/oidc/v1/authorize') === 0 && !!document.getElementById('username')`, 30*time.Second)
	s.allowAtWorkspace(t, testkit.WorkspaceAda)
	s.wait(t, "back on the app's room URL, signed in", `location.origin === '`+app+`' && location.pathname === '/call-app' && !!document.getElementById('u2m-status')`, 30*time.Second)
	if err := s.click(`button[data-app="sales-sql"]`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "200"); !strings.Contains(got, "the app answered") {
		t.Errorf("u2m call to sales-sql in the room: %s", got)
	}

	// Every request the browser made went to the trainer's machine, by the
	// room's host.
	urls := seen.list()
	if len(urls) < 10 {
		t.Fatalf("the browser made only %d requests: is the request watch working? %v", len(urls), urls)
	}
	hosts := map[string]int{}
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "data" || p.Scheme == "blob" || p.Scheme == "about" {
			continue
		}
		hosts[p.Host]++
		if p.Hostname() != host {
			t.Errorf("the participant's browser requested %s: only the room's host %s reaches the trainer from a laptop", u, host)
		}
	}
	t.Logf("the browser made %d requests, to %v", len(urls), hosts)
}

// waitRoomFrame waits until the dashboard frame is ready on viewer, and
// checks that every row's country is one of countries, its region's.
func (s *stack) waitRoomFrame(t *testing.T, seen *requestWatch, viewer string, countries []string) frameState {
	t.Helper()
	var st frameState
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st = s.frame(t, mainFrame); ready(st) && st.Viewer == viewer && st.Rows > 0 {
			break
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(t, s.ctx, "failed-"+t.Name())
			t.Fatalf("%s's rows never showed in the frame (src %s); it shows %+v; the browser's failed requests: %q",
				viewer, frameSrc(t, s), st, seen.failures())
		}
	}
	rows, err := browsertest.FrameEval[[]string](s.ctx, mainFrame,
		`Array.from(document.querySelectorAll('[data-widget="top_countries"] tr[data-row]')).map(function(r){return r.cells[0].innerText.trim()})`)
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s's table rows: %v %v", viewer, rows, err)
	}
	for _, c := range rows {
		if !slices.Contains(countries, c) {
			t.Fatalf("%s's frame shows a row for %q, not one of its region's countries %v", viewer, c, countries)
		}
	}
	t.Logf("%s: %d rows of %v, total revenue %s", viewer, len(rows), countries, st.Revenue)
	return st
}

// frameSrc is the dashboard frame's src without its fragment, which holds
// the viewer's token.
func frameSrc(t *testing.T, s *stack) string {
	t.Helper()
	src, _, _ := strings.Cut(s.eval(t, `(document.querySelector('iframe[name="`+mainFrame+`"]')||{}).src||"(no frame)"`), "#")
	return src
}

// sampleCountries reads the demo data's countries by region (a viewer's
// external_value is its region) from the bundled sample database.
func sampleCountries(t *testing.T) map[string][]string {
	t.Helper()
	db, err := dashboard.OpenSampleDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT DISTINCT region, country FROM sales`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var r, c string
		if err := rows.Scan(&r, &c); err != nil {
			t.Fatal(err)
		}
		out[r] = append(out[r], c)
	}
	if err := rows.Err(); err != nil || len(out["EMEA"]) == 0 || len(out["AMER"]) == 0 {
		t.Fatalf("sample countries %v: %v", out, err)
	}
	return out
}

// requestWatch records the URL of every request the browser makes, and
// the ones that failed with why.
type requestWatch struct {
	mu     sync.Mutex
	urls   []string
	byID   map[network.RequestID]string
	failed []string
}

func watchRequests(t *testing.T, ctx context.Context) *requestWatch {
	t.Helper()
	w := &requestWatch{byID: map[network.RequestID]string{}}
	if err := chromedp.Listen(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			w.urls = append(w.urls, e.Request.URL)
			w.byID[e.RequestID] = e.Request.URL
		case *network.EventWebSocketCreated:
			w.urls = append(w.urls, e.URL)
		case *network.EventLoadingFailed:
			w.failed = append(w.failed, w.byID[e.RequestID]+": "+e.ErrorText)
		}
	}); err != nil {
		t.Fatalf("listen to the browser: %v", err)
	}
	return w
}

func (w *requestWatch) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.urls)
}

func (w *requestWatch) failures() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.failed)
}

// httpGet GETs u from the participant's side of the link, where the
// room's host name (when nameHost gave one) resolves to the trainer's
// address, as the room's DNS would resolve it; nothing else is mapped.
func (m *trainerMachine) httpGet(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, port, err := net.SplitHostPort(addr); err == nil && m.name != "" && h == m.name {
			addr = net.JoinHostPort(m.addr, port)
		}
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s from the participant's side: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	return res, string(b)
}

// trainerMachine is a network namespace linked to this one by a veth
// pair: addr is the trainer's address inside it, peer the participant's
// address here, name the host name that resolves to addr (nameHost), if
// any.
type trainerMachine struct {
	ns, link   string
	addr, peer string
	name       string
}

// netnsEtc holds the files `ip netns exec NS` bind-mounts over /etc/ for
// the namespace NS, each namespace in a folder of its own.
const netnsEtc = "/etc/netns"

// nameHost makes name resolve to the trainer's address on the trainer's
// machine, as the room's DNS would: a hosts file of its own in
// /etc/netns/<ns>/, which every command run there (serve) reads as
// /etc/hosts. The folder goes with the test.
func (m *trainerMachine) nameHost(t *testing.T, name string) {
	t.Helper()
	_, err := os.Stat(netnsEtc)
	madeEtc := errors.Is(err, os.ErrNotExist)
	dir := filepath.Join(netnsEtc, m.ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		netnsUnavailable(t, "cannot give the trainer's namespace a hosts file: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove the trainer's hosts file: %v", err)
		}
		if madeEtc {
			_ = os.Remove(netnsEtc) // only when empty: another namespace's stays
		}
	})
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + m.addr + "\t" + name + "\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	m.name = name
}

// netnsUnavailable skips the test, or fails it when EMBEDLAB_REQUIRE_NETNS=1
// (CI), so that a machine that cannot run it never passes silently.
func netnsUnavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("EMBEDLAB_REQUIRE_NETNS") == "1" {
		t.Fatalf("%s; EMBEDLAB_REQUIRE_NETNS=1, so this test may not be skipped", msg)
	}
	t.Skipf("%s: a second machine needs a network namespace (run as root with iproute2; EMBEDLAB_REQUIRE_NETNS=1 makes this a failure)", msg)
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func newTrainerMachine(t *testing.T) *trainerMachine {
	t.Helper()
	if runtime.GOOS != "linux" {
		netnsUnavailable(t, "network namespaces are Linux's")
	}
	if os.Geteuid() != 0 {
		netnsUnavailable(t, "not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		netnsUnavailable(t, "no ip command (iproute2)")
	}
	removeStaleNamespaces(t)
	pid := os.Getpid()
	m := &trainerMachine{ns: netnsPrefix + strconv.Itoa(pid), link: "elab" + strconv.Itoa(pid)}
	subnet, err := freeSubnet(pid)
	if err != nil {
		t.Fatal(err)
	}
	m.addr, m.peer = subnet+".1", subnet+".2"
	if err := ipCmd("netns", "add", m.ns); err != nil {
		netnsUnavailable(t, "cannot add a network namespace: %v", err)
	}
	t.Cleanup(func() {
		// Deleting the namespace deletes its end of the link, and with it
		// ours; the second command is for a namespace that failed halfway.
		if err := ipCmd("netns", "del", m.ns); err != nil {
			t.Errorf("remove the trainer's namespace: %v", err)
		}
		_ = ipCmd("link", "del", m.link)
	})
	for _, args := range [][]string{
		{"link", "add", m.link, "type", "veth", "peer", "name", "eth0", "netns", m.ns},
		{"addr", "add", m.peer + "/30", "dev", m.link},
		{"link", "set", m.link, "up"},
		{"-n", m.ns, "addr", "add", m.addr + "/30", "dev", "eth0"},
		{"-n", m.ns, "link", "set", "eth0", "up"},
		{"-n", m.ns, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			netnsUnavailable(t, "cannot link the trainer's namespace: %v", err)
		}
	}
	return m
}

// freeSubnet picks a /30 in 10.213.0.0/16 that no interface here uses,
// starting from one derived from pid.
func freeSubnet(pid int) (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for i := range 256 {
		n := (pid + i) % 256
		_, mine, _ := net.ParseCIDR(fmt.Sprintf("10.213.%d.0/24", n))
		used := false
		for _, a := range addrs {
			if ip, _, err := net.ParseCIDR(a.String()); err == nil && mine.Contains(ip) {
				used = true
			}
		}
		if !used {
			return fmt.Sprintf("10.213.%d", n), nil
		}
	}
	return "", errors.New("no free /24 in 10.213.0.0/16 for the trainer's link")
}

// removeStaleNamespaces deletes this test's namespaces whose test process
// is gone (killed by a timeout before its cleanup ran), the embedlab left
// running in them, and their folders in /etc/netns.
func removeStaleNamespaces(t *testing.T) {
	live := map[string]bool{} // namespaces, as ip netns list names them
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			live[name] = true
		}
	}
	names := maps.Clone(live)
	if entries, err := os.ReadDir(netnsEtc); err == nil {
		for _, e := range entries {
			names[e.Name()] = true
		}
	}
	for name := range names {
		pid, err := strconv.Atoi(strings.TrimPrefix(name, netnsPrefix))
		// One named for this process is stale too: its pid was reused.
		if !strings.HasPrefix(name, netnsPrefix) || err != nil || (pid != os.Getpid() && syscall.Kill(pid, 0) == nil) {
			continue
		}
		if live[name] {
			if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
				for _, p := range strings.Fields(string(pids)) {
					if n, err := strconv.Atoi(p); err == nil {
						_ = syscall.Kill(n, syscall.SIGKILL)
					}
				}
			}
			if err := ipCmd("netns", "del", name); err != nil {
				t.Logf("a stale namespace stays: %v", err)
			} else {
				t.Logf("removed the stale namespace %s", name)
			}
		}
		if dir := filepath.Join(netnsEtc, name); exists(dir) {
			if err := os.RemoveAll(dir); err != nil {
				t.Logf("a stale namespace's folder stays: %v", err)
			} else {
				t.Logf("removed the stale folder %s", dir)
			}
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// buildEmbedlab builds the embedlab command, as `make build` does.
func buildEmbedlab(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "embedlab")
	start := time.Now()
	// TestMain made the module root the working directory.
	if out, err := exec.Command(goTool, "build", "-o", bin, "./backend").CombinedOutput(); err != nil {
		t.Fatalf("go build ./backend: %v\n%s", err, out)
	}
	t.Logf("built embedlab in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// serve runs `embedlab serve` on the trainer's machine with env (and
// nothing of this process's environment but PATH), from the module root
// so it serves the built web/, and waits for its "app on" line. It returns
// the app's URL, serve's output and its log.
func (m *trainerMachine) serve(t *testing.T, bin string, env map[string]string) (string, *testkit.Buffer, *testkit.Buffer) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", m.ns, bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir, _ = os.Getwd()
	out, errs := &testkit.Buffer{}, &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = out, errs
	// ip netns exec execs embedlab in its place: the signals reach it, and
	// it dies with this test process even when no cleanup runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when embedlab has exited
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("embedlab serve did not stop 20 s after SIGTERM: killed")
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("embedlab serve's output:\n%s\n%s", out.String(), errs.String())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, line, ok := strings.Cut(out.String(), "embedlab: app on "); ok && strings.Contains(line, "\n") {
			return strings.Fields(line)[0], out, errs
		}
		select {
		case <-done:
			t.Fatalf("embedlab serve stopped on the trainer's machine: %v\n%s\n%s", waitErr, out.String(), errs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("embedlab serve did not start on the trainer's machine in 90 s:\n%s\n%s", out.String(), errs.String())
		}
	}
}
