package transform

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func tableStates(t *testing.T, db dbtx) map[string]TableState {
	t.Helper()
	list, err := TableStates(context.Background(), db, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]TableState{}
	for _, s := range list {
		out[s.Table] = s
	}
	return out
}

// TestTableStates: after a first build every table is "full" with no
// previous build; after an incremental run, the incremental tables carry
// their window, and the previous content with that window's rows deleted
// and re-read from the new table is the new table (the contract the
// analyst snapshot relies on); a run with nothing new, or a failed one,
// leaves the tables and their versions as they were and gives no window.
func TestTableStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	if s, err := TableStates(ctx, db, 0); err != nil || len(s) != 0 {
		t.Fatalf("never transformed: %v %v", s, err)
	}
	execFile(t, db, "testdata/hand/ref.sql")
	execFile(t, db, "testdata/hand/part1.sql")
	mustRun(t, db, Options{RunID: 1})
	first := tableStates(t, db)
	models, err := Models()
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, m := range models {
		if m.Kind != "table" {
			if _, ok := first[m.Name]; ok {
				t.Errorf("%s (%s) listed", m.Name, m.Kind)
			}
			continue
		}
		tables++
		s := first[m.Name]
		if s.BuiltAt.IsZero() || !s.PrevBuiltAt.IsZero() || s.Mode != "full" || s.Window != "" {
			t.Errorf("%s after the first build: %+v", m.Name, s)
		}
	}
	if len(first) != tables {
		t.Errorf("%d states, %d model tables", len(first), tables)
	}

	// Keep a copy of every table as it is now.
	for name := range first {
		mustExec(t, db, fmt.Sprintf("CREATE TABLE copy_%s AS SELECT * FROM %s", strings.ReplaceAll(name, ".", "_"), name))
	}
	execFile(t, db, "testdata/hand/part2.sql")
	mustRun(t, db, Options{RunID: 2})
	second := tableStates(t, db)
	incremental := 0
	for _, m := range models {
		s, ok := second[m.Name]
		if !ok {
			continue
		}
		if !s.BuiltAt.After(first[m.Name].BuiltAt) || !s.PrevBuiltAt.Equal(first[m.Name].BuiltAt) {
			t.Errorf("%s: built_at %v prev %v, first build %v", m.Name, s.BuiltAt, s.PrevBuiltAt, first[m.Name].BuiltAt)
		}
		if m.Incremental == "" {
			if s.Mode != "full" || s.Window != "" {
				t.Errorf("%s (not incremental): %+v", m.Name, s)
			}
			continue
		}
		if s.Mode != "incremental" || s.Window != m.Incremental || s.Since.Format("2006-01") != "2025-03" ||
			s.SessionSQL != SessionSQL(s.Since, s.Until, DefaultAMUnder3Ratio) {
			t.Errorf("%s: %+v", m.Name, s)
			continue
		}
		incremental++
		// The previous content, its window replaced by the new table's rows,
		// is the new table.
		cp := "copy_" + strings.ReplaceAll(m.Name, ".", "_")
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			s.SessionSQL,
			fmt.Sprintf("DELETE FROM %s WHERE %s", cp, s.Window),
			fmt.Sprintf("INSERT INTO %s SELECT * FROM %s WHERE %s", cp, m.Name, s.Window),
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var diff int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM (SELECT * FROM %[1]s EXCEPT ALL SELECT * FROM %[2]s))
			+ (SELECT count(*) FROM (SELECT * FROM %[2]s EXCEPT ALL SELECT * FROM %[1]s))`, cp, m.Name)).Scan(&diff); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if diff != 0 {
			t.Errorf("%s: the previous content with its window replaced differs from the new table by %d rows", m.Name, diff)
		}
	}
	if incremental < 10 {
		t.Errorf("only %d incremental tables", incremental)
	}

	// Nothing new: the incremental tables are fresh, untouched.
	mustRun(t, db, Options{RunID: 3})
	third := tableStates(t, db)
	for _, m := range models {
		if m.Incremental == "" || m.Kind != "table" {
			continue
		}
		s := third[m.Name]
		if !s.BuiltAt.Equal(second[m.Name].BuiltAt) || !s.PrevBuiltAt.Equal(second[m.Name].PrevBuiltAt) || s.Mode != "" || s.Window != "" {
			t.Errorf("%s after a run with nothing new: %+v, before %+v", m.Name, s, second[m.Name])
		}
	}

	// A failed build leaves the version; the attempt gives no window.
	mustExec(t, db, `INSERT INTO raw.am_register VALUES (DATE '2025-05-01', 'amX', '35001', false, DATE '2020-01-01', NULL, 'active', 9, NULL, 1980, 18, 2)`)
	if _, err := Run(ctx, db, Options{RunID: 4, Months: []time.Time{time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}}); err == nil {
		t.Fatal("the run with a bad register row succeeded")
	}
	fourth := tableStates(t, db)
	for _, name := range []string{"staging.am_register", "int.am_month"} { // failed, skipped
		s := fourth[name]
		if !s.BuiltAt.Equal(third[name].BuiltAt) || !s.PrevBuiltAt.Equal(third[name].PrevBuiltAt) || s.Mode != "" || s.Window != "" {
			t.Errorf("%s after a failed run: %+v, before %+v", name, s, third[name])
		}
	}
	// A different ratio: the recorded builds are not of today's definition.
	list, err := TableStates(ctx, db, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Mode != "" {
			t.Errorf("%s: mode %q with another ratio than its build's", s.Table, s.Mode)
		}
	}
}

// TestModelStateUpgrade: a warehouse whose meta.model_state predates
// prev_built_at can be read, and the next run adds the column.
func TestModelStateUpgrade(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	execFile(t, db, "testdata/hand/ref.sql")
	execFile(t, db, "testdata/hand/part1.sql")
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS meta; CREATE TABLE meta.model_state (model VARCHAR PRIMARY KEY, run_id BIGINT, status VARCHAR, mode VARCHAR,
		since DATE, until DATE, rows BIGINT, duration_ms BIGINT, tests_failed INTEGER, tests_warned INTEGER, error VARCHAR,
		sql_hash VARCHAR, file_watermark BIGINT, built_at TIMESTAMP, updated_at TIMESTAMP);
		INSERT INTO meta.model_state (model, status, mode, built_at) VALUES ('staging.population', 'ok', 'full', TIMESTAMP '2026-01-01 00:00:00')`)
	s := tableStates(t, db)
	if got := s["staging.population"]; !got.BuiltAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !got.PrevBuiltAt.IsZero() || got.Mode != "" {
		t.Errorf("old model_state: %+v", got)
	}
	mustRun(t, db, Options{RunID: 1})
	s = tableStates(t, db)
	if got := s["staging.population"]; !got.PrevBuiltAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || got.Mode != "full" {
		t.Errorf("after the upgrade: %+v", got)
	}
}
