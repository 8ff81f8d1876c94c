package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTimeZone is where the cron specs are read when the config names none.
const DefaultTimeZone = "Europe/Paris"

// SpecParser reads the cron specs of the config: 5 fields, or 6 with a
// leading seconds field, @daily-style descriptors, and an optional
// CRON_TZ=Area/City (or TZ=) prefix.
var SpecParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// LoadLocation is time.LoadLocation with the default time zone for "".
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// NewCron is the observatory's cron: specs read in loc, logged through log,
// every job wrapped by SkipIfStillRunning then Recover. The order matters:
// Recover is the inner wrapper, so a panicking job is recovered inside
// SkipIfStillRunning, which gets its token back and lets the next tick run.
func NewCron(loc *time.Location, log *slog.Logger, opts ...cron.Option) *cron.Cron {
	l := SlogLogger(log)
	base := []cron.Option{
		cron.WithLocation(loc),
		cron.WithParser(SpecParser),
		cron.WithLogger(l),
		cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)),
	}
	return cron.New(append(base, opts...)...)
}

// SlogLogger adapts a slog.Logger to cron.Logger. Cron's routine messages
// (schedule, wake, run) go to Debug, skips to Warn, errors and recovered
// panics to Error.
func SlogLogger(log *slog.Logger) cron.Logger {
	if log == nil {
		log = slog.Default()
	}
	return cronLogger{log.With("component", "cron")}
}

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level, msg = slog.LevelWarn, "skipped: the previous run of this job is still going"
	}
	c.l.Log(context.Background(), level, msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append([]any{"err", err}, kv...)...)
}

// Job is one scheduled job.
type Job struct {
	Name string
	Spec string
	// Run does the work; it must honour ctx (cancelled on SIGTERM and at the
	// job timeout). ctx carries the attempt (AttemptFrom) and the job name
	// (JobFrom).
	Run func(ctx context.Context) error
}

// Scheduler runs jobs on their cron specs until its context ends.
type Scheduler struct {
	Location *time.Location // nil: DefaultTimeZone
	Log      *slog.Logger
	Retry    Backoff       // retries of failures worth retrying (IsRetryable)
	Timeout  time.Duration // per job run, retries included; 0 = none
	// OnFailure is called once a job run has failed for good (after its
	// retries), or panicked, with a context that is not cancelled.
	OnFailure func(ctx context.Context, job string, err error)
	// CronOptions are added to NewCron's (tests use cron.WithSeconds).
	CronOptions []cron.Option
}

// Validate checks that every job has a unique name, a spec that parses and a
// Run function.
func Validate(jobs []Job) error {
	if len(jobs) == 0 {
		return errors.New("no job to schedule: add [[schedule.jobs]] tables to the config file (see docs/operations.md)")
	}
	seen := map[string]bool{}
	var errs []error
	for i, j := range jobs {
		switch {
		case j.Name == "":
			errs = append(errs, fmt.Errorf("job %d: no name", i+1))
		case seen[j.Name]:
			errs = append(errs, fmt.Errorf("job %q: name used twice", j.Name))
		}
		seen[j.Name] = true
		if _, err := SpecParser.Parse(j.Spec); err != nil {
			errs = append(errs, fmt.Errorf("job %q: spec %q: %w", j.Name, j.Spec, err))
		}
		if j.Run == nil {
			errs = append(errs, fmt.Errorf("job %q: nothing to run", j.Name))
		}
	}
	return errors.Join(errs...)
}

// Next returns the n next times of spec after now, read in loc unless the
// spec has its own CRON_TZ.
func Next(spec string, loc *time.Location, now time.Time, n int) ([]time.Time, error) {
	s, err := SpecParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.Local
	}
	t := now.In(loc)
	var out []time.Time
	for range n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out, nil
}

// Run starts the jobs and blocks until ctx ends; then it stops the cron
// (no job starts any more) and waits for the running jobs, whose context is
// ctx too: their current transaction finishes or rolls back.
func (s *Scheduler) Run(ctx context.Context, jobs []Job) error {
	if err := Validate(jobs); err != nil {
		return err
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	loc := s.Location
	if loc == nil {
		var err error
		if loc, err = LoadLocation(""); err != nil {
			return err
		}
	}
	c := NewCron(loc, log, s.CronOptions...)
	byID := map[cron.EntryID]Job{}
	for _, j := range jobs {
		id, err := c.AddJob(j.Spec, cron.FuncJob(func() { s.execute(ctx, log, j) }))
		if err != nil {
			return fmt.Errorf("job %q: %w", j.Name, err)
		}
		byID[id] = j
	}
	c.Start()
	for _, e := range c.Entries() {
		log.Info("scheduled", "job", byID[e.ID].Name, "spec", byID[e.ID].Spec, "next", e.Next.Format(time.RFC3339))
	}
	<-ctx.Done()
	log.Info("stopping: no new job starts; waiting for the running one to finish or roll back")
	<-c.Stop().Done()
	log.Info("stopped")
	return nil
}

type jobKey struct{}

// WithJob returns ctx carrying the scheduled job's name.
func WithJob(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, jobKey{}, name)
}

// JobFrom returns the scheduled job's name, "" outside the scheduler.
func JobFrom(ctx context.Context) string {
	s, _ := ctx.Value(jobKey{}).(string)
	return s
}

func (s *Scheduler) execute(ctx context.Context, log *slog.Logger, j Job) {
	if ctx.Err() != nil {
		return
	}
	log = log.With("job", j.Name)
	start := time.Now()
	log.Info("job starting")
	jctx := WithJob(ctx, j.Name)
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		jctx, cancel = context.WithTimeoutCause(jctx, s.Timeout, fmt.Errorf("job %s: timed out after %s (schedule.job_timeout)", j.Name, s.Timeout))
		defer cancel()
	}
	defer func() {
		// Report the panic, then let cron.Recover log it with its stack.
		if p := recover(); p != nil {
			log.Error("job panicked", "panic", p, "after", time.Since(start).Round(time.Millisecond))
			if s.OnFailure != nil {
				s.OnFailure(context.WithoutCancel(ctx), j.Name, &PanicError{Value: p, Stack: debug.Stack()})
			}
			panic(p)
		}
	}()
	err := Retry(jctx, s.Retry, log, j.Run)
	if err == nil {
		log.Info("job done", "duration", time.Since(start).Round(time.Millisecond))
		return
	}
	if cause := context.Cause(jctx); cause != nil && !errors.Is(cause, context.Canceled) && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		log.Warn("job interrupted", "duration", time.Since(start).Round(time.Millisecond), "err", err)
		return
	}
	log.Error("job failed", "duration", time.Since(start).Round(time.Millisecond), "err", err)
	if s.OnFailure != nil {
		s.OnFailure(context.WithoutCancel(ctx), j.Name, err)
	}
}

// PanicError is a recovered panic.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RecordedError is the failure of a run recorded in meta.run. Notified says
// whether its notification has gone out already (it has not when a retry was
// to follow).
type RecordedError struct {
	Job      string
	RunID    int64
	Err      error
	Notified bool
}

func (e *RecordedError) Error() string { return fmt.Sprintf("%s (run %d): %v", e.Job, e.RunID, e.Err) }

func (e *RecordedError) Unwrap() error { return e.Err }

// AlreadyNotified reports whether err's notification went out already.
func AlreadyNotified(err error) bool {
	var r *RecordedError
	return errors.As(err, &r) && r.Notified
}
