package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Event kinds.
const (
	EventRunFailed      = "run_failed"       // a recorded run failed (after its retries)
	EventJobFailed      = "job_failed"       // a scheduled job failed before it could record a run (warehouse held, config...)
	EventDataTestFailed = "data_test_failed" // data tests of error severity failed
	EventSourceLate     = "source_late"      // a source, or senders of it, late past the expected date
)

// Event is what a notification says: what failed, and where to look.
type Event struct {
	Kind    string    `json:"kind"`
	Text    string    `json:"text"` // the whole message in plain text (Slack/Mattermost show it)
	Summary string    `json:"summary"`
	Job     string    `json:"job,omitempty"`
	RunID   int64     `json:"run_id,omitempty"`
	Period  string    `json:"period,omitempty"`
	Trigger string    `json:"trigger,omitempty"`
	Error   string    `json:"error,omitempty"`
	Details []string  `json:"details,omitempty"`
	Look    []string  `json:"where_to_look,omitempty"`
	Host    string    `json:"host"`
	Time    time.Time `json:"time"`
}

// Format fills Text (and Host, Time when empty).
func (e *Event) Format() {
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[observatoire] %s\n", e.Summary)
	fmt.Fprintf(&b, "host %s, %s\n", e.Host, e.Time.Format("2006-01-02 15:04:05 MST"))
	if e.Job != "" {
		fmt.Fprintf(&b, "job: %s", e.Job)
		if e.RunID != 0 {
			fmt.Fprintf(&b, " (run %d)", e.RunID)
		}
		if e.Period != "" {
			fmt.Fprintf(&b, ", period %s", e.Period)
		}
		b.WriteString("\n")
	}
	if e.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", e.Error)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	if len(e.Look) > 0 {
		b.WriteString("where to look:\n")
		for _, l := range e.Look {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	e.Text = b.String()
}

// Notifier sends events to a shell command and/or a webhook.
type Notifier struct {
	Command  string         // run with sh -c; the text on stdin, the JSON in $OBSERVATOIRE_EVENT_JSON
	Webhook  string         // receives the JSON in a POST
	Timeout  time.Duration  // per delivery; 0 = 10s
	Client   *http.Client   // nil = http.DefaultClient
	Location *time.Location // time zone of the message's time; nil = local
	Log      *slog.Logger
}

// Enabled reports whether a notification would go anywhere.
func (n Notifier) Enabled() bool { return n.Command != "" || n.Webhook != "" }

// Notify delivers ev to the command and the webhook (both when both are
// set). A webhook delivery that fails in a way worth retrying is tried three
// times. The error joins every failed delivery; it is also logged, so callers
// may ignore it.
func (n Notifier) Notify(ctx context.Context, ev Event) error {
	if !n.Enabled() {
		return nil
	}
	if ev.Time.IsZero() && n.Location != nil {
		ev.Time = time.Now().In(n.Location)
	}
	ev.Format()
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	log := n.Log
	if log == nil {
		log = slog.Default()
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var errs []error
	if n.Command != "" {
		if err := n.runCommand(ctx, timeout, ev, body); err != nil {
			errs = append(errs, fmt.Errorf("notify command: %w", err))
		}
	}
	if n.Webhook != "" {
		err := Retry(ctx, Backoff{Attempts: 3, Initial: 500 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.2}, log,
			func(ctx context.Context) error { return n.post(ctx, timeout, body) })
		if err != nil {
			errs = append(errs, fmt.Errorf("notify webhook %s: %w", redactURL(n.Webhook), err))
		}
	}
	err = errors.Join(errs...)
	if err != nil {
		log.Error("notification not delivered", "kind", ev.Kind, "summary", ev.Summary, "err", err)
	} else {
		log.Info("notification sent", "kind", ev.Kind, "summary", ev.Summary)
	}
	return err
}

func (n Notifier) runCommand(ctx context.Context, timeout time.Duration, ev Event, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", n.Command)
	cmd.Stdin = strings.NewReader(ev.Text)
	cmd.Env = append(os.Environ(),
		"OBSERVATOIRE_EVENT="+ev.Kind,
		"OBSERVATOIRE_EVENT_JSON="+string(body),
		"OBSERVATOIRE_SUMMARY="+ev.Summary,
		"OBSERVATOIRE_JOB="+ev.Job,
		"OBSERVATOIRE_RUN_ID="+strconv.FormatInt(ev.RunID, 10),
	)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

type statusError struct {
	code int
	body string
}

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// Retryable: server errors and throttling are worth another try.
func (e statusError) Retryable() bool { return e.code >= 500 || e.code == http.StatusTooManyRequests }

func (n Notifier) post(ctx context.Context, timeout time.Duration, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "observatoire")
	c := n.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Transient(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return statusError{resp.StatusCode, strings.TrimSpace(string(msg))}
	}
	return nil
}

// redactURL keeps a webhook's secret path out of logs.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j] + "/..."
		}
	}
	return u
}
