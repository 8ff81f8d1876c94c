package transform

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Synthetic warehouse for the benchmarks, generated in SQL. Sizes scale
// with BENCH_SCALE (default 1): communes 2,000 x scale, AMs 15,000 x scale,
// 24 months (availability and monthly register snapshots: 360,000 x scale
// rows each), activity events 300,000 x scale, requests 36,000 x scale.
// Pseudo-random values come from hash() of row numbers: deterministic.
const benchGenSQL = `
SET VARIABLE nc = %[1]d;   -- communes
SET VARIABLE nam = %[2]d;  -- AMs
SET VARIABLE nev = %[3]d;  -- activity events
SET VARIABLE nrq = %[4]d;  -- requests
SET VARIABLE nm = 24;      -- months, from 2024-01
CREATE MACRO h(x, salt) AS (hash(x * 7919 + salt) %% 1000000) / 1000000.0;
CREATE TABLE bench_commune AS
SELECT i, CAST(10000 + i AS VARCHAR) AS code,
    CAST(10 + i %% 40 AS VARCHAR) AS dep, CAST(i %% 40 %% 8 AS VARCHAR) AS reg,
    CAST(200000000 + i // 15 AS VARCHAR) AS epci, 'R' || CAST(i // 9 AS VARCHAR) AS rpe
FROM range(getvariable('nc')) t(i);
INSERT INTO ref.territory
SELECT 'commune', code, 'Commune ' || code, 'epci', epci, 1000 FROM bench_commune
UNION ALL SELECT DISTINCT 'epci', epci, 'EPCI ' || epci, 'departement', first(dep) OVER (PARTITION BY epci), NULL FROM bench_commune
UNION ALL SELECT DISTINCT 'rpe', rpe, 'RPE ' || rpe, 'departement', first(dep) OVER (PARTITION BY rpe), NULL FROM bench_commune
UNION ALL SELECT DISTINCT 'departement', dep, 'Dep ' || dep, 'region', reg, NULL FROM bench_commune
UNION ALL SELECT DISTINCT 'region', reg, 'Region ' || reg, 'france', 'FR', NULL FROM bench_commune
UNION ALL SELECT 'france', 'FR', 'France', NULL, NULL, NULL;
INSERT INTO ref.commune_territory
SELECT code, 'commune', code FROM bench_commune
UNION ALL SELECT code, 'epci', epci FROM bench_commune
UNION ALL SELECT code, 'rpe', rpe FROM bench_commune
UNION ALL SELECT code, 'departement', dep FROM bench_commune
UNION ALL SELECT code, 'region', reg FROM bench_commune
UNION ALL SELECT code, 'france', 'FR' FROM bench_commune;
INSERT INTO raw.population
SELECT code, y, round(5 + 120 * h(i, y), 1), CAST(2 + 40 * h(i, y + 1) AS INTEGER), 1, i
FROM bench_commune, range(2023, 2026) r(y);
INSERT INTO raw.collective_places
SELECT code, 2024, CAST(30 * h(i, 11) AS INTEGER), CAST(6 * h(i, 12) AS INTEGER), CAST(4 * h(i, 13) AS INTEGER), CAST(2 * h(i, 14) AS INTEGER), NULL, 2, i
FROM bench_commune;
INSERT INTO raw.rpe_register
SELECT rpe, 'RPE ' || rpe, 'epci', list(code ORDER BY code), 0.5 + round(h(min(i), 21), 1), ['guichet_unique'], 3, min(i)
FROM bench_commune GROUP BY rpe;
INSERT INTO raw.caf_rate
SELECT 'departement', dep, 2023, m, 20 + 40 * h(min(i), 31), 4, min(i)
FROM bench_commune, (VALUES ('total'), ('am'), ('eaje')) v(m) GROUP BY dep, m;
CREATE TABLE bench_am AS
SELECT a, 'am' || CAST(a AS VARCHAR) AS am_id, c.code AS commune, c.dep,
    1 + CAST(4 * h(a, 41) AS INTEGER) %% 4 AS places,
    CASE WHEN h(a, 42) < 0.5 THEN NULL ELSE CAST(2 * h(a, 43) AS INTEGER) + 1 END AS places_under3,
    1960 + CAST(40 * h(a, 44) AS INTEGER) AS birth_year,
    DATE '2000-01-01' + CAST(9500 * h(a, 45) AS INTEGER) AS approval_date,
    CASE WHEN h(a, 46) < 0.08 THEN DATE '2024-01-01' + CAST(700 * h(a, 47) AS INTEGER) END AS end_date
FROM range(getvariable('nam')) t(a)
JOIN bench_commune c ON c.i = CAST(getvariable('nc') * h(a, 40) AS INTEGER);
CREATE TABLE bench_month AS
SELECT m, CAST(DATE '2024-01-01' + to_months(CAST(m AS INTEGER)) AS DATE) AS month FROM range(getvariable('nm')) t(m);
INSERT INTO raw.am_register
SELECT mo.month, a.am_id, a.commune, h(a.a, 50) < 0.1, a.approval_date, a.end_date,
    CASE WHEN h(a.a, 51) < 0.02 THEN 'suspended' ELSE 'active' END, a.places, a.places_under3, a.birth_year,
    100 + mo.m, a.a
FROM bench_month mo, bench_am a;
INSERT INTO raw.availability
SELECT mo.month, a.am_id, a.commune,
    CASE WHEN h(a.a, 60) < 0.85 THEN mo.month - CAST(300 * h(a.a * 31 + mo.m // 6, 61) AS INTEGER) END,
    least(a.places, CAST((a.places + 1) * h(a.a * 97 + mo.m // 3, 62) AS INTEGER)),
    CASE WHEN h(a.a, 63) < 0.3 THEN 1 + CAST(2 * h(a.a, 64) AS INTEGER) ELSE 0 END,
    mo.month, (['under18m', '18m_3y', 'over3y', 'all'])[1 + CAST(4 * h(a.a, 65) AS INTEGER) %% 4],
    h(a.a, 66) < 0.1, h(a.a, 67) < 0.05, h(a.a, 68) < 0.05, false, false, h(a.a, 69) < 0.3, h(a.a, 70) < 0.5, h(a.a, 71) < 0.4,
    h(a.a, 72) < 0.2, h(a.a, 73) < 0.3,
    200 + mo.m, a.a
FROM bench_month mo, bench_am a;
INSERT INTO raw.rpe_activity
SELECT CAST(date_trunc('month', d) AS DATE), c.rpe, d, k, p, tp, CASE WHEN h(e, 83) < 0.9 THEN c.code END,
    CASE WHEN k IN ('atelier', 'collective_time', 'training') THEN 3 END,
    CASE WHEN k IN ('atelier', 'collective_time') THEN 2 + CAST(8 * h(e, 84) AS INTEGER) END, NULL,
    CASE WHEN k IN ('atelier', 'collective_time', 'training') THEN
        ['am' || CAST(CAST(getvariable('nam') * h(e, 85) AS INTEGER) AS VARCHAR), 'am' || CAST(CAST(getvariable('nam') * h(e, 86) AS INTEGER) AS VARCHAR)] END,
    300 + CAST(datediff('month', DATE '2024-01-01', d) AS INTEGER), e
FROM (
    SELECT e, DATE '2024-01-01' + CAST(730 * h(e, 80) AS INTEGER) AS d,
        (['contact_phone', 'contact_phone', 'contact_email', 'contact_in_person', 'appointment', 'atelier', 'collective_time', 'training', 'permanence', 'meeting'])[1 + CAST(10 * h(e, 81) AS INTEGER) %% 10] AS k,
        (['parent', 'parent', 'am', 'home_carer', 'partner'])[1 + CAST(5 * h(e, 87) AS INTEGER) %% 5] AS p,
        (['search', 'contract', 'employer', 'conflict', 'training', 'profession', 'other'])[1 + CAST(7 * h(e, 88) AS INTEGER) %% 7] AS tp,
        CAST(getvariable('nc') * h(e, 82) AS INTEGER) AS ci
    FROM range(getvariable('nev')) t(e)
) ev JOIN bench_commune c ON c.i = ev.ci;
INSERT INTO raw.family_request
SELECT CAST(date_trunc('month', d) AS DATE), 'q' || CAST(r AS VARCHAR), c.rpe, c.code, d, CAST(30 * h(r, 91) AS INTEGER),
    d + CAST(200 * h(r, 92) AS INTEGER), h(r, 93) < 0.1, h(r, 94) < 0.03, 'am',
    CASE WHEN h(r, 95) < 0.9 THEN d + CAST(25 * h(r, 96) AS INTEGER) END,
    (['found_am', 'found_am', 'found_creche', 'other', 'none', 'withdrawn', 'pending'])[1 + CAST(7 * h(r, 97) AS INTEGER) %% 7],
    d + 30, 400 + CAST(datediff('month', DATE '2024-01-01', d) AS INTEGER), r
FROM (SELECT r, DATE '2024-01-01' + CAST(730 * h(r, 90) AS INTEGER) AS d, CAST(getvariable('nc') * h(r, 98) AS INTEGER) AS ci
    FROM range(getvariable('nrq')) t(r)) q
JOIN bench_commune c ON c.i = q.ci;
INSERT INTO meta.file_ledger (file_id, path, sha256, source, period, loaded_at)
SELECT DISTINCT file_id, 'bench', 'x', 'bench', NULL, now() FROM (
    SELECT file_id FROM raw.am_register UNION ALL SELECT file_id FROM raw.availability
    UNION ALL SELECT file_id FROM raw.rpe_activity UNION ALL SELECT file_id FROM raw.family_request
    UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4);
DROP MACRO h;
`

func benchScale() int {
	if s, err := strconv.Atoi(os.Getenv("BENCH_SCALE")); err == nil && s > 0 {
		return s
	}
	return 1
}

// benchDB creates a file-backed warehouse with the synthetic data.
func benchDB(b *testing.B) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.duckdb")
	db, err := sql.Open("duckdb", path+"?autoinstall_known_extensions=false&autoload_known_extensions=false")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	execFile(b, db, filepath.Join("testdata", "schema.sql"))
	s := benchScale()
	t0 := time.Now()
	mustExec(b, db, fmt.Sprintf(benchGenSQL, 2000*s, 15000*s, 300000*s, 36000*s))
	var n int64
	db.QueryRow(`SELECT (SELECT count(*) FROM raw.availability) + (SELECT count(*) FROM raw.am_register) + (SELECT count(*) FROM raw.rpe_activity) + (SELECT count(*) FROM raw.family_request)`).Scan(&n)
	b.Logf("synthetic warehouse: %d raw rows in %v", n, time.Since(t0).Round(time.Millisecond))
	return db
}

// BenchmarkTransform: a full refresh through the runner (transactions,
// build-and-swap, data tests, model state).
func BenchmarkTransform(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, db, Options{FullRefresh: true, RunID: int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			var rows int64
			for _, m := range res.Models {
				rows += m.Rows
			}
			b.ReportMetric(float64(rows), "rows_written")
		}
	}
}

// BenchmarkTransformBareSQL runs the very statements the runner ran (model
// builds and data test queries, as recorded in Result.Statements) directly
// on one DuckDB connection, without the runner: no transactions, no model
// state, no failure bookkeeping.
func BenchmarkTransformBareSQL(b *testing.B) {
	ctx := context.Background()
	_, conn, res := recordedRun(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := replay(ctx, conn, res.Statements); err != nil {
			b.Fatal(err)
		}
	}
}

// recordedRun is a full run on the benchmark warehouse, whose statements
// (res.Statements) a benchmark replays on conn.
func recordedRun(b *testing.B) (*sql.DB, *sql.Conn, Result) {
	db := benchDB(b)
	res, err := Run(context.Background(), db, Options{FullRefresh: true})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return db, conn, res
}

func replay(ctx context.Context, conn *sql.Conn, stmts []string) error {
	for _, s := range stmts {
		if strings.HasPrefix(s, "SELECT") {
			rows, err := conn.QueryContext(ctx, s)
			if err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
			for rows.Next() {
			}
			rows.Close()
			continue
		}
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// BenchmarkTransformOneMonth: one new month of availability, register,
// requests and activity after a full build, run incrementally (compare
// with BenchmarkTransform).
func BenchmarkTransformOneMonth(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	// Hold back the last month, build, then add it back at each iteration.
	mustExec(b, db, `CREATE TABLE hold_av AS SELECT * FROM raw.availability WHERE month = DATE '2025-12-01';
		CREATE TABLE hold_reg AS SELECT * FROM raw.am_register WHERE snapshot_month = DATE '2025-12-01';
		CREATE TABLE hold_req AS SELECT * FROM raw.family_request WHERE month = DATE '2025-12-01';
		CREATE TABLE hold_act AS SELECT * FROM raw.rpe_activity WHERE month = DATE '2025-12-01'`)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		mustExec(b, db, `DELETE FROM raw.availability WHERE month = DATE '2025-12-01';
			DELETE FROM raw.am_register WHERE snapshot_month = DATE '2025-12-01';
			DELETE FROM raw.family_request WHERE month = DATE '2025-12-01';
			DELETE FROM raw.rpe_activity WHERE month = DATE '2025-12-01'`)
		if _, err := Run(ctx, db, Options{FullRefresh: true}); err != nil {
			b.Fatal(err)
		}
		mustExec(b, db, `INSERT INTO raw.availability SELECT * FROM hold_av;
			INSERT INTO raw.am_register SELECT * FROM hold_reg;
			INSERT INTO raw.family_request SELECT * FROM hold_req;
			INSERT INTO raw.rpe_activity SELECT * FROM hold_act`)
		b.StartTimer()
		res, err := Run(ctx, db, Options{Months: []time.Time{time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}})
		if err != nil {
			b.Fatal(err)
		}
		if res.FullRefresh || res.Since.Format("2006-01") != "2025-12" {
			b.Fatalf("not incremental from 2025-12: full=%v since=%v", res.FullRefresh, res.Since)
		}
	}
}

// BenchmarkTransformVsBare alternates, on the same warehouse, a full run
// through the runner and the replay of its statements on bare DuckDB, so
// that both see the same machine load; it reports both times and their
// ratio (goal: ratio <= 1.1).
func BenchmarkTransformVsBare(b *testing.B) {
	ctx := context.Background()
	db, conn, res := recordedRun(b)
	var runner, bare time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := Run(ctx, db, Options{FullRefresh: true, RunID: int64(i)}); err != nil {
			b.Fatal(err)
		}
		runner += time.Since(t0)
		t0 = time.Now()
		if err := replay(ctx, conn, res.Statements); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(t0)
	}
	b.ReportMetric(runner.Seconds()/float64(b.N), "runner_s/op")
	b.ReportMetric(bare.Seconds()/float64(b.N), "bare_s/op")
	b.ReportMetric(runner.Seconds()/bare.Seconds(), "ratio")
}
