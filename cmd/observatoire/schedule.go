package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/config"
	"github.com/rpe-observatoire/observatoire/internal/ops"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func init() {
	extraCommands = append(extraCommands, newScheduleCmd)
}

// jobCommands maps a [[schedule.jobs]] command to the command line it runs.
var jobCommands = map[string][]string{
	"ingest-inbox": {"ingest", "--inbox"},
	"transform":    {"transform"},
	"report":       {"report"},
	"run":          {"run"},
	"freshness":    {"status", "--notify"},
}

func newScheduleCmd(a *app) *cobra.Command {
	var list bool
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the configured jobs on their cron specs until stopped (what the service runs)",
		Long: `schedule runs the jobs of the config file's [[schedule.jobs]] tables on their
cron specs (time zone schedule.time_zone, Europe/Paris by default; a spec may
start with CRON_TZ=Area/City). Each job runs in this process exactly as the
command of the same name would (ingest-inbox = 'ingest --inbox', transform,
report, run, freshness = 'status --notify'), takes the writer lock, and is
recorded in meta.run under its job name.

A job whose previous run is still going is skipped; a panicking job is
recovered and the next tick runs. Failures worth retrying (the warehouse held
by another run, transient I/O) are retried with backoff (schedule.retries,
schedule.retry_backoff). A failed run, a failed data test of error severity
and a late source are notified (notify.command, notify.webhook).

SIGTERM or SIGINT: no new job starts; the running one is cancelled, its
current transaction rolls back (published reports stay as they were), its
run is recorded as interrupted, and schedule exits. A second signal kills.`,
		Example: `  observatoire schedule --list      # check the jobs and print their next times
  observatoire schedule --config /etc/observatoire/observatoire.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc, err := ops.LoadLocation(a.cfg.Schedule.TimeZone)
			if err != nil {
				return fmt.Errorf("schedule.time_zone: %w", err)
			}
			jobs, err := a.scheduledJobs()
			if err != nil {
				return err
			}
			if err := ops.Validate(jobs); err != nil {
				return err
			}
			if list {
				return a.printSchedule(cmd, loc, time.Now())
			}
			s := &ops.Scheduler{
				Location: loc,
				Log:      a.log,
				Retry: ops.Backoff{Attempts: 1 + max(0, a.cfg.Schedule.Retries), Initial: a.cfg.Schedule.RetryBackoff,
					Max: a.cfg.Schedule.RetryMaxBackoff, Jitter: 0.2},
				Timeout:   a.cfg.Schedule.JobTimeout,
				OnFailure: a.jobFailed,
			}
			a.log.Info("schedule started", "pid", os.Getpid(), "jobs", len(jobs), "time_zone", loc.String(),
				"warehouse", a.cfg.Warehouse.Path, "notify", a.notifier().Enabled())
			return s.Run(cmd.Context(), jobs)
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "check the jobs, print them with their next times, and exit")
	return cmd
}

// scheduledJobs turns the config's jobs into scheduler jobs; each runs its
// command in-process through a fresh command tree, with this process's
// global flags, exactly as typed by hand.
func (a *app) scheduledJobs() ([]ops.Job, error) {
	var jobs []ops.Job
	var errs []error
	for _, j := range a.cfg.Schedule.Jobs {
		args, err := jobArgs(j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		jobs = append(jobs, ops.Job{Name: j.Name, Spec: j.Spec, Run: a.jobRunner(j.Name, args)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return jobs, nil
}

// jobArgs is the command line of a job; unknown commands and flags are
// refused when schedule starts, not at the first tick.
func jobArgs(j config.Job) ([]string, error) {
	base, ok := jobCommands[j.Command]
	if !ok {
		return nil, fmt.Errorf("job %q: command %q: want one of ingest-inbox, transform, report, run, freshness", j.Name, j.Command)
	}
	args := append(append([]string(nil), base...), j.Args...)
	root := newRootCmd()
	c, rest, err := root.Find(args)
	if err == nil {
		err = c.ParseFlags(rest)
	}
	if err != nil {
		return nil, fmt.Errorf("job %q: %s: %w", j.Name, strings.Join(args, " "), err)
	}
	return args, nil
}

// globalArgs repeats the root flags this process was given.
func (a *app) globalArgs() []string {
	var args []string
	if a.configPath != "" {
		args = append(args, "--config", a.configPath)
	}
	if a.warehouse != "" {
		args = append(args, "--warehouse", a.warehouse)
	}
	if a.memoryLimit != "" {
		args = append(args, "--memory-limit", a.memoryLimit)
	}
	if a.threads > 0 {
		args = append(args, "--threads", fmt.Sprint(a.threads))
	}
	return append(args, "--log-level", a.logLevel)
}

func (a *app) jobRunner(name string, args []string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		out := &lineLogger{log: a.log.With("job", name)}
		defer out.Flush()
		root := newRootCmd()
		root.SetOut(out)
		root.SetErr(out)
		root.SetArgs(append(a.globalArgs(), args...))
		return root.ExecuteContext(ctx)
	}
}

// lineLogger logs what a job prints, a line at a time.
type lineLogger struct {
	mu  sync.Mutex
	log *slog.Logger
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: keep it for later
			return len(p), nil
		}
		if s := strings.TrimRight(line, "\r\n"); s != "" {
			l.log.Info(s)
		}
	}
}

func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := strings.TrimSpace(l.buf.String()); s != "" {
		l.log.Info(s)
	}
	l.buf.Reset()
}

func (a *app) printSchedule(cmd *cobra.Command, loc *time.Location, now time.Time) error {
	t := table{header: []string{"JOB", "SPEC", "RUNS", fmt.Sprintf("NEXT (%s)", loc)}}
	for _, j := range a.cfg.Schedule.Jobs {
		next, err := ops.Next(j.Spec, loc, now, 3)
		if err != nil {
			return err
		}
		args, _ := jobArgs(j)
		t.add(j.Name, j.Spec, "observatoire "+strings.Join(args, " "), formatTimes(next, loc))
	}
	return t.write(cmd.OutOrStdout(), "")
}

func formatTimes(ts []time.Time, loc *time.Location) string {
	layout := "Mon 2006-01-02 15:04 MST"
	for _, t := range ts {
		if t.Second() != 0 {
			layout = "Mon 2006-01-02 15:04:05 MST"
		}
	}
	var s []string
	for _, t := range ts {
		s = append(s, t.In(loc).Format(layout))
	}
	return strings.Join(s, ", ")
}

func (a *app) notifier() ops.Notifier {
	return ops.Notifier{Command: a.cfg.Notify.Command, Webhook: a.cfg.Notify.Webhook, Timeout: a.cfg.Notify.Timeout,
		Location: a.location(), Log: a.log}
}

// notifyRun notifies a recorded run's failure, or its failed data tests of
// error severity, and reports whether it did. A run interrupted by a signal,
// or whose failure is about to be retried, is not notified.
func (a *app) notifyRun(ctx context.Context, db *sql.DB, start warehouse.RunStart, run *warehouse.Run, runErr error) bool {
	n := a.notifier()
	if !n.Enabled() {
		return false
	}
	if runErr != nil && (warehouse.StatusOf(runErr) == warehouse.StatusInterrupted || ops.WillRetry(ctx, runErr)) {
		return false
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	tests, err := ops.ErrorTestFailures(qctx, db, run.ID)
	if err != nil {
		a.log.Warn("could not read the failed data tests", "run", run.ID, "err", err)
	}
	if runErr == nil && len(tests) == 0 {
		return false
	}
	ev := ops.Event{Kind: ops.EventRunFailed, Job: start.Job, RunID: run.ID, Period: start.Period, Trigger: start.Trigger,
		Summary: fmt.Sprintf("%s failed (run %d, %s)", start.Job, run.ID, start.Trigger)}
	if runErr != nil {
		ev.Error = runErr.Error()
	}
	if len(tests) > 0 {
		ev.Kind = ops.EventDataTestFailed
		ev.Summary = fmt.Sprintf("%d data test(s) of error severity failed in %s (run %d, %s)", len(tests), start.Job, run.ID, start.Trigger)
		for _, t := range tests {
			ev.Details = append(ev.Details, fmt.Sprintf("%s: test %s, %d failing row(s) kept", t.Model, t.Test, t.Rows))
		}
	}
	ev.Details = append(ev.Details, fmt.Sprintf("rows read %d, loaded %d, quarantined %d; data tests failed %d",
		run.RowsIn, run.RowsOut, run.Quarantined, run.TestsKO))
	ev.Look = a.whereToLook(start.Job, start.Command, run.ID, len(tests) > 0)
	n.Notify(qctx, ev)
	return true
}

// jobFailed is the scheduler's OnFailure: a job failed for good (after its
// retries) without its run being notified, e.g. because it never got the
// warehouse.
func (a *app) jobFailed(ctx context.Context, job string, err error) {
	if ops.AlreadyNotified(err) || errors.Is(err, context.Canceled) {
		return
	}
	command := ""
	for _, j := range a.cfg.Schedule.Jobs {
		if j.Name == job {
			command = j.Command
		}
	}
	ev := ops.Event{Kind: ops.EventJobFailed, Job: job, Trigger: "schedule", Error: err.Error(),
		Summary: fmt.Sprintf("scheduled job %s failed before recording a run", job), Look: a.whereToLook(job, command, 0, false)}
	var rec *ops.RecordedError
	var le *warehouse.LockedError
	switch {
	case errors.As(err, &rec):
		ev.Kind, ev.RunID = ops.EventRunFailed, rec.RunID
		ev.Summary = fmt.Sprintf("%s failed (run %d, schedule)", job, rec.RunID)
		ev.Look = a.whereToLook(job, command, rec.RunID, false)
	case errors.As(err, &le):
		ev.Summary = fmt.Sprintf("scheduled job %s did not run: the warehouse stayed held by %s through %d attempts",
			job, le.Holder, 1+a.cfg.Schedule.Retries)
	}
	a.notifier().Notify(ctx, ev)
}

func (a *app) whereToLook(job, command string, runID int64, tests bool) []string {
	abs := func(p string) string {
		if q, err := filepath.Abs(p); err == nil {
			return q
		}
		return p
	}
	look := []string{
		fmt.Sprintf("observatoire runs --job %s   (run history, errors)", job),
		"observatoire status   (last run per job, who holds the warehouse, late sources)",
	}
	if runID != 0 {
		look = append(look, fmt.Sprintf("meta.run where run_id = %d, in %s", runID, abs(a.cfg.Warehouse.Path)))
	}
	if tests {
		look = append(look, fmt.Sprintf("failing rows: SELECT * FROM meta.test_failure WHERE run_id = %d", runID))
	}
	if strings.HasPrefix(command, "ingest") || command == "run" {
		look = append(look, "rejected rows: meta.quarantine; refused files: rejected/ beside the inbox "+abs(a.cfg.Ingest.Inbox))
	}
	if os.Getenv("INVOCATION_ID") != "" {
		look = append(look, fmt.Sprintf("log: journalctl _PID=%d", os.Getpid()))
	} else {
		look = append(look, fmt.Sprintf("log: standard error of pid %d", os.Getpid()))
	}
	if command == "run" || command == "report" {
		look = append(look, "the published reports are unchanged since the last successful run: "+abs(a.cfg.Reports.OutDir))
	}
	return look
}
