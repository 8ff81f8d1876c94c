package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// meta.run is the run history: one row per recorded job (manual command or
// scheduled job), written by the composition root.
//
// status: running (in progress, or its process died: the next writer marks
// it), ok, failed, interrupted (SIGTERM/SIGINT: the current transaction
// rolled back), abandoned (the process died while running: kill -9, crash,
// power loss; set by the next writer, which holds the lock and so knows that
// nobody else runs).
const runDDL = `
CREATE SEQUENCE IF NOT EXISTS meta.run_seq;
CREATE TABLE IF NOT EXISTS meta.run (
	run_id       BIGINT PRIMARY KEY DEFAULT nextval('meta.run_seq'),
	job          VARCHAR NOT NULL,
	period       VARCHAR,
	started_at   TIMESTAMPTZ NOT NULL,
	ended_at     TIMESTAMPTZ,
	status       VARCHAR NOT NULL,  -- running, ok, failed, interrupted, abandoned
	rows_in      BIGINT,
	rows_out     BIGINT,
	quarantined  BIGINT,
	tests_failed BIGINT,
	error        VARCHAR,
	pid          INTEGER,
	host         VARCHAR,
	command      VARCHAR,  -- ingest, transform, report, run
	trigger      VARCHAR,  -- manual or schedule
	attempt      INTEGER   -- 1, then 2... for scheduled retries
);`

// runColumnsAdded are the columns a warehouse made by an earlier version
// lacks; ensureRunTable adds them.
var runColumnsAdded = []string{"command VARCHAR", "trigger VARCHAR", "attempt INTEGER"}

// ensureRunTable creates meta.run, or adds the columns it lacks. An ALTER
// TABLE of a table with a nextval() default cannot be replayed from the WAL
// by DuckDB 1.5 ("GetDefaultDatabase with no default database set"), which
// would leave the warehouse unopenable after a kill -9: so it is followed at
// once by a CHECKPOINT, which takes it out of the WAL.
func ensureRunTable(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, runDDL); err != nil {
		return fmt.Errorf("create meta.run: %w", err)
	}
	altered := false
	for _, col := range runColumnsAdded {
		name, _, _ := strings.Cut(col, " ")
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = 'meta' AND table_name = 'run' AND column_name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.ExecContext(ctx, "ALTER TABLE meta.run ADD COLUMN "+col); err != nil {
				return fmt.Errorf("add meta.run.%s: %w", name, err)
			}
			altered = true
		}
	}
	if altered {
		if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpoint after migrating meta.run: %w", err)
		}
	}
	return nil
}

// Run statuses.
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
	StatusAbandoned   = "abandoned"
)

// Run is one row of meta.run being recorded.
type Run struct {
	ID                   int64
	Job, Period          string
	Started              time.Time
	RowsIn, RowsOut      int64
	Quarantined, TestsKO int64
}

// RunStart describes a run about to start.
type RunStart struct {
	Job     string // job name: the command for manual runs, the [[schedule.jobs]] name for scheduled ones
	Period  string // e.g. 2025-01..2025-12 for a backfill
	Command string // ingest, transform, report, run, freshness
	Trigger string // manual or schedule
	Attempt int    // 1 for the first attempt
	PID     int
	Host    string
}

// StartRun records a running job and returns its id.
func StartRun(ctx context.Context, db *sql.DB, job, period string, pid int, host string) (*Run, error) {
	return BeginRun(ctx, db, RunStart{Job: job, Period: period, Command: job, Trigger: "manual", Attempt: 1, PID: pid, Host: host})
}

// BeginRun records a running job and returns its id.
func BeginRun(ctx context.Context, db *sql.DB, s RunStart) (*Run, error) {
	if s.Attempt == 0 {
		s.Attempt = 1
	}
	r := &Run{Job: s.Job, Period: s.Period, Started: time.Now()}
	err := db.QueryRowContext(ctx,
		`INSERT INTO meta.run (job, period, started_at, status, pid, host, command, trigger, attempt)
		 VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?) RETURNING run_id`,
		s.Job, s.Period, r.Started, s.PID, s.Host, s.Command, s.Trigger, s.Attempt).Scan(&r.ID)
	if err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	return r, nil
}

// StatusOf is the status a run ending with err gets.
func StatusOf(err error) string {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, context.Canceled):
		return StatusInterrupted
	}
	return StatusFailed
}

// Finish records the end of a run; runErr nil means success. It uses a fresh
// context so that a cancelled run is still recorded (as interrupted).
func (r *Run) Finish(db *sql.DB, runErr error) error {
	status, msg := StatusOf(runErr), sql.NullString{}
	if runErr != nil {
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx,
		`UPDATE meta.run SET ended_at = ?, status = ?, rows_in = ?, rows_out = ?, quarantined = ?, tests_failed = ?, error = ? WHERE run_id = ?`,
		time.Now(), status, r.RowsIn, r.RowsOut, r.Quarantined, r.TestsKO, msg, r.ID)
	return err
}

// CloseAbandonedRuns marks 'abandoned' every run still 'running'. Only a
// holder of the writer lock may call it (OpenWriter does): as every writer
// takes the lock, a run still 'running' then belongs to a process that died.
// stale is the holder the dead process left in the lock file, if any.
func CloseAbandonedRuns(ctx context.Context, db *sql.DB, stale *Holder) ([]int64, error) {
	why := "abandoned: its process stopped before recording the end of the run (killed, crashed or power loss); " +
		"its uncommitted transaction was rolled back and the next writer closed this row"
	if stale != nil && stale.PID != 0 {
		why += fmt.Sprintf(" (lock file said: %s)", stale)
	}
	rows, err := db.QueryContext(ctx,
		`UPDATE meta.run SET status = 'abandoned', ended_at = now(), error = ? WHERE status = 'running' RETURNING run_id`, why)
	if err != nil {
		return nil, fmt.Errorf("close abandoned runs: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RunRecord is one row of meta.run as read back.
type RunRecord struct {
	ID          int64      `json:"run_id"`
	Job         string     `json:"job"`
	Command     string     `json:"command,omitempty"`
	Trigger     string     `json:"trigger,omitempty"`
	Attempt     int        `json:"attempt,omitempty"`
	Period      string     `json:"period,omitempty"`
	Started     time.Time  `json:"started"`
	Ended       *time.Time `json:"ended,omitempty"`
	Status      string     `json:"status"`
	RowsIn      int64      `json:"rows_in"`
	RowsOut     int64      `json:"rows_out"`
	Quarantined int64      `json:"quarantined"`
	TestsFailed int64      `json:"tests_failed"`
	Error       string     `json:"error,omitempty"`
	PID         int        `json:"pid,omitempty"`
	Host        string     `json:"host,omitempty"`
}

// Duration is how long the run took (so far, when still running).
func (r RunRecord) Duration() time.Duration {
	end := time.Now()
	if r.Ended != nil {
		end = *r.Ended
	}
	return end.Sub(r.Started)
}

// RunFilter selects runs; zero values select everything.
type RunFilter struct {
	Job    string
	Status string
	Since  time.Time
	Limit  int // newest first; 0 = no limit
}

const runColumns = `run_id, job, coalesce(command, ''), coalesce(trigger, ''), coalesce(attempt, 0), coalesce(period, ''),
	started_at, ended_at, status, coalesce(rows_in, 0), coalesce(rows_out, 0), coalesce(quarantined, 0),
	coalesce(tests_failed, 0), coalesce(error, ''), coalesce(pid, 0), coalesce(host, '')`

// ListRuns returns runs, newest first.
func ListRuns(ctx context.Context, db *sql.DB, f RunFilter) ([]RunRecord, error) {
	var where []string
	var args []any
	if f.Job != "" {
		where, args = append(where, "job = ?"), append(args, f.Job)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, f.Since)
	}
	q := "SELECT " + runColumns + " FROM meta.run"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, run_id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryRuns(ctx, db, q, args...)
}

// LastRuns returns the latest run of each job, by job name.
func LastRuns(ctx context.Context, db *sql.DB) ([]RunRecord, error) {
	return queryRuns(ctx, db, "SELECT "+runColumns+` FROM meta.run
		QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC, run_id DESC) = 1
		ORDER BY job`)
}

// LastSuccess returns when each job last succeeded.
func LastSuccess(ctx context.Context, db *sql.DB) (map[string]time.Time, error) {
	rows, err := db.QueryContext(ctx, `SELECT job, max(ended_at) FROM meta.run WHERE status = 'ok' GROUP BY job`)
	if err != nil {
		return nil, fmt.Errorf("read meta.run: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var job string
		var t sql.NullTime
		if err := rows.Scan(&job, &t); err != nil {
			return nil, err
		}
		if t.Valid {
			out[job] = t.Time
		}
	}
	return out, rows.Err()
}

func queryRuns(ctx context.Context, db *sql.DB, q string, args ...any) ([]RunRecord, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read meta.run: %w", err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var r RunRecord
		var ended sql.NullTime
		if err := rows.Scan(&r.ID, &r.Job, &r.Command, &r.Trigger, &r.Attempt, &r.Period, &r.Started, &ended,
			&r.Status, &r.RowsIn, &r.RowsOut, &r.Quarantined, &r.TestsFailed, &r.Error, &r.PID, &r.Host); err != nil {
			return nil, err
		}
		if ended.Valid {
			t := ended.Time
			r.Ended = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
