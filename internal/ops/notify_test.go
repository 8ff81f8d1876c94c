package ops

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func failedRunEvent() Event {
	return Event{
		Kind: EventRunFailed, Summary: "job nightly failed", Job: "nightly", RunID: 42, Trigger: "schedule",
		Error:   "transform: models failed",
		Details: []string{"mart.coverage: test not_null_value (error): 3 rows"},
		Look:    []string{"observatoire runs --job nightly", "journalctl -u observatoire"},
	}
}

// The webhook gets a JSON POST saying what failed and where to look; a
// server error is retried.
func TestNotifyWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s", r.Method, r.Header.Get("Content-Type"))
		}
		if calls == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
	}))
	defer srv.Close()
	log, _ := testLogger()
	n := Notifier{Webhook: srv.URL + "/hooks/secret", Log: log}
	if err := n.Notify(context.Background(), failedRunEvent()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || len(bodies) != 1 {
		t.Fatalf("calls %d, bodies %d", calls, len(bodies))
	}
	var ev Event
	if err := json.Unmarshal(bodies[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Kind != EventRunFailed || ev.Job != "nightly" || ev.RunID != 42 || ev.Error != "transform: models failed" ||
		len(ev.Look) != 2 || ev.Host == "" || ev.Time.IsZero() {
		t.Fatalf("event = %+v", ev)
	}
	for _, want := range []string{"job nightly failed", "run 42", "mart.coverage", "where to look", "observatoire runs --job nightly"} {
		if !strings.Contains(ev.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, ev.Text)
		}
	}
}

func TestNotifyWebhookRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	defer srv.Close()
	log, buf := testLogger()
	err := Notifier{Webhook: srv.URL + "/hooks/secret-token", Log: log}.Notify(context.Background(), failedRunEvent())
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(buf.String(), "secret-token") || strings.Contains(err.Error(), "secret-token") {
		t.Fatal("webhook path (a secret) leaked into logs")
	}
}

// The command gets the text on stdin and the event in its environment.
func TestNotifyCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mail.txt")
	env := filepath.Join(dir, "event.json")
	log, _ := testLogger()
	n := Notifier{Command: `cat > ` + out + ` && printf '%s' "$OBSERVATOIRE_EVENT_JSON" > ` + env + ` && test "$OBSERVATOIRE_EVENT" = run_failed`, Log: log}
	if err := n.Notify(context.Background(), failedRunEvent()); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(out)
	if !strings.Contains(string(text), "job nightly failed") || !strings.Contains(string(text), "journalctl -u observatoire") {
		t.Fatalf("stdin = %q", text)
	}
	var ev Event
	b, _ := os.ReadFile(env)
	if err := json.Unmarshal(b, &ev); err != nil || ev.RunID != 42 {
		t.Fatalf("env JSON %q: %v", b, err)
	}

	err := Notifier{Command: "echo 'mail server down' >&2; exit 3", Log: log}.Notify(context.Background(), failedRunEvent())
	if err == nil || !strings.Contains(err.Error(), "mail server down") {
		t.Fatalf("failing command: %v", err)
	}
	start := time.Now()
	err = Notifier{Command: "sleep 30", Timeout: 200 * time.Millisecond, Log: log}.Notify(context.Background(), failedRunEvent())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("hung command: %v after %s", err, time.Since(start))
	}
}

func TestNotifyBoth(t *testing.T) {
	got := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- struct{}{} }))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "x")
	log, _ := testLogger()
	if err := (Notifier{Command: "cat > " + out, Webhook: srv.URL, Log: log}).Notify(context.Background(), failedRunEvent()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	default:
		t.Fatal("webhook not called")
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal("command not run")
	}
	if (Notifier{}).Enabled() || (Notifier{}).Notify(context.Background(), failedRunEvent()) != nil {
		t.Fatal("empty notifier")
	}
}
