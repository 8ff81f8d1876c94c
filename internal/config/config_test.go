package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	docPath  = "../../docs/operations.md"
	docBegin = "<!-- BEGIN config.Docs() -->\n"
	docEnd   = "<!-- END config.Docs() -->"
)

// TestOperationsDocTable fails when the key table of docs/operations.md
// differs from the spec; `go generate ./internal/config` (which runs it with
// OBSERVATOIRE_UPDATE_DOCS=1) rewrites it.
func TestOperationsDocTable(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: markers %q ... %q not found", docPath, docBegin, docEnd)
	}
	i += len(docBegin)
	if want := Docs(); doc[i:j] != want {
		if os.Getenv("OBSERVATOIRE_UPDATE_DOCS") == "1" {
			if err := os.WriteFile(docPath, []byte(doc[:i]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the key table of %s", docPath)
			return
		}
		t.Fatalf("the key table of %s differs from config.Docs(): run 'go generate ./internal/config'", docPath)
	}
}

// Every key is documented; every leaf has a default or says why not.
func TestEveryKeyDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if strings.TrimSpace(k.Doc) == "" {
			t.Errorf("key %s has no doc", k.Name)
		}
		if seen[k.Name] {
			t.Errorf("key %s twice", k.Name)
		}
		seen[k.Name] = true
		if k.Env != "" && !strings.HasPrefix(k.Env, "OBSERVATOIRE_") {
			t.Errorf("key %s: environment variable %s lacks the OBSERVATOIRE_ prefix", k.Name, k.Env)
		}
	}
	for _, want := range []string{"schedule.jobs[].spec", "freshness.sources[].due_days", "notify.webhook", "schedule.retries"} {
		if !seen[want] {
			t.Errorf("key %s not listed", want)
		}
	}
}

func TestLoadScheduleNotifyFreshness(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule.TimeZone != "Europe/Paris" || c.Schedule.Retries != 3 || c.Schedule.RetryBackoff != time.Minute ||
		c.Schedule.JobTimeout != 6*time.Hour || c.Notify.Timeout != 10*time.Second {
		t.Fatalf("defaults: %+v %+v", c.Schedule, c.Notify)
	}
	if len(c.Freshness.Sources) != len(DefaultExpectations) {
		t.Fatalf("default calendar: %+v", c.Freshness.Sources)
	}

	path := filepath.Join(t.TempDir(), "o.toml")
	os.WriteFile(path, []byte(`
[schedule]
retries = 1
[[schedule.jobs]]
name = "nightly"
spec = "CRON_TZ=UTC 0 3 * * *"
command = "run"
args = ["--inbox"]
[notify]
webhook = "http://localhost:9/hook"
[[freshness.sources]]
source = "rpe_activity"
every = "month"
due_days = 10
`), 0o644)
	t.Setenv("OBSERVATOIRE_RETRY_BACKOFF", "5s")
	c, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule.Retries != 1 || c.Schedule.RetryBackoff != 5*time.Second || len(c.Schedule.Jobs) != 1 ||
		c.Schedule.Jobs[0].Args[0] != "--inbox" || c.Notify.Webhook != "http://localhost:9/hook" {
		t.Fatalf("file: %+v %+v", c.Schedule, c.Notify)
	}
	if len(c.Freshness.Sources) != 1 || c.Freshness.Sources[0] != (Expect{Source: "rpe_activity", Every: "month", DueDays: 10}) {
		t.Fatalf("freshness: %+v", c.Freshness.Sources)
	}

	// An explicitly empty calendar expects nothing.
	os.WriteFile(path, []byte("[freshness]\nsources = []\n"), 0o644)
	if c, err = Load(path); err != nil || len(c.Freshness.Sources) != 0 {
		t.Fatalf("empty calendar: %+v %v", c.Freshness.Sources, err)
	}
	// Typos are errors.
	os.WriteFile(path, []byte("[[schedule.jobs]]\nname = \"x\"\nspecs = \"0 6 * * *\"\n"), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "specs") {
		t.Fatalf("unknown key: %v", err)
	}
}
