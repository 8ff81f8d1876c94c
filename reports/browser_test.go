package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where screenshots are kept: $TEST_ARTIFACTS, else
// testdata/artifacts (gitignored).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// drawnJS reports, for every chart container, whether it holds a canvas
// with painted pixels or a non-empty svg.
const drawnJS = `(() => {
  const out = [];
  document.querySelectorAll('div.chart').forEach(el => {
    let ok = false;
    const c = el.querySelector('canvas');
    const s = el.querySelector('svg');
    if (c && c.width > 0 && c.height > 0) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) { ok = true; break; } }
    } else if (s && s.childElementCount > 0) { ok = true; }
    out.push(el.id + ':' + ok);
  });
  return out;
})()`

// TestBrowser opens reports in headless Chromium from file://.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing and CI is set: .ci/install-test-deps.sh must install the Debian package chromium", chromiumPath)
		}
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium; with CI set this test fails instead of skipping)", chromiumPath)
	}
	dir, _ := sharedSite(t)
	pages := []struct{ file, shot string }{
		{"standalone/departement-35-2025.html", "standalone-departement-35-2025.png"},
		{"2025-12/epci/200039022.html", "site-epci-200039022-2025-12.png"},
		{"2025-T4/comparaison/departement-35.html", "site-comparaison-departement-35-2025-T4.png"},
		{"2025/commune/35999.html", ""},
		{"index.html", ""},
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	for _, pg := range pages {
		t.Run(strings.ReplaceAll(pg.file, "/", "_"), func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(bctx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			var mu sync.Mutex
			var problems, requests []string
			err := chromedp.Listen(ctx, func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch ev := ev.(type) {
				case *runtime.EventConsoleAPICalled:
					if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
						var args []string
						for _, a := range ev.Args {
							args = append(args, string(a.Value)+a.Description)
						}
						problems = append(problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
					}
				case *runtime.EventExceptionThrown:
					problems = append(problems, "exception: "+ev.ExceptionDetails.Text+" "+fmt.Sprint(ev.ExceptionDetails.Exception))
				case *log.EventEntryAdded:
					if ev.Entry.Level == log.EntryLevelError {
						problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
					}
				case *network.EventRequestWillBeSent:
					requests = append(requests, ev.Request.URL)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			abs, err := filepath.Abs(filepath.Join(dir, pg.file))
			if err != nil {
				t.Fatal(err)
			}
			url := "file://" + filepath.ToSlash(abs)
			if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body"), chromedp.Sleep(700*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			nCharts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('div.chart').length`))
			if err != nil {
				t.Fatal(err)
			}
			drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](drawnJS))
			if err != nil {
				t.Fatal(err)
			}
			source, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			if err != nil {
				t.Fatal(err)
			}
			if pg.shot != "" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(artifactsDir(t), pg.shot)
				if err := os.WriteFile(out, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s", out)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range problems {
				t.Errorf("%s: %s", pg.file, p)
			}
			for _, r := range requests {
				if !strings.HasPrefix(r, "file://") && !strings.HasPrefix(r, "data:") {
					t.Errorf("%s: request leaves the page: %s", pg.file, r)
				}
			}
			if pg.file != "index.html" && nCharts == 0 {
				t.Errorf("%s: no chart", pg.file)
			}
			for _, d := range drawn {
				if !strings.HasSuffix(d, ":true") {
					t.Errorf("%s: chart not drawn: %s", pg.file, d)
				}
			}
			for _, s := range maskedSpellings {
				if strings.Contains(source, s) {
					t.Errorf("%s: masked value %q in the page source", pg.file, s)
				}
			}
			if strings.Contains(source, "<script>alert(1)") {
				t.Errorf("%s: unescaped commune name in the DOM", pg.file)
			}
		})
	}
}
