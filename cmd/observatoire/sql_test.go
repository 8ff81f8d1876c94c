package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
	"github.com/rpe-observatoire/observatoire/internal/config"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// analystCLI runs the command line in-process; stdin is never a terminal
// here, so 'sql' without a query reads it.
func analystCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// The analyst commands end to end on a small warehouse: snapshot, sql in
// every format and from every input, the sandbox's message, schema, export,
// and the hook that publishes after transform and run only.
func TestAnalystCommands(t *testing.T) {
	dir := t.TempDir()
	wh, snap := filepath.Join(dir, "warehouse.duckdb"), filepath.Join(dir, "snapshot.duckdb")
	t.Setenv("OBSERVATOIRE_CONFIG", "")
	t.Setenv("OBSERVATOIRE_WAREHOUSE", wh)
	t.Setenv("OBSERVATOIRE_SNAPSHOT", snap)
	t.Setenv("OBSERVATOIRE_THREADS", "2")

	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: wh})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE mart.indicator AS SELECT 'epci' AS level, '243500139' AS code, k AS period_kind, p AS period,
			'coverage_rate' AS indicator, v::DOUBLE AS value, 120::BIGINT AS n
		 FROM (VALUES ('year', '2024', 55.5), ('year', '2025', 57.25), ('month', '2025-03', 56.0)) t(k, p, v)`,
		`COMMENT ON TABLE mart.indicator IS 'Indicateurs, format long'`,
		`CREATE TABLE mart.indicator_catalog AS SELECT 'coverage_rate' AS indicator, 'Taux de couverture' AS label, 'rate' AS unit, 'Offre' AS theme`,
		`CREATE TABLE meta.quarantine AS SELECT 'Jeanne Martin' AS value`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	out, err := analystCLI(t, "", "snapshot")
	if err != nil || !strings.Contains(out, "snapshot: "+snap) {
		t.Fatalf("snapshot: %v\n%s", err, out)
	}

	out, err = analystCLI(t, "", "sql", "--format", "csv", "SELECT period, value FROM mart.indicator WHERE period_kind = 'year' ORDER BY period")
	if err != nil || out != "period,value\n2024,55.5\n2025,57.25\n" {
		t.Errorf("sql csv: %v %q", err, out)
	}
	out, err = analystCLI(t, "SELECT count(*) AS n FROM mart.indicator;\n", "sql", "--format", "json")
	if err != nil || out != "[\n  {\"n\": 3}\n]\n" {
		t.Errorf("sql from stdin: %v %q", err, out)
	}
	file := filepath.Join(dir, "q.sql")
	os.WriteFile(file, []byte("-- coverage\nSELECT code, value FROM mart.indicator ORDER BY value;\n"), 0o644)
	out, err = analystCLI(t, "", "sql", "-f", file, "--max-rows", "2")
	if err != nil || !strings.Contains(out, "(2 of 3 rows shown: the output is truncated; --max-rows N shows more") {
		t.Errorf("sql -f, truncated: %v\n%s", err, out)
	}
	xlsx := filepath.Join(dir, "out.xlsx")
	if _, err := analystCLI(t, "", "sql", "-f", file, "--out", xlsx); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(analyst.SheetName)
	f.Close()
	if len(rows) != 4 || rows[1][1] != "55.5" {
		t.Errorf("xlsx: %v", rows)
	}
	pq := filepath.Join(dir, "out.parquet")
	if _, err := analystCLI(t, "", "sql", "--out", pq, "FROM mart.indicator"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(pq); err != nil || st.Size() == 0 {
		t.Errorf("parquet: %v", err)
	}

	// Refusals: the message, and no file left by a failed --out.
	_, err = analystCLI(t, "", "sql", "SELECT * FROM read_csv('/etc/passwd')")
	if err == nil || !strings.HasPrefix(err.Error(), analyst.SandboxPrefix) {
		t.Errorf("escape: %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if _, err := analystCLI(t, "", "sql", "--out", bad, "SELECT nope"); err == nil {
		t.Error("a failing query succeeded")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*bad.csv*")); len(entries) != 0 {
		t.Errorf("a failed --out left %v", entries)
	}
	if out, _ := analystCLI(t, "", "sql", "SELECT count(*) AS n FROM meta.quarantine"); !strings.Contains(out, " 0\n") {
		t.Errorf("the quarantine was copied:\n%s", out)
	}

	out, err = analystCLI(t, "", "schema")
	if err != nil || !strings.Contains(out, "mart.indicator (table, 3 rows)\n  Indicateurs, format long\n") ||
		!strings.Contains(out, "coverage_rate  rate  Taux de couverture") {
		t.Errorf("schema: %v\n%s", err, out)
	}
	if _, err := analystCLI(t, "", "schema", "nothing.here"); err == nil {
		t.Error("schema of an unknown table succeeded")
	}

	exp := filepath.Join(dir, "export")
	out, err = analystCLI(t, "", "export", "--out", exp)
	if err != nil || !strings.Contains(out, "export: 2 tables in "+exp) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(exp, "mart/indicator/period_kind=year/period=2025/data_0.parquet")); err != nil {
		t.Error(err)
	}

	// The hook publishes after transform and run, not after other jobs.
	os.Remove(snap)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	db, err = warehouse.Open(context.Background(), warehouse.Options{Path: wh})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, job := range []string{"ingest", "report", "freshness"} {
		if err := publishSnapshotAfterRun(context.Background(), a, db, job); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(snap); err == nil {
			t.Fatalf("published after %s", job)
		}
	}
	for _, job := range []string{"transform", "run"} {
		if err := publishSnapshotAfterRun(context.Background(), a, db, job); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(snap); err != nil {
			t.Fatalf("not published after %s", job)
		}
		os.Remove(snap)
	}
}
