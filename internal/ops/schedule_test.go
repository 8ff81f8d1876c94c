package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// syncBuffer is a log sink safe for concurrent jobs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// runFor runs the scheduler for d, then stops it like SIGTERM does, and
// returns once it has stopped.
func runFor(t *testing.T, s *Scheduler, jobs []Job, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := s.Run(ctx, jobs); err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerRunsOnSecondsSpec(t *testing.T) {
	t.Parallel()
	log, buf := testLogger()
	var n atomic.Int32
	var gotJob atomic.Value
	s := &Scheduler{Log: log}
	runFor(t, s, []Job{{Name: "tick", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		gotJob.Store(JobFrom(ctx))
		n.Add(1)
		return nil
	}}}, 2500*time.Millisecond)
	if n.Load() < 2 {
		t.Fatalf("ran %d times in 2.5 s on a every-second spec", n.Load())
	}
	if gotJob.Load() != "tick" {
		t.Fatalf("job name in ctx = %v", gotJob.Load())
	}
	if !strings.Contains(buf.String(), "job done") || !strings.Contains(buf.String(), "job=tick") {
		t.Fatalf("log:\n%s", buf)
	}
}

// A job still running when its next tick comes is skipped, never run twice
// at once.
func TestSchedulerSkipsOverlap(t *testing.T) {
	t.Parallel()
	log, buf := testLogger()
	var running, maxRunning, runs atomic.Int32
	s := &Scheduler{Log: log}
	runFor(t, s, []Job{{Name: "slow", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		r := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if r <= m || maxRunning.CompareAndSwap(m, r) {
				break
			}
		}
		runs.Add(1)
		time.Sleep(1800 * time.Millisecond)
		return nil
	}}}, 3200*time.Millisecond)
	if maxRunning.Load() != 1 {
		t.Fatalf("%d runs at once", maxRunning.Load())
	}
	if !strings.Contains(buf.String(), "skipped: the previous run of this job is still going") {
		t.Fatalf("no skip logged:\n%s", buf)
	}
	if runs.Load() < 1 || runs.Load() > 2 {
		t.Fatalf("runs = %d", runs.Load())
	}
}

// A panicking job is recovered (and reported), and the next tick still runs:
// Recover sits inside SkipIfStillRunning, which gets its token back.
func TestSchedulerRecoversPanic(t *testing.T) {
	t.Parallel()
	log, buf := testLogger()
	var n atomic.Int32
	var failures []error
	var mu sync.Mutex
	s := &Scheduler{Log: log, OnFailure: func(ctx context.Context, job string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, err)
	}}
	runFor(t, s, []Job{{Name: "boom", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		if n.Add(1) == 1 {
			panic("first tick explodes")
		}
		return nil
	}}}, 2600*time.Millisecond)
	if n.Load() < 2 {
		t.Fatalf("job ran %d times: the tick after the panic did not run", n.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	var pe *PanicError
	if len(failures) != 1 || !errors.As(failures[0], &pe) || pe.Value != "first tick explodes" {
		t.Fatalf("failures = %v", failures)
	}
	if !strings.Contains(buf.String(), "first tick explodes") || !strings.Contains(buf.String(), "stack") {
		t.Fatalf("panic not logged with its stack by cron.Recover:\n%s", buf)
	}
}

// On stop (SIGTERM cancels the context) no job starts any more, and Run
// returns only once the running job has rolled back and returned.
func TestSchedulerStopWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	log, _ := testLogger()
	started := make(chan struct{})
	var rolledBack atomic.Bool
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := &Scheduler{Log: log}
	go func() {
		done <- s.Run(ctx, []Job{{Name: "long", Spec: "* * * * * *", Run: func(ctx context.Context) error {
			if runs.Add(1) > 1 {
				return errors.New("ran again after stop")
			}
			close(started)
			<-ctx.Done()
			time.Sleep(300 * time.Millisecond) // the transaction rolls back
			rolledBack.Store(true)
			return ctx.Err()
		}}})
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("job never started")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("scheduler did not stop")
	}
	if !rolledBack.Load() {
		t.Fatal("Run returned before the running job finished")
	}
	time.Sleep(1200 * time.Millisecond)
	if runs.Load() != 1 {
		t.Fatalf("runs = %d after stop", runs.Load())
	}
}

// Two writers, one warehouse: the scheduled job finds the warehouse held by a
// manual run, retries with backoff, and gets it once the manual run ends.
func TestSchedulerRetriesWhileWarehouseHeld(t *testing.T) {
	t.Parallel()
	log, buf := testLogger()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	manual, _, err := warehouse.OpenWriter(context.Background(), warehouse.Options{Path: path}, warehouse.CurrentHolder("observatoire run --inbox", ""))
	if err != nil {
		t.Fatal(err)
	}
	// The manual run ends shortly after the job first finds it there.
	var release sync.Once
	var attempts []int
	var mu sync.Mutex
	var failed atomic.Bool
	ok := make(chan struct{})
	s := &Scheduler{Log: log, Retry: Backoff{Attempts: 5, Initial: 200 * time.Millisecond, Max: time.Second},
		OnFailure: func(context.Context, string, error) { failed.Store(true) }}
	job := Job{Name: "nightly", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		mu.Lock()
		attempts = append(attempts, AttemptFrom(ctx).N)
		mu.Unlock()
		db, _, err := warehouse.OpenWriter(ctx, warehouse.Options{Path: path}, warehouse.CurrentHolder("schedule", JobFrom(ctx)))
		if err != nil {
			release.Do(func() { time.AfterFunc(300*time.Millisecond, func() { manual.Close() }) })
			return err
		}
		defer db.Close()
		select {
		case <-ok:
		default:
			close(ok)
		}
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ok
		cancel()
	}()
	time.AfterFunc(8*time.Second, cancel)
	if err := s.Run(ctx, []Job{job}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) < 2 || attempts[0] != 1 || attempts[1] != 2 {
		t.Fatalf("attempts = %v, want 1, 2...", attempts)
	}
	if failed.Load() {
		t.Fatal("reported as failed although a retry succeeded")
	}
	if !strings.Contains(buf.String(), "will retry") || !strings.Contains(buf.String(), "observatoire run --inbox") {
		t.Fatalf("log does not show the retry and the holder:\n%s", buf)
	}
}

func TestSchedulerTimeout(t *testing.T) {
	t.Parallel()
	log, _ := testLogger()
	got := make(chan error, 1)
	s := &Scheduler{Log: log, Timeout: 300 * time.Millisecond, OnFailure: func(_ context.Context, _ string, err error) {
		select {
		case got <- err:
		default:
		}
	}}
	runFor(t, s, []Job{{Name: "hung", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}}, 1800*time.Millisecond)
	select {
	case err := <-got:
		if !strings.Contains(err.Error(), "timed out after 300ms") {
			t.Fatalf("err = %v", err)
		}
	default:
		t.Fatal("timeout not reported")
	}
}

func TestValidate(t *testing.T) {
	run := func(context.Context) error { return nil }
	err := Validate([]Job{
		{Name: "a", Spec: "0 6 * * *", Run: run},
		{Name: "a", Spec: "0 6 * * *", Run: run},
		{Name: "", Spec: "61 * * * *", Run: run},
		{Name: "c", Spec: "CRON_TZ=Nowhere/Else 0 6 * * *", Run: run},
	})
	for _, want := range []string{`"a": name used twice`, "job 3: no name", "61", "Nowhere/Else"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v lacks %q", err, want)
		}
	}
	if err := Validate(nil); err == nil || !strings.Contains(err.Error(), "[[schedule.jobs]]") {
		t.Errorf("no jobs: %v", err)
	}
	if err := Validate([]Job{{Name: "x", Spec: "@daily", Run: run}, {Name: "y", Spec: "30 0 6 1 * *", Run: run}}); err != nil {
		t.Errorf("valid jobs: %v", err)
	}
}

func TestNextInTimeZones(t *testing.T) {
	paris, err := LoadLocation("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		spec string
		want []string
	}{
		// Winter: Paris is UTC+1.
		{"0 6 * * *", []string{"2026-11-26T05:00:00Z", "2026-11-27T05:00:00Z"}},
		{"CRON_TZ=America/New_York 0 6 * * *", []string{"2026-11-25T11:00:00Z", "2026-11-26T11:00:00Z"}},
		// Monthly on the 2nd at 07:30; 6 fields with seconds.
		{"0 30 7 2 * *", []string{"2026-12-02T06:30:00Z", "2027-01-02T06:30:00Z"}},
		// Summer time: the 1st of April 2027 at 06:00 Paris is 04:00 UTC.
		{"0 6 1 4 *", []string{"2027-04-01T04:00:00Z", "2028-04-01T04:00:00Z"}},
	} {
		got, err := Next(c.spec, paris, now, 2)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, g := range got {
			s = append(s, g.UTC().Format(time.RFC3339))
		}
		if fmt.Sprint(s) != fmt.Sprint(c.want) {
			t.Errorf("Next(%q) = %v, want %v", c.spec, s, c.want)
		}
	}
}
