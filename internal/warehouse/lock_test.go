package warehouse

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The child half of TestKilledWriterThenRerun: the test binary re-executed
// with OBSERVATOIRE_TEST_CHILD=writer holds the writer lock and an open write
// transaction until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv("OBSERVATOIRE_TEST_CHILD") == "writer" {
		if err := childWriter(os.Getenv("OBSERVATOIRE_TEST_WAREHOUSE")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childWriter(path string) error {
	ctx := context.Background()
	db, _, err := OpenWriter(ctx, Options{Path: path}, CurrentHolder("test child writer", "killed-job"))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	if _, err := BeginRun(ctx, db, RunStart{Job: "killed-job", Command: "run", Trigger: "manual", PID: os.Getpid(), Host: host}); err != nil {
		return err
	}
	// Committed work (stays in the WAL: far below the checkpoint threshold).
	if _, err := db.ExecContext(ctx, `CREATE TABLE raw.t AS SELECT range AS i FROM range(1000)`); err != nil {
		return err
	}
	// Uncommitted work, halfway through a transaction.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO raw.t SELECT range FROM range(1000, 500000)`); err != nil {
		return err
	}
	fmt.Println("ready")
	// Keep writing until killed.
	for {
		if _, err := tx.ExecContext(ctx, `INSERT INTO raw.t SELECT range FROM range(0, 100000)`); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKilledWriterThenRerun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^$")
	child.Env = append(os.Environ(), "OBSERVATOIRE_TEST_CHILD=writer", "OBSERVATOIRE_TEST_WAREHOUSE="+path)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("child said %q", line)
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("child never got ready")
	}

	// While it runs, a second writer is refused and told who holds the file.
	_, _, err = OpenWriter(context.Background(), Options{Path: path}, CurrentHolder("test second writer", ""))
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: got %v, want a LockedError", err)
	}
	if le.Holder.PID != child.Process.Pid || le.Holder.Job != "killed-job" {
		t.Fatalf("holder = %+v, want pid %d job killed-job", le.Holder, child.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", child.Process.Pid)) || !strings.Contains(err.Error(), "test child writer") {
		t.Fatalf("message does not say who holds the warehouse: %v", err)
	}
	// A reader is refused too (DuckDB allows one process), and told who.
	_, err = Open(context.Background(), Options{Path: path, ReadOnly: true})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", child.Process.Pid)) {
		t.Fatalf("reader: got %v, want ErrLocked naming pid %d", err, child.Process.Pid)
	}

	// kill -9 halfway through the transaction.
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	// The next run opens the warehouse, reports the stale lock, closes the
	// abandoned run, sees only the committed rows, and writes.
	db, lock, err := OpenWriter(context.Background(), Options{Path: path}, CurrentHolder("test rerun", "rerun"))
	if err != nil {
		t.Fatalf("rerun after kill -9: %v", err)
	}
	if lock.Stale == nil || lock.Stale.PID != child.Process.Pid || !lock.StaleDead {
		t.Fatalf("stale holder = %+v (dead %v), want the killed child %d", lock.Stale, lock.StaleDead, child.Process.Pid)
	}
	if len(lock.AbandonedRuns) != 1 {
		t.Fatalf("abandoned runs = %v, want the child's run", lock.AbandonedRuns)
	}
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM raw.t`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("rows after recovery = %d (%v), want the 1000 committed", n, err)
	}
	if _, err := db.Exec(`INSERT INTO raw.t SELECT range FROM range(5)`); err != nil {
		t.Fatal(err)
	}
	runs, err := ListRuns(context.Background(), db, RunFilter{Job: "killed-job"})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusAbandoned || !strings.Contains(runs[0].Error, "killed") {
		t.Fatalf("killed run = %+v (%v), want abandoned", runs, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The lock file is empty again once released: nobody holds it.
	if b, _ := os.ReadFile(LockPath(path)); len(b) != 0 {
		t.Fatalf("lock file after release: %q", b)
	}
	db, err = Open(context.Background(), Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*) FROM raw.t`).Scan(&n); err != nil || n != 1005 {
		t.Fatalf("rows = %d (%v), want 1005", n, err)
	}
}

func TestWriterLockOverlapInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	db, lock, err := OpenWriter(ctx, Options{Path: path}, CurrentHolder("observatoire run --inbox", "nightly"))
	if err != nil {
		t.Fatal(err)
	}
	if lock.Stale != nil {
		t.Fatalf("fresh lock reported stale: %+v", lock.Stale)
	}
	held, h, err := LockState(path)
	if err != nil || !held || h.PID != os.Getpid() || h.Job != "nightly" {
		t.Fatalf("LockState = %v %+v %v", held, h, err)
	}
	_, _, err = OpenWriter(ctx, Options{Path: path}, CurrentHolder("observatoire transform", ""))
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Command != "observatoire run --inbox" {
		t.Fatalf("second writer: %v", err)
	}
	t.Log(err)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if held, _, _ := LockState(path); held {
		t.Fatal("lock still held after Close")
	}
	db, lock, err = OpenWriter(ctx, Options{Path: path}, CurrentHolder("observatoire transform", ""))
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if lock.Stale != nil {
		t.Fatalf("clean release reported stale: %+v", lock.Stale)
	}
	db.Close()
}

func TestStaleLockCleared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	// A pid that is surely dead: a process that ran and was reaped.
	p := exec.Command("true")
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	dead := p.Process.Pid
	host, _ := os.Hostname()
	stale := Holder{PID: dead, Host: host, Command: "observatoire run", Started: time.Now().Add(-time.Hour)}
	b, _ := json.Marshal(stale)
	if err := os.WriteFile(LockPath(path), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nobody holds the flock: LockState says free despite the content.
	if held, _, err := LockState(path); held || err != nil {
		t.Fatalf("LockState = %v, %v; want free", held, err)
	}
	l, err := AcquireWriterLock(path, CurrentHolder("observatoire transform", ""))
	if err != nil {
		t.Fatal(err)
	}
	if l.Stale == nil || l.Stale.PID != dead || !l.StaleDead {
		t.Fatalf("stale = %+v dead=%v, want pid %d dead", l.Stale, l.StaleDead, dead)
	}
	var now Holder
	b, _ = os.ReadFile(LockPath(path))
	if err := json.Unmarshal(b, &now); err != nil || now.PID != os.Getpid() {
		t.Fatalf("lock file now %q (%v), want this process", b, err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal("second Release:", err)
	}

	// A holder on another host cannot be checked: stale, not known dead.
	b, _ = json.Marshal(Holder{PID: dead, Host: "elsewhere", Command: "observatoire run"})
	os.WriteFile(LockPath(path), b, 0o644)
	l, err = AcquireWriterLock(path, CurrentHolder("x", ""))
	if err != nil || l.Stale == nil || l.StaleDead {
		t.Fatalf("other host: %+v %v", l, err)
	}
	l.Release()
}

func TestInMemoryWriterTakesNoLock(t *testing.T) {
	db, lock, err := OpenWriter(context.Background(), Options{}, CurrentHolder("", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if lock == nil || lock.Stale != nil {
		t.Fatalf("lock = %+v", lock)
	}
}
