package analyst

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every way out of the sandbox we know of is refused with the analyst's
// message, and none of them leaves a trace.
func TestSandboxRefusesEscapes(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	out := t.TempDir()
	victim := filepath.Join(out, "victim.duckdb")
	attempts := []struct {
		name, sql, reason string
	}{
		{"COPY TO a file", "COPY (SELECT * FROM mart.indicator) TO '" + filepath.Join(out, "leak.csv") + "'", reasonFiles},
		{"COPY table TO", "COPY mart.indicator TO '" + filepath.Join(out, "leak.parquet") + "' (FORMAT parquet)", reasonFiles},
		{"COPY FROM a file", "COPY mart.indicator FROM '/etc/passwd'", reasonFiles},
		{"EXPORT DATABASE", "EXPORT DATABASE '" + filepath.Join(out, "dump") + "'", reasonFiles},
		{"read_csv of /etc/passwd", "SELECT * FROM read_csv('/etc/passwd')", reasonFiles},
		{"read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd', header = false)", reasonFiles},
		{"read_text", "SELECT content FROM read_text('/etc/passwd')", reasonFiles},
		{"read_blob", "SELECT content FROM read_blob('/etc/hostname')", reasonFiles},
		{"read_json", "SELECT * FROM read_json_auto('/etc/passwd')", reasonFiles},
		{"read_parquet over http", "SELECT * FROM read_parquet('https://example.org/x.parquet')", reasonFiles},
		{"glob", "SELECT * FROM glob('/etc/*')", reasonFiles},
		{"the live warehouse beside the snapshot", "SELECT * FROM read_blob('" + filepath.Join(filepath.Dir(snap), "warehouse.duckdb") + "')", reasonFiles},
		{"ATTACH the live warehouse", "ATTACH '" + filepath.Join(filepath.Dir(snap), "warehouse.duckdb") + "' AS live (READ_ONLY)", reasonAttach},
		{"the snapshot's folder", "SELECT * FROM glob('" + filepath.Dir(snap) + "/*')", reasonFiles},
		{"ATTACH a file", "ATTACH '" + victim + "' AS victim", reasonAttach},
		{"ATTACH in memory", "ATTACH ':memory:' AS scratch", reasonAttach},
		{"DETACH", "DETACH snapshot", reasonAttach},
		{"DETACH the in-memory database", "DETACH memory", reasonAttach},
		{"INSTALL", "INSTALL httpfs", reasonExtensions},
		{"LOAD", "LOAD httpfs", reasonExtensions},
		{"LOAD a path", "LOAD '/tmp/evil.duckdb_extension'", reasonExtensions},
		{"SET external access back on", "SET enable_external_access = true", reasonSettings},
		{"unlock the configuration", "SET lock_configuration = false", reasonSettings},
		{"SET GLOBAL", "SET GLOBAL enable_external_access = true", reasonSettings},
		{"RESET", "RESET enable_external_access", reasonSettings},
		{"SET threads", "SET threads = 64", reasonSettings},
		{"SET memory_limit", "SET memory_limit = '500GB'", reasonSettings},
		{"SET max_temp_directory_size", "SET max_temp_directory_size = '1TB'", reasonSettings},
		{"SET allowed_directories", "SET allowed_directories = ['/']", reasonSettings},
		{"SET search_path", "SET search_path = 'mart'", reasonSettings},
		{"PRAGMA memory_limit", "PRAGMA memory_limit = '500GB'", reasonSettings},
		{"PRAGMA enable_profiling", "PRAGMA enable_profiling", reasonSettings},
		{"CALL enable_profiling", "CALL enable_profiling()", reasonSettings},
		{"CREATE TABLE in the snapshot", "CREATE TABLE mart.mine AS SELECT 1 AS x", reasonReadOnly},
		{"INSERT", "INSERT INTO mart.indicator (level) VALUES ('x')", reasonReadOnly},
		{"UPDATE", "UPDATE mart.indicator SET value = 0", reasonReadOnly},
		{"DELETE", "DELETE FROM mart.indicator", reasonReadOnly},
		{"DROP", "DROP TABLE mart.indicator", reasonReadOnly},
		{"PREPARE", "PREPARE q AS SELECT 1", reasonPrepare},
		{"hidden after a harmless statement", "SELECT 1; COPY (SELECT 1) TO '" + filepath.Join(out, "two.csv") + "'", reasonFiles},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := s.Run(context.Background(), a.sql, Output{Format: FormatTable, W: &buf})
			var se *SandboxError
			if !errors.As(err, &se) {
				t.Fatalf("%s: want a sandbox refusal, got %v", a.sql, err)
			}
			if !strings.Contains(err.Error(), SandboxPrefix) || se.Reason != a.reason {
				t.Fatalf("%s:\n got %q\nwant reason %q", a.sql, err, a.reason)
			}
		})
	}
	// Nothing was written, and the session is as it was.
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Errorf("files written by refused statements: %v", entries)
	}
	got := queryStrings(t, s.Conn(), `SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),
		current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions'),
		(SELECT count(*) FROM duckdb_databases() WHERE NOT internal), current_setting('max_temp_directory_size')`)
	if want := []string{"false", "true", "false", "false", "2", "953.6 MiB"}; strings.Join(got[0], ",") != strings.Join(want, ",") {
		t.Errorf("settings after the attempts: got %v, want %v", got[0], want)
	}
}

// What analysts legitimately do still works inside the sandbox.
func TestSandboxAllows(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	ok := []string{
		"SELECT count(*) FROM mart.indicator",
		"FROM mart.indicator_year LIMIT 3",
		"SELECT * FROM mart.published_indicator(5) LIMIT 3",
		"PRAGMA table_info('mart.indicator')",
		"DESCRIBE mart.indicator",
		"SHOW TABLES",
		"SUMMARIZE SELECT value FROM mart.indicator",
		"EXPLAIN SELECT * FROM mart.indicator",
		"PIVOT (FROM mart.indicator WHERE period_kind = 'year' AND indicator = 'coverage_rate') ON period USING first(value) GROUP BY code",
		"CREATE TEMP TABLE mine AS SELECT code, value FROM mart.indicator WHERE indicator = 'coverage_rate'",
		"SELECT count(*) FROM mine",
		"CREATE TEMP VIEW v AS SELECT 1 AS x",
		"SET VARIABLE epci = '243500139'",
		"SELECT count(*) FROM mart.indicator WHERE code = getvariable('epci')",
		"USE snapshot.mart",
		"SELECT count(*) FROM indicator",
		"SELECT strftime(DATE '2025-03-01', '%B %Y'), 'é' || upper('à')",
		"SELECT json_object('a', 1)",
		"BEGIN; SELECT 1; COMMIT",
	}
	for _, q := range ok {
		var buf bytes.Buffer
		if err := s.Run(context.Background(), q, Output{Format: FormatTable, W: &buf}); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// A runaway query is stopped by the timeout, and the session stays usable.
func TestQueryTimeout(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 500*time.Millisecond)
	start := time.Now()
	var buf bytes.Buffer
	err := s.Run(context.Background(),
		"SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b", // 10^12 rows
		Output{Format: FormatTable, W: &buf})
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("want a timeout, got %v", err)
	}
	if !strings.Contains(err.Error(), "cancelled after 500ms") {
		t.Errorf("message: %q", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("the query ran %s past a 500ms timeout", elapsed)
	}
	buf.Reset()
	if err := s.Run(context.Background(), "SELECT 42 AS answer", Output{Format: FormatCSV, W: &buf}); err != nil || buf.String() != "answer\n42\n" {
		t.Fatalf("after the timeout: %q, %v", buf.String(), err)
	}
}
