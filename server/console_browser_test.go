package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/brokerd/brokerd/internal/brokerdtest"
	"github.com/brokerd/brokerd/server"
)

// chromium finds Debian's chromium. Without it the browser tests skip on
// a developer's machine and fail under CI (CI=true), which must install
// it (.ci/run does).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// tab's context. JavaScript exceptions fail the test.
func browser(t *testing.T) (context.Context, *requests) {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })

	reqs := &requests{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := fmt.Sprintf("%s (%s:%d)", d.Text, d.URL, d.LineNumber+1)
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			reqs.add("exception", text)
		case *network.EventRequestWillBeSent:
			auth, _ := e.Request.Headers["Authorization"].(string)
			reqs.add(e.Request.URL, auth)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, reqs
}

// requests records what the page asked for: URL → the Authorization sent.
type requests struct {
	mu   sync.Mutex
	urls []string
	auth []string
}

func (r *requests) add(url, auth string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.urls = append(r.urls, url)
	r.auth = append(r.auth, auth)
}

func (r *requests) each(fn func(url, auth string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.urls {
		fn(r.urls[i], r.auth[i])
	}
}

// screenshots go to $CONSOLE_SCREENSHOTS when set (to look at them), else
// to the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("CONSOLE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// into runs a value's action as a step, keeping the value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// attr keeps an attribute's value ("" when absent) in dst.
func attr(dst *string, a chromedp.Action[chromedp.AttributeResult]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v.Value
		return chromedp.Void{}, err
	}
}

// clear empties an input as a person would before typing.
func clear(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + string(q) + `).value = ""`)
}

func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("%s: %v\npage:\n%.4000s", step, err, body)
	}
}

const consoleKey = "console-key-0123456789abcdef"

func TestConsoleInABrowser(t *testing.T) {
	ctx, reqs := browser(t)
	b := brokerdtest.Start(t, brokerdtest.Options{
		Keys:      []server.APIKey{{Name: "operator", Key: consoleKey}},
		RateLimit: 10, RateBurst: 30,
		Latency: 150 * time.Millisecond,
	})
	shots := screenshotDir(t)

	// The key is asked for once, then kept for the tab.
	run(t, ctx, "open the console",
		chromedp.Navigate(b.URL+"/console"),
		chromedp.WaitVisible(chromedp.CSS("#key-dialog[open] #key-input")),
		chromedp.SendKeys(chromedp.CSS("#key-input"), consoleKey),
		chromedp.Click(chromedp.CSS("#key-save")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#terminals tr[data-terminal="sim"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#stream.s-live`)),
	)
	var stored string
	run(t, ctx, "the key is in sessionStorage", into(&stored, chromedp.Evaluate[string](`sessionStorage.getItem("brokerd.key")`)))
	if stored != consoleKey {
		t.Fatalf("sessionStorage holds %q", stored)
	}

	// A buy through the form, followed live: queued → running → success.
	var selected string
	run(t, ctx, "submit a buy",
		into(&selected, chromedp.Value(chromedp.CSS("#op-select"))),
		chromedp.SendKeys(chromedp.CSS("#param-stock_code"), "600000"),
		chromedp.SendKeys(chromedp.CSS("#param-price"), "10.50"),
		chromedp.SendKeys(chromedp.CSS("#param-quantity"), "100"),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS("#submit-result .status.s-success")),
	)
	if selected != "buy" {
		t.Fatalf("the form opens on %q, want buy", selected)
	}
	var buyID string
	run(t, ctx, "the buy's id", attr(&buyID, chromedp.AttributeValue(chromedp.CSS("#submit-result"), "data-op")))
	if buyID == "" {
		t.Fatal("no operation id shown")
	}
	for _, status := range []string{"queued", "running", "success"} {
		run(t, ctx, "event "+status, chromedp.WaitVisible(chromedp.CSS(`#events li[data-op="`+buyID+`"][data-status="`+status+`"]`)))
	}
	run(t, ctx, "the live queue shows it", chromedp.WaitVisible(chromedp.CSS(`#queue tr[data-op="`+buyID+`"][data-status="success"]`)))
	var successes int
	var resultText string
	run(t, ctx, "each event once",
		into(&successes, chromedp.Evaluate[int](`document.querySelectorAll('#events li[data-op="`+buyID+`"][data-status="success"]').length`)),
		into(&resultText, chromedp.Text(chromedp.CSS("#submit-result"))))
	if successes != 1 {
		t.Errorf("the success event is shown %d times", successes)
	}
	if strings.Contains(resultText, "null") || !strings.Contains(resultText, buyID) {
		t.Errorf("the submit's result reads %q", resultText)
	}
	screenshot(t, ctx, shots, "1-buy-success")

	// A bad request is shown at its fields, from the 422's data.
	var quantityErr, priceErr, invalid string
	run(t, ctx, "a 422 at the field",
		clear("#param-quantity"),
		chromedp.SendKeys(chromedp.CSS("#param-quantity"), "150"),
		clear("#param-price"),
		chromedp.SendKeys(chromedp.CSS("#param-price"), "0"),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS("#err-param-quantity")),
		into(&quantityErr, chromedp.Text(chromedp.CSS("#err-param-quantity"))),
		into(&priceErr, chromedp.Text(chromedp.CSS("#err-param-price"))),
		attr(&invalid, chromedp.AttributeValue(chromedp.CSS("#param-quantity"), "aria-invalid")),
	)
	if !strings.Contains(quantityErr, "100") || priceErr == "" || invalid != "true" {
		t.Fatalf("field errors: quantity %q, price %q, aria-invalid %q", quantityErr, priceErr, invalid)
	}
	screenshot(t, ctx, shots, "2-invalid-at-the-field")

	// Pause the lane, queue a buy, cancel it from the live queue, resume.
	run(t, ctx, "pause the lane",
		chromedp.Click(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="pause"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="resume"]`)),
		clear("#param-quantity"),
		chromedp.SendKeys(chromedp.CSS("#param-quantity"), "200"),
		clear("#param-price"),
		chromedp.SendKeys(chromedp.CSS("#param-price"), "10.40"),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS("#submit-result .status.s-queued")),
	)
	var heldID string
	run(t, ctx, "the held buy's id", attr(&heldID, chromedp.AttributeValue(chromedp.CSS("#submit-result"), "data-op")))
	if heldID == "" || heldID == buyID {
		t.Fatalf("held operation %q", heldID)
	}
	screenshot(t, ctx, shots, "3-paused-and-queued")
	run(t, ctx, "cancel it",
		chromedp.Click(chromedp.CSS(`#queue tr[data-op="`+heldID+`"] button[data-action="cancel"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue tr[data-op="`+heldID+`"][data-status="cancelled"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#events li[data-op="`+heldID+`"][data-status="cancelled"]`)),
		chromedp.Click(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="resume"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="pause"]`)),
	)
	op, err := b.Queue.Get(context.Background(), heldID)
	if err != nil || op.Status != "cancelled" {
		t.Fatalf("brokerd has the held buy as %v (%v)", op.Status, err)
	}
	if st := b.Queue.Stats(); st.Lanes[0].Paused {
		t.Fatal("the lane is still paused after Resume")
	}
	screenshot(t, ctx, shots, "4-cancelled-and-resumed")

	// The kill switch: a halted terminal refuses a buy from the form, and
	// lifting the halt lets the next one through.
	var refusal, why string
	run(t, ctx, "halt the terminal",
		chromedp.Click(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="halt"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="lift-halt"]`)),
		into(&why, chromedp.Text(chromedp.CSS(`#terminals tr[data-terminal="sim"] td.why`))),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.Steps(func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](`document.querySelector("#submit-error").textContent.includes("risk_limit")`)(ctx, t)
			return chromedp.Void{}, err
		}),
		into(&refusal, chromedp.Text(chromedp.CSS("#submit-error"))),
	)
	if !strings.Contains(why, "halted by the kill switch") || !strings.Contains(refusal, "risk_limit") {
		t.Fatalf("halted lane shows %q, the refused buy %q", why, refusal)
	}
	if _, halted := b.Risk.Halted("sim"); !halted {
		t.Fatal("brokerd is not halted after the console's halt")
	}
	screenshot(t, ctx, shots, "4b-halted")
	run(t, ctx, "lift the halt",
		chromedp.Click(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="lift-halt"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#terminals tr[data-terminal="sim"] button[data-action="halt"]`)),
	)
	if _, halted := b.Risk.Halted("sim"); halted {
		t.Fatal("brokerd is still halted after the console lifted it")
	}

	// One operation's story: timings, result and its params from the journal.
	var story string
	run(t, ctx, "the buy's story",
		chromedp.Navigate(b.URL+"/console/#op/"+buyID),
		chromedp.WaitVisible(chromedp.CSS(`#page-op #story dl`)),
		chromedp.WaitVisible(chromedp.CSS(`#story .s-success`)),
		chromedp.Steps(func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](`document.querySelector("#story").textContent.includes("stock_code")`)(ctx, t)
			return chromedp.Void{}, err
		}),
		into(&story, chromedp.Text(chromedp.CSS("#story"))),
	)
	for _, want := range []string{"buy", "600000", "waited", "ran", "成功提交"} {
		if !strings.Contains(story, want) {
			t.Errorf("the story lacks %q:\n%s", want, story)
		}
	}
	screenshot(t, ctx, shots, "5-story")

	// History with a filter, and the account through read operations.
	run(t, ctx, "history",
		chromedp.Click(chromedp.CSS(`nav a[data-page="history"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history tr[data-op="`+buyID+`"]`)),
		chromedp.SetValue(chromedp.CSS("#h-status"), "cancelled"),
		chromedp.Click(chromedp.CSS(`#history-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history tr[data-op="`+heldID+`"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#history tr[data-op="`+buyID+`"]`)),
	)
	screenshot(t, ctx, shots, "6-history")
	var holdings string
	run(t, ctx, "account",
		chromedp.Click(chromedp.CSS(`nav a[data-page="account"]`)),
		chromedp.Click(chromedp.CSS("#account-load")),
		chromedp.WaitVisible(chromedp.CSS("#account-holdings table")),
		chromedp.WaitVisible(chromedp.CSS("#account-funds dl")),
		chromedp.WaitVisible(chromedp.CSS("#account-orders table")),
		into(&holdings, chromedp.Text(chromedp.CSS("#account-holdings"))),
	)
	if !strings.Contains(holdings, "600000") || !strings.Contains(holdings, "1100") {
		t.Fatalf("holdings after buying 100 over 1000: %s", holdings)
	}
	screenshot(t, ctx, shots, "7-account")

	// Readable in a narrow window.
	run(t, ctx, "narrow", chromedp.EmulateViewport(420, 900), chromedp.Navigate(b.URL+"/console/#overview"),
		chromedp.WaitVisible(chromedp.CSS(`#stream.s-live`)))
	var overflow bool
	run(t, ctx, "no sideways scrolling", into(&overflow, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)))
	if overflow {
		t.Error("the page scrolls sideways at 420px")
	}
	screenshot(t, ctx, shots, "8-narrow")

	// The key went in headers only; /events was read with it.
	eventsWithKey := false
	reqs.each(func(url, auth string) {
		if url == "exception" {
			t.Errorf("JavaScript exception: %s", auth)
			return
		}
		if strings.Contains(url, consoleKey) {
			t.Errorf("the key is in a URL: %s", url)
		}
		if strings.HasSuffix(url, "/api/v1/events") && auth == "Bearer "+consoleKey {
			eventsWithKey = true
		}
	})
	if !eventsWithKey {
		t.Error("the event stream was not read with the key in its Authorization header")
	}
	t.Logf("screenshots in %s", shots)
}

// Without keys (loopback only) the console asks for nothing.
func TestConsoleWithoutKey(t *testing.T) {
	ctx, reqs := browser(t)
	b := brokerdtest.Start(t, brokerdtest.Options{})
	var dialogOpen bool
	run(t, ctx, "open the console",
		chromedp.Navigate(b.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#stream.s-live`)),
		into(&dialogOpen, chromedp.Evaluate[bool](`document.querySelector("#key-dialog").open`)),
		// A query through the form: choose it as a person would.
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#op-select"); s.value = "funds_query"; s.dispatchEvent(new Event("change")); })()`),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS("#submit-result .status.s-success")),
	)
	if dialogOpen {
		t.Error("the console asked for a key that brokerd does not need")
	}
	reqs.each(func(url, auth string) {
		if url == "exception" {
			t.Errorf("JavaScript exception: %s", auth)
		} else if auth != "" {
			t.Errorf("%s sent an Authorization header without a key", url)
		}
	})
}
