package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/demo"
	"github.com/rpe-observatoire/observatoire/internal/ops"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// opsEnv is a temp deployment: config file, warehouse, inbox, site,
// snapshot, and a webhook server collecting notifications.
type opsEnv struct {
	dir, config, warehouse, inbox string
	hook                          *httptest.Server
	mu                            sync.Mutex
	events                        []ops.Event
	got                           chan ops.Event
}

func newOpsEnv(t *testing.T, extra string) *opsEnv {
	t.Helper()
	e := &opsEnv{dir: t.TempDir(), got: make(chan ops.Event, 16)}
	e.warehouse = filepath.Join(e.dir, "warehouse.duckdb")
	e.inbox = filepath.Join(e.dir, "inbox")
	if err := os.MkdirAll(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	e.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev ops.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
		select {
		case e.got <- ev:
		default:
		}
	}))
	t.Cleanup(e.hook.Close)
	e.config = filepath.Join(e.dir, "observatoire.toml")
	cfg := fmt.Sprintf(`[warehouse]
path = %q
[ingest]
inbox = %q
[reports]
out_dir = %q
[analyst]
snapshot = %q
[notify]
webhook = %q
`, e.warehouse, e.inbox, filepath.Join(e.dir, "site"), filepath.Join(e.dir, "snapshot.duckdb"), e.hook.URL+"/hook") + extra
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// cli runs observatoire in-process with the env's config file.
func (e *opsEnv) cli(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"--config", e.config}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func (e *opsEnv) mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := e.cli(ctx, args...)
	if err != nil {
		t.Fatalf("observatoire %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *opsEnv) runs(t *testing.T) []warehouse.RunRecord {
	t.Helper()
	var runs []warehouse.RunRecord
	if err := json.Unmarshal([]byte(e.mustCLI(t, "runs", "--format", "json")), &runs); err != nil {
		t.Fatal(err)
	}
	return runs
}

// A scheduled job runs the command in-process, is recorded under its job
// name, and its failure is notified (webhook) with what failed and where to
// look; SIGTERM (context cancelled) stops the scheduler cleanly.
func TestScheduleRecordsAndNotifiesFailedRun(t *testing.T) {
	e := newOpsEnv(t, `
[[schedule.jobs]]
name = "nightly-inbox"
spec = "* * * * * *"
command = "ingest-inbox"
args = ["--demo"]
`)
	// A file no profile knows: ingest refuses it, the run fails.
	if err := os.WriteFile(filepath.Join(e.inbox, "inconnu.csv"), []byte("colonne;autre\n1;2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out string
	go func() {
		var err error
		out, err = e.cli(ctx, "schedule")
		done <- err
	}()
	var ev ops.Event
	select {
	case ev = <-e.got:
	case <-time.After(45 * time.Second):
		t.Fatal("no notification")
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("schedule: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("schedule did not stop")
	}
	if ev.Kind != ops.EventRunFailed || ev.Job != "nightly-inbox" || ev.RunID == 0 || ev.Trigger != "schedule" ||
		!strings.Contains(ev.Error, "inconnu.csv") {
		t.Fatalf("event = %+v", ev)
	}
	look := strings.Join(ev.Look, "\n")
	for _, want := range []string{"observatoire runs --job nightly-inbox", fmt.Sprintf("run_id = %d", ev.RunID), "meta.quarantine"} {
		if !strings.Contains(look, want) {
			t.Errorf("where to look lacks %q:\n%s", want, look)
		}
	}
	runs := e.runs(t)
	var first *warehouse.RunRecord
	for i := range runs {
		if runs[i].ID == ev.RunID {
			first = &runs[i]
		}
	}
	if first == nil || first.Job != "nightly-inbox" || first.Command != "ingest" || first.Trigger != "schedule" ||
		first.Status != warehouse.StatusFailed || first.Attempt != 1 {
		t.Fatalf("run %d = %+v\nall: %+v", ev.RunID, first, runs)
	}
	for _, r := range runs {
		if r.Status == warehouse.StatusRunning {
			t.Fatalf("run left running after stop: %+v", r)
		}
	}
	if strings.Contains(out, "panic") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestScheduleListAndValidation(t *testing.T) {
	e := newOpsEnv(t, `
[schedule]
time_zone = "Europe/Paris"
[[schedule.jobs]]
name = "daily-inbox"
spec = "0 6 * * *"
command = "ingest-inbox"
[[schedule.jobs]]
name = "monthly"
spec = "CRON_TZ=UTC 30 7 2 * *"
command = "run"
args = ["--full-refresh"]
`)
	out := e.mustCLI(t, "schedule", "--list")
	for _, want := range []string{"daily-inbox", "observatoire ingest --inbox", "observatoire run --full-refresh", "06:00 CET", "08:30 CET"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct{ jobs, want string }{
		{"name = \"x\"\nspec = \"0 6 * * *\"\ncommand = \"backup\"", `command "backup"`},
		{"name = \"x\"\nspec = \"0 6 * * *\"\ncommand = \"transform\"\nargs = [\"--no-such-flag\"]", "no-such-flag"},
		{"name = \"x\"\nspec = \"0 25 * * *\"\ncommand = \"transform\"", `spec "0 25 * * *"`},
	} {
		bad := newOpsEnv(t, "[[schedule.jobs]]\n"+c.jobs+"\n")
		_, err := bad.cli(context.Background(), "schedule", "--list")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.jobs, err, c.want)
		}
	}
	none := newOpsEnv(t, "")
	if _, err := none.cli(context.Background(), "schedule"); err == nil || !strings.Contains(err.Error(), "no job") {
		t.Errorf("no jobs: %v", err)
	}
}

// A manual command while another writer holds the warehouse is refused at
// once and says who holds it.
func TestManualCommandRefusedWhileHeld(t *testing.T) {
	e := newOpsEnv(t, "")
	db, _, err := warehouse.OpenWriter(context.Background(), warehouse.Options{Path: e.warehouse},
		warehouse.CurrentHolder("observatoire schedule", "monthly-publication"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = e.cli(context.Background(), "transform")
	if !errors.Is(err, warehouse.ErrLocked) {
		t.Fatalf("transform while held: %v", err)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "job monthly-publication", "observatoire schedule"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// status still answers, and names the writer.
	out, err := e.cli(context.Background(), "status")
	if err != nil {
		t.Fatalf("status while held: %v\n%s", err, out)
	}
	if !strings.Contains(out, "writer: pid") || !strings.Contains(out, "monthly-publication") {
		t.Fatalf("status does not name the writer:\n%s", out)
	}
}

func TestBackfillRangeChecked(t *testing.T) {
	e := newOpsEnv(t, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--from", "2025-13", "--to", "2025-12"}, `--from "2025-13"`},
		{[]string{"run", "--from", "2025-12", "--to", "2025-01"}, "after --to"},
	} {
		if _, err := e.cli(context.Background(), c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// seed writes run history and a file ledger as ingest would.
func seed(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, _, err := warehouse.OpenWriter(ctx, warehouse.Options{Path: path}, warehouse.CurrentHolder("seed", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, _ := warehouse.BeginRun(ctx, db, warehouse.RunStart{Job: "daily-inbox", Command: "ingest", Trigger: "schedule", Attempt: 1})
	r.RowsIn, r.RowsOut, r.Quarantined = 4634, 4629, 5
	r.Finish(db, nil)
	r, _ = warehouse.BeginRun(ctx, db, warehouse.RunStart{Job: "monthly", Command: "run", Trigger: "schedule", Attempt: 2, Period: "2025-01..2025-12"})
	r.TestsKO = 1
	r.Finish(db, errors.New("transform: models failed: mart.coverage"))
	_, err = db.Exec(`CREATE TABLE meta.file_ledger (file_id BIGINT PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
		source VARCHAR NOT NULL, sender VARCHAR, period VARCHAR, profile VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
		rows_rejected BIGINT, loaded_at TIMESTAMP NOT NULL, replaced_by BIGINT);
		INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, loaded_at) VALUES
		(1, 'a', 'a', 'rpe_activity', 'RPE-35-001', '2026-10', '2026-11-10 08:00'),
		(2, 'b', 'b', 'rpe_activity', 'RPE-35-002', '2026-08', '2026-09-10 08:00'),
		(3, 'c', 'c', 'availability', '35', '2026-09', '2026-10-10 08:00')`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunsAndStatus(t *testing.T) {
	e := newOpsEnv(t, `
[[schedule.jobs]]
name = "daily-inbox"
spec = "0 6 * * *"
command = "ingest-inbox"
[[schedule.jobs]]
name = "monthly"
spec = "0 7 2 * *"
command = "run"
[[freshness.sources]]
source = "rpe_activity"
every = "month"
due_days = 15
[[freshness.sources]]
source = "availability"
every = "month"
due_days = 15
[[freshness.sources]]
source = "family_request"
every = "month"
due_days = 15
`)
	seed(t, e.warehouse)

	table := e.mustCLI(t, "runs")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "RUN  JOB") || !strings.Contains(lines[1], "monthly") ||
		!strings.Contains(lines[1], "schedule #2") || !strings.Contains(lines[1], "2025-01..2025-12") || !strings.Contains(lines[2], "4629") {
		t.Fatalf("runs table:\n%s", table)
	}
	// Aligned: every line's STATUS column starts at the same place.
	col := strings.Index(lines[0], "STATUS")
	if !strings.HasPrefix(lines[1][col:], "failed") || !strings.HasPrefix(lines[2][col:], "ok") {
		t.Fatalf("runs table not aligned:\n%s", table)
	}
	runs := e.runs(t)
	if len(runs) != 2 || runs[0].Job != "monthly" || runs[0].Status != "failed" || runs[0].TestsFailed != 1 || runs[1].Quarantined != 5 {
		t.Fatalf("runs json = %+v", runs)
	}
	only := e.mustCLI(t, "runs", "--status", "failed", "--format", "json")
	if strings.Count(only, `"run_id"`) != 1 {
		t.Fatalf("--status failed:\n%s", only)
	}

	out := e.mustCLI(t, "status", "--at", "2026-11-25")
	for _, want := range []string{"writer: none", "monthly", "failed", "daily-inbox", "Thu 2026-11-26 06:00 CET",
		"rpe_activity", "1 sender(s) missing", "availability", "LATE", "family_request", "never loaded",
		"Not sent rpe_activity 2026-10 (due 2026-11-16)", "RPE-35-002"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(e.mustCLI(t, "status", "--at", "2026-11-25", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Schedule) != 2 || rep.Schedule[1].LastRun == nil || rep.Schedule[1].LastRun.Status != "failed" ||
		rep.Schedule[0].LastSuccess == nil || len(rep.Freshness.Sources) != 3 || !rep.Freshness.Sources[1].Late {
		t.Fatalf("status json = %+v", rep)
	}

	// The freshness job: late sources are notified.
	e.mustCLI(t, "status", "--at", "2026-11-25", "--notify")
	select {
	case ev := <-e.got:
		if ev.Kind != ops.EventSourceLate || len(ev.Details) != 2 || !strings.Contains(ev.Details[0], "RPE-35-002") ||
			!strings.Contains(ev.Details[1], "availability: no export for 2026-10") {
			t.Fatalf("late event = %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late sources not notified")
	}
}

// A data test of error severity that failed in a run is notified with the
// tests and where the failing rows are.
func TestNotifyFailedDataTests(t *testing.T) {
	e := newOpsEnv(t, "")
	ctx := context.Background()
	a := &app{configPath: e.config, logLevel: "info"}
	cmd := newRootCmd()
	cmd.SetArgs([]string{"--config", e.config, "config"})
	cmd.SetOut(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if err := a.load(cmd); err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.Open(ctx, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE meta.test_failure (run_id BIGINT, model VARCHAR, test VARCHAR, severity VARCHAR, row_json VARCHAR)`)
	if err != nil {
		t.Fatal(err)
	}
	err = a.recordRun(ctx, db, "transform", "", func(run *warehouse.Run) error {
		_, err := db.Exec(`INSERT INTO meta.test_failure VALUES (?, 'mart.coverage', 'not_null: value', 'error', '{}'),
			(?, 'mart.coverage', 'not_null: value', 'error', '{}'), (?, 'staging.am', 'range: places 0..4', 'warn', '{}')`, run.ID, run.ID, run.ID)
		if err != nil {
			return err
		}
		run.TestsKO = 2
		return errors.New("transform: models failed")
	})
	var rec *ops.RecordedError
	if !errors.As(err, &rec) || !rec.Notified {
		t.Fatalf("recordRun: %v", err)
	}
	select {
	case ev := <-e.got:
		if ev.Kind != ops.EventDataTestFailed || ev.RunID != rec.RunID || !strings.Contains(ev.Details[0], "mart.coverage: test not_null: value, 2 failing row(s)") ||
			!strings.Contains(strings.Join(ev.Look, "\n"), fmt.Sprintf("SELECT * FROM meta.test_failure WHERE run_id = %d", rec.RunID)) {
			t.Fatalf("event = %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	// A failure about to be retried is not notified yet.
	rctx := ops.WithAttempt(ops.WithJob(ctx, "nightly"), ops.Attempt{N: 1, Max: 3})
	err = a.recordRun(rctx, db, "ingest", "", func(*warehouse.Run) error { return ops.Transient(errors.New("NFS share unreachable")) })
	if !errors.As(err, &rec) || rec.Notified {
		t.Fatalf("retried failure: %v (notified %v)", err, rec != nil && rec.Notified)
	}
	runs, _ := warehouse.ListRuns(ctx, db, warehouse.RunFilter{Job: "nightly"})
	if len(runs) != 1 || runs[0].Trigger != "schedule" || runs[0].Command != "ingest" {
		t.Fatalf("scheduled run = %+v", runs)
	}
}

// TestHelperProcess is the child of the tests that signal or kill a real
// process: the re-executed test binary runs observatoire's main.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("OBSERVATOIRE_HELPER") != "1" {
		t.Skip("child process of TestKilledCommandThenRerun and TestScheduleStopsOnSIGTERM")
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("OBSERVATOIRE_HELPER_ARGS")), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Args = append([]string{"observatoire"}, args...)
	main()
	os.Exit(0)
}

// startHelper starts observatoire in a child process; lines of its standard
// error go to the channel.
func startHelper(t *testing.T, args ...string) (*exec.Cmd, <-chan string, func() string) {
	t.Helper()
	b, _ := json.Marshal(args)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^TestHelperProcess$")
	child.Env = append(os.Environ(), "OBSERVATOIRE_HELPER=1", "OBSERVATOIRE_HELPER_ARGS="+string(b))
	stderr, _ := child.StderrPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill() })
	lines := make(chan string, 1024)
	var mu sync.Mutex
	var all strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			all.WriteString(sc.Text() + "\n")
			mu.Unlock()
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	return child, lines, func() string {
		mu.Lock()
		defer mu.Unlock()
		return all.String()
	}
}

// SIGTERM to 'observatoire schedule' while a job runs: no new job, the
// running one is interrupted (its transaction rolls back) and recorded so,
// the lock is released, and the process exits 0.
func TestScheduleStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	e := newOpsEnv(t, `
[[schedule.jobs]]
name = "inbox"
spec = "* * * * * *"
command = "ingest-inbox"
args = ["--demo"]
`)
	src := filepath.Join(e.dir, "demo")
	opt := demo.DefaultOptions(src)
	opt.Departements = []string{"48"}
	sum, err := demo.Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Files { // the inbox takes the files at its top level
		b, err := os.ReadFile(filepath.Join(src, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(e.inbox, filepath.Base(f)), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	child, lines, log := startHelper(t, "--config", e.config, "schedule")
	deadline := time.After(45 * time.Second)
	for started := false; !started; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child ended:\n%s", log())
			}
			started = strings.Contains(l, "msg=ingest ") // a file loaded: the job is mid-run
		case <-deadline:
			t.Fatalf("job never started:\n%s", log())
		}
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("schedule exited with %v:\n%s", err, log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("schedule did not exit after SIGTERM:\n%s", log())
	}
	out := log()
	for _, want := range []string{"stopping: no new job starts", "msg=stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	runs := e.runs(t)
	if len(runs) == 0 || runs[0].Status != warehouse.StatusInterrupted || runs[0].Job != "inbox" {
		t.Fatalf("runs after SIGTERM: %+v\n%s", runs, out)
	}
	if held, _, _ := warehouse.LockState(e.warehouse); held {
		t.Fatal("lock still held")
	}
}

// A real observatoire process is killed (SIGKILL) halfway through an
// ingest; the next run opens the warehouse, clears the stale lock, marks the
// killed run abandoned, and succeeds.
func TestKilledCommandThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	e := newOpsEnv(t, "")
	src := filepath.Join(e.dir, "demo")
	opt := demo.DefaultOptions(src)
	opt.Departements = []string{"48"}
	if _, err := demo.Generate(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	child, lines, log := startHelper(t, "--config", e.config, "ingest", "--demo", src)
	// Kill it once it has loaded a few files (one transaction each) and is
	// in the middle of the next.
	deadline := time.After(45 * time.Second)
	for n := 0; n < 3; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child ended:\n%s", log())
			}
			if strings.Contains(l, "msg=ingest ") {
				n++
			}
		case <-deadline:
			t.Fatalf("child never loaded 3 files:\n%s", log())
		}
	}
	held, h, err := warehouse.LockState(e.warehouse)
	if err != nil || !held || h.PID != child.Process.Pid {
		t.Fatalf("lock during the child's run: held %v by %+v (%v)", held, h, err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	// Rerun: a single small file, in-process.
	files, _ := filepath.Glob(filepath.Join(src, "caf", "*.csv"))
	if len(files) == 0 {
		t.Fatal("no demo file to rerun with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := e.cli(ctx, "ingest", "--demo", files[0])
	if err != nil {
		t.Fatalf("rerun after kill -9: %v\n%s", err, out)
	}
	runs := e.runs(t)
	if len(runs) != 2 || runs[0].Status != warehouse.StatusOK || runs[1].Status != warehouse.StatusAbandoned || runs[1].PID != child.Process.Pid {
		t.Fatalf("runs after kill and rerun: %+v", runs)
	}
	if held, _, _ := warehouse.LockState(e.warehouse); held {
		t.Fatal("lock still held")
	}
}
