package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// NewWith's extra options reach Chromium: a name that no resolver knows
// opens, because the browser was told where it is.
func TestNewWithPassesFlagsToChromium(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "served to %s", r.Host)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	const name = "embedlab-browsertest.internal"
	ctx := NewWith(t, time.Minute, chromedp.Flag("host-resolver-rules", "MAP "+name+" 127.0.0.1"))
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+name+":"+port+"/")); err != nil {
		t.Fatalf("open http://%s:%s/ with the name mapped to 127.0.0.1: %v", name, port, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "served to " + name + ":" + port; text != want {
		t.Fatalf("the page says %q, want %q", text, want)
	}
}
