package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const runDDL = `
CREATE SEQUENCE IF NOT EXISTS meta.run_seq;
CREATE TABLE IF NOT EXISTS meta.run (
	run_id       BIGINT PRIMARY KEY DEFAULT nextval('meta.run_seq'),
	job          VARCHAR NOT NULL,
	period       VARCHAR,
	started_at   TIMESTAMPTZ NOT NULL,
	ended_at     TIMESTAMPTZ,
	status       VARCHAR NOT NULL,  -- running, ok, failed
	rows_in      BIGINT,
	rows_out     BIGINT,
	quarantined  BIGINT,
	tests_failed BIGINT,
	error        VARCHAR,
	pid          INTEGER,
	host         VARCHAR
);`

// Run is one row of meta.run being recorded.
type Run struct {
	ID                   int64
	Job, Period          string
	Started              time.Time
	RowsIn, RowsOut      int64
	Quarantined, TestsKO int64
}

// StartRun records a running job and returns its id.
func StartRun(ctx context.Context, db *sql.DB, job, period string, pid int, host string) (*Run, error) {
	r := &Run{Job: job, Period: period, Started: time.Now()}
	err := db.QueryRowContext(ctx,
		`INSERT INTO meta.run (job, period, started_at, status, pid, host) VALUES (?, ?, ?, 'running', ?, ?) RETURNING run_id`,
		job, period, r.Started, pid, host).Scan(&r.ID)
	if err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	return r, nil
}

// Finish records the end of a run; runErr nil means success. It uses a fresh
// context so that a cancelled run is still recorded as failed.
func (r *Run) Finish(db *sql.DB, runErr error) error {
	status, msg := "ok", sql.NullString{}
	if runErr != nil {
		status, msg = "failed", sql.NullString{String: runErr.Error(), Valid: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx,
		`UPDATE meta.run SET ended_at = ?, status = ?, rows_in = ?, rows_out = ?, quarantined = ?, tests_failed = ?, error = ? WHERE run_id = ?`,
		time.Now(), status, r.RowsIn, r.RowsOut, r.Quarantined, r.TestsKO, msg, r.ID)
	return err
}
