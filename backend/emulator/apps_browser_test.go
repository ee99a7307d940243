package emulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"embedlab/backend/browsertest"
	"embedlab/backend/emulator"
	"embedlab/backend/testkit"
)

// In Chromium: an app opened without a session sends the browser to the
// workspace's login and consent page; signing in there brings it back to
// the app, signed in, with the user's token forwarded to an app with user
// authorization. It also checks what only a browser enforces: the page's
// CSP lets its stylesheet and the cross-origin redirect after the form
// through, and *.localhost app URLs resolve.
func TestAppsBrowserSignInChromium(t *testing.T) {
	em := testkit.Emulator(t, emulator.Options{AppsAddr: "127.0.0.1:0"})
	ctx := browsertest.New(t, browserTimeout)
	bounded := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 15*time.Second) }
	fail := func(what string, err error) {
		t.Helper()
		browsertest.Screenshot(t, ctx, "emulator-apps-signin-failed")
		t.Fatalf("%s: %v", what, err)
	}
	read := func(a chromedp.Action[string]) string {
		t.Helper()
		sctx, cancel := bounded()
		defer cancel()
		v, err := chromedp.Run(sctx, a)
		if err != nil {
			fail("read the page", err)
		}
		return v
	}

	sctx, cancel := bounded()
	err := chromedp.Do(sctx, chromedp.Navigate(em.AppURL("sales-sql")+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="authorize"] #username`)))
	cancel()
	if err != nil {
		fail("open the app", err)
	}
	if loginURL := read(chromedp.Location()); !strings.HasPrefix(loginURL, em.URL()+"/oidc/v1/authorize?") || !strings.Contains(loginURL, "client_id=databricks-apps-sales-sql") {
		t.Fatalf("login page at %s", loginURL)
	}
	if c := read(chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#allow")).backgroundColor`)); c != "rgb(31, 111, 235)" {
		t.Errorf("the page's stylesheet was not applied (CSP hash?): Allow is %q", c)
	}
	browsertest.Screenshot(t, ctx, "emulator-login-consent")

	sctx, cancel = bounded()
	err = chromedp.Do(sctx, chromedp.SendKeys(chromedp.CSS("#username"), testkit.WorkspaceAda.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), testkit.WorkspaceAda.Password),
		chromedp.Click(chromedp.CSS("#allow")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="app-index"] #signed-in`)))
	cancel()
	if err != nil {
		fail("sign in", err)
	}
	if signedIn, at := read(chromedp.Text(chromedp.CSS("#signed-in"))), read(chromedp.Location()); !strings.Contains(signedIn, "Ada Lovelace") || at != em.AppURL("sales-sql")+"/" {
		t.Fatalf("after sign-in: %q at %s", signedIn, at)
	}

	sctx, cancel = bounded()
	err = chromedp.Do(sctx, chromedp.Navigate(em.AppURL("sales-sql")+"/api/whoami"))
	cancel()
	if err != nil {
		fail("call the API", err)
	}
	if who := read(chromedp.Text(chromedp.CSS("body"))); !strings.Contains(who, `"x_forwarded_email":"`+testkit.WorkspaceAda.Email+`"`) || !strings.Contains(who, `"access_token_forwarded":true`) {
		t.Fatalf("whoami in the browser: %s", who)
	}
}
