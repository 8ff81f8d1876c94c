package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestRunHistory(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r1, err := BeginRun(ctx, db, RunStart{Job: "nightly", Command: "run", Trigger: "schedule", Attempt: 2, PID: 7, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	r1.RowsIn, r1.RowsOut, r1.Quarantined, r1.TestsKO = 100, 97, 3, 1
	if err := r1.Finish(db, errors.New("transform: models failed")); err != nil {
		t.Fatal(err)
	}
	r2, _ := StartRun(ctx, db, "transform", "2025-01..2025-12", 8, "h")
	r2.Finish(db, nil)
	r3, _ := StartRun(ctx, db, "nightly", "", 9, "h")
	r3.Finish(db, fmt.Errorf("ingest: %w", context.Canceled))

	all, err := ListRuns(ctx, db, RunFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("ListRuns = %d runs, %v", len(all), err)
	}
	if all[0].ID != r3.ID || all[0].Status != StatusInterrupted {
		t.Fatalf("newest = %+v, want run %d interrupted", all[0], r3.ID)
	}
	got := all[2]
	if got.Job != "nightly" || got.Command != "run" || got.Trigger != "schedule" || got.Attempt != 2 || got.Status != StatusFailed ||
		got.RowsIn != 100 || got.RowsOut != 97 || got.Quarantined != 3 || got.TestsFailed != 1 || got.Error != "transform: models failed" || got.Ended == nil {
		t.Fatalf("run 1 = %+v", got)
	}
	if all[1].Period != "2025-01..2025-12" || all[1].Trigger != "manual" || all[1].Status != StatusOK {
		t.Fatalf("run 2 = %+v", all[1])
	}
	failed, _ := ListRuns(ctx, db, RunFilter{Status: StatusFailed})
	if len(failed) != 1 {
		t.Fatalf("failed = %+v", failed)
	}
	last, err := LastRuns(ctx, db)
	if err != nil || len(last) != 2 || last[0].Job != "nightly" || last[0].ID != r3.ID || last[1].Job != "transform" {
		t.Fatalf("LastRuns = %+v %v", last, err)
	}
	ok, err := LastSuccess(ctx, db)
	if err != nil || len(ok) != 1 || ok["transform"].IsZero() {
		t.Fatalf("LastSuccess = %v %v", ok, err)
	}
	lim, _ := ListRuns(ctx, db, RunFilter{Limit: 1, Job: "nightly"})
	if len(lim) != 1 || lim[0].ID != r3.ID {
		t.Fatalf("limit = %+v", lim)
	}
}

// A warehouse made before the command/trigger/attempt columns gains them.
func TestRunTableMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.duckdb")
	raw, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec(`CREATE SCHEMA meta; CREATE SEQUENCE meta.run_seq;
		CREATE TABLE meta.run (run_id BIGINT PRIMARY KEY DEFAULT nextval('meta.run_seq'), job VARCHAR NOT NULL, period VARCHAR,
		started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ, status VARCHAR NOT NULL, rows_in BIGINT, rows_out BIGINT,
		quarantined BIGINT, tests_failed BIGINT, error VARCHAR, pid INTEGER, host VARCHAR);
		INSERT INTO meta.run (job, started_at, status) VALUES ('old', now(), 'ok');`)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, _, err := OpenWriter(context.Background(), Options{Path: path}, CurrentHolder("", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := ListRuns(context.Background(), db, RunFilter{})
	if err != nil || len(runs) != 1 || runs[0].Job != "old" {
		t.Fatalf("%+v %v", runs, err)
	}
	if _, err := BeginRun(context.Background(), db, RunStart{Job: "new", Command: "report"}); err != nil {
		t.Fatal(err)
	}
}

func TestStatusOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, StatusOK},
		{errors.New("x"), StatusFailed},
		{fmt.Errorf("step: %w", context.Canceled), StatusInterrupted},
		{context.DeadlineExceeded, StatusFailed},
	} {
		if got := StatusOf(c.err); got != c.want {
			t.Errorf("StatusOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}
