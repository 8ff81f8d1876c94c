package benchnational

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
	"github.com/rpe-observatoire/observatoire/transform"
)

// The bare baselines: what DuckDB alone does with the same input, run as a
// subprocess of its own (BareMain) with the warehouse's DSN and settings
// (threads, memory limit), so that its time and peak RSS compare with
// observatoire's.

// BareIngestSQL is the statement the ingest baseline runs per source: every
// CSV file of that source in one read_csv, typed by DuckDB's sniffer (the
// layouts' ';', decimal comma and dd/mm/yyyy dates), rows it cannot parse
// skipped. No validation, pseudonymisation, ledger or quarantine.
const BareIngestSQL = `CREATE OR REPLACE TABLE bare_%s AS SELECT * FROM read_csv(%s, delim=';', header=true, decimal_separator=',', dateformat='%%d/%%m/%%Y', ignore_errors=true)`

// BareSource is one source of the ingest baseline.
type BareSource struct {
	Source  string  `json:"source"`
	Files   int     `json:"files"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
}

// BareIngestResult is what "bare ingest" prints (JSON).
type BareIngestResult struct {
	DuckDB  string       `json:"duckdb"`
	Sources []BareSource `json:"sources"`
	Rows    int64        `json:"rows"`
	Seconds float64      `json:"seconds"`
	Skipped []string     `json:"skipped"` // files bare DuckDB cannot read (the XLSX RPE registers)
}

// BareModel is one model of the transform baseline.
type BareModel struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Rows      int64   `json:"rows"`
	Build     float64 `json:"build_s"`
	Tests     float64 `json:"tests_s"`
	TestCount int     `json:"tests"`
}

// BareTransformResult is what "bare transform" prints (JSON).
type BareTransformResult struct {
	DuckDB  string      `json:"duckdb"`
	Models  []BareModel `json:"models"`
	Build   float64     `json:"build_s"`
	Tests   float64     `json:"tests_s"`
	Seconds float64     `json:"seconds"`
}

// BareMain runs a baseline: "ingest -db F -dir D" or "transform -db F"
// (both with -threads and -memory-limit). It prints its result as JSON on
// stdout and returns the exit status.
func BareMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "bare: ingest or transform")
		return 2
	}
	fs := flag.NewFlagSet("bare "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "DuckDB file")
	dir := fs.String("dir", "", "ingest: folder of the source files")
	threads := fs.Int("threads", 0, "DuckDB threads (0 = DuckDB's default)")
	mem := fs.String("memory-limit", "", "DuckDB memory_limit")
	temp := fs.String("temp-dir", "", "DuckDB temp_directory")
	ratio := fs.Float64("am-under3-ratio", transform.DefaultAMUnder3Ratio, "transform: am_under3_ratio")
	profile := fs.String("profile-dir", "", "transform: write DuckDB's JSON profile of each statement there (slower; not for timing)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *db == "" {
		fmt.Fprintln(stderr, "bare: -db is required")
		return 2
	}
	conn, err := duckdb.NewConnector(warehouse.DSN(warehouse.Options{Path: *db, MemoryLimit: *mem, Threads: *threads, TempDir: *temp}), nil)
	if err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	sdb := sql.OpenDB(conn)
	defer sdb.Close()
	sdb.SetMaxOpenConns(1) // one connection, as the runner uses
	ctx := context.Background()
	var res any
	switch args[0] {
	case "ingest":
		res, err = bareIngest(ctx, sdb, *dir, stderr)
	case "transform":
		res, err = bareTransform(ctx, sdb, *ratio, *profile, stderr)
	default:
		err = fmt.Errorf("unknown baseline %q (ingest, transform)", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(res)
	return 0
}

func duckdbVersion(ctx context.Context, db *sql.DB) string {
	var v string
	db.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&v)
	return v
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func bareIngest(ctx context.Context, db *sql.DB, dir string, log io.Writer) (*BareIngestResult, error) {
	if dir == "" {
		return nil, fmt.Errorf("-dir is required")
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	res := &BareIngestResult{DuckDB: duckdbVersion(ctx, db)}
	bySource := map[string][]string{}
	for _, f := range files {
		if strings.EqualFold(filepath.Ext(f), ".csv") {
			bySource[sourceOf(f)] = append(bySource[sourceOf(f)], filepath.Join(dir, filepath.FromSlash(f)))
		} else {
			res.Skipped = append(res.Skipped, f)
		}
	}
	var srcs []string
	for s := range bySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	t0 := time.Now()
	for _, s := range srcs {
		list := make([]string, len(bySource[s]))
		for i, f := range bySource[s] {
			list[i] = sqlString(f)
		}
		q := fmt.Sprintf(BareIngestSQL, s, "["+strings.Join(list, ", ")+"]")
		t := time.Now()
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM bare_"+s).Scan(&n); err != nil {
			return nil, err
		}
		bs := BareSource{Source: s, Files: len(list), Rows: n, Seconds: time.Since(t).Seconds()}
		res.Sources = append(res.Sources, bs)
		res.Rows += n
		fmt.Fprintf(log, "bare ingest: %s: %d files, %d rows in %.2fs\n", s, bs.Files, n, bs.Seconds)
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// bareSchemas are the schemas the runner's set-up creates before its session.
const bareSchemas = `CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS int;
CREATE SCHEMA IF NOT EXISTS mart;`

// BareModelSQL returns the statements that build model m on a full refresh,
// as the runner issues them but without its transaction, bookkeeping or
// build-and-swap (except for a model that reads its own previous rows,
// which needs the swap), and the queries of its data tests.
func BareModelSQL(m transform.Model, years []int) (build, tests []string) {
	switch m.Kind {
	case "view":
		build = []string{fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n%s", m.Name, m.SQL)}
	case "macro":
		build = []string{m.SQL}
	default:
		// the runner's full-build statements (transform.FullBuildSQL: one
		// CREATE TABLE AS, or one statement per year for a model built by year)
		if m.SelfSchema != "" {
			build = append([]string{
				fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", m.Name, m.SelfSchema),
				fmt.Sprintf("DROP TABLE IF EXISTS %s__new", m.Name),
			}, transform.FullRefreshBuildSQL(m, m.Name+"__new", years)...)
			build = append(build, "DROP TABLE "+m.Name, fmt.Sprintf("ALTER TABLE %s__new RENAME TO %s", m.Name, m.Table))
		} else {
			build = append([]string{"DROP TABLE IF EXISTS " + m.Name}, transform.FullRefreshBuildSQL(m, m.Name, years)...)
		}
	}
	for _, t := range m.Tests {
		tests = append(tests, fmt.Sprintf("SELECT count(*) OVER () AS n, CAST(to_json(f) AS VARCHAR) FROM (\n%s\n) f LIMIT %d",
			strings.ReplaceAll(t.Query, "{{this}}", m.Name), 100))
	}
	return build, tests
}

func bareTransform(ctx context.Context, db *sql.DB, ratio float64, profileDir string, log io.Writer) (*BareTransformResult, error) {
	models, err := transform.Models()
	if err != nil {
		return nil, err
	}
	res := &BareTransformResult{DuckDB: duckdbVersion(ctx, db)}
	t0 := time.Now()
	session := bareSchemas + "\n" + transform.FullRefreshSessionSQL(ratio)
	if _, err := db.ExecContext(ctx, session); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return nil, err
		}
		if _, err := db.ExecContext(ctx, "PRAGMA enable_profiling = 'json'"); err != nil {
			return nil, err
		}
	}
	for _, m := range models {
		var years []int
		if m.ByYear {
			if years, err = transform.Years(ctx, db); err != nil {
				return nil, err
			}
		}
		build, tests := BareModelSQL(m, years)
		bm := BareModel{Name: m.Name, Kind: m.Kind, TestCount: len(tests)}
		t := time.Now()
		for i, q := range build {
			if profileDir != "" {
				out := filepath.Join(profileDir, fmt.Sprintf("%s.%d.json", m.Name, i))
				if _, err := db.ExecContext(ctx, "PRAGMA profiling_output = "+sqlString(out)); err != nil {
					return nil, err
				}
			}
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		bm.Build = time.Since(t).Seconds()
		if m.Kind == "table" {
			if profileDir != "" { // or the count's profile overwrites the build's
				if _, err := db.ExecContext(ctx, "PRAGMA profiling_output = "+sqlString(filepath.Join(profileDir, m.Name+".count.json"))); err != nil {
					return nil, err
				}
			}
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+m.Name).Scan(&bm.Rows); err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		t = time.Now()
		for i, q := range tests {
			if profileDir != "" {
				out := filepath.Join(profileDir, fmt.Sprintf("%s.test%d.json", m.Name, i))
				if _, err := db.ExecContext(ctx, "PRAGMA profiling_output = "+sqlString(out)); err != nil {
					return nil, err
				}
			}
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("%s: test %d: %w", m.Name, i, err)
			}
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: test %d: %w", m.Name, i, err)
			}
		}
		bm.Tests = time.Since(t).Seconds()
		res.Build += bm.Build
		res.Tests += bm.Tests
		res.Models = append(res.Models, bm)
		fmt.Fprintf(log, "bare transform: %s: %d rows, build %.2fs, %d tests %.2fs\n", m.Name, bm.Rows, bm.Build, bm.TestCount, bm.Tests)
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}
