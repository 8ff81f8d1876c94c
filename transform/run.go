// Package transform runs the SQL models of sql/ (package sqlmodels) on the
// warehouse: staging tables, intermediate facts per commune and month, then
// every indicator of the territorial diagnostic at every level and period in
// mart.indicator.
//
// Models run in dependency order, each in its own transaction: a table is
// built under a temporary name, its data tests run, and only then does it
// replace the previous table, so a failing model leaves the previous good
// table in place and the models that depend on it are skipped.
//
// Incremental runs recompute a window of months [since, until]: every
// computation in the models looks backwards in time only (latest population
// year on or before the month, last register snapshot, spells of
// under-activity, previous period, same period a year before), so the rows
// of periods ending before "since" cannot change and are kept; the rows of
// periods that end on or after it are deleted and recomputed. A full refresh
// is the same computation with an unbounded window; a test checks both give
// identical tables.
package transform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// DefaultAMUnder3Ratio is the share of an active AM's approved places counted
// as places for children under 3 when the register has no under-3 figure:
// 758,900 of 934,300 places of employed AMs in 2018 (ONAPE; inference from
// published totals, see shared/domain.md).
const DefaultAMUnder3Ratio = 0.81

// Options of a transform run.
type Options struct {
	// FullRefresh rebuilds every model from scratch.
	FullRefresh bool
	// Months touched by new data (as reported by ingest). nil: detect them
	// from meta.file_ledger (files loaded after the last successful run of
	// each model, see meta.model_state). The window recomputed starts at the
	// earliest of these months, moved earlier when a touched file holds rows
	// of earlier months (a request received earlier, an event dated earlier).
	Months []time.Time
	// AMUnder3Ratio is the share of approved places of active AMs counted for
	// under-3s when the register gives no under-3 figure. 0 = 0.81.
	AMUnder3Ratio float64
	// From, To ("2025-01", "2025-12") recompute that range of months only (a
	// backfill). To empty = up to the last month. Later periods that look
	// back into the range (previous period, same period last year, spells)
	// are refreshed only when To is empty.
	From, To string
	// RunID is meta.run's id, recorded with model states and test failures.
	RunID int64
	Log   *slog.Logger
}

// ModelResult is the outcome of one model.
type ModelResult struct {
	Name string
	// Status: "ok", "failed" (its previous table is kept), "skipped" (a model
	// it reads failed or was skipped), "fresh" (no new data, nothing to do).
	Status string
	// Mode: "full" or "incremental" (only the window was recomputed).
	Mode        string
	Rows        int64 // rows written (the whole table, or the window)
	Duration    time.Duration
	TestsFailed int // data tests with failing rows (any severity)
	TestsWarned int // of which severity warn
	Err         error
}

// Result of a run.
type Result struct {
	Models      []ModelResult
	TestsFailed int // data tests with failing rows, any severity (rows in meta.test_failure)
	TestsWarned int // of which severity warn
	Failed      int // models failed
	Skipped     int // models skipped because a model they read failed
	FullRefresh bool
	// Since and Until bound the months recomputed by incremental models
	// (zero when nothing was to do).
	Since, Until time.Time
	// Statements are the SQL statements run, in order, without transaction
	// control and meta bookkeeping: running them directly on DuckDB gives the
	// same tables (BenchmarkTransformBareSQL does exactly that).
	Statements []string
	Duration   time.Duration
}

// ErrModelsFailed is wrapped by Run's error when a model failed.
var ErrModelsFailed = errors.New("transform: models failed")

var (
	minDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)
)

const metaDDL = `
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS int;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE TABLE IF NOT EXISTS meta.model_state (
	model          VARCHAR PRIMARY KEY, -- schema.table
	run_id         BIGINT,              -- meta.run of the last attempt
	status         VARCHAR,             -- ok, failed, skipped, fresh
	mode           VARCHAR,             -- full, incremental
	since          DATE,                -- window recomputed by the last attempt
	until          DATE,
	rows           BIGINT,
	duration_ms    BIGINT,
	tests_failed   INTEGER,
	tests_warned   INTEGER,
	error          VARCHAR,
	sql_hash       VARCHAR,             -- of the model file and parameters, at the last success
	file_watermark BIGINT,              -- max meta.file_ledger.file_id seen at the last success
	built_at       TIMESTAMP,           -- last success
	updated_at     TIMESTAMP,
	prev_built_at  TIMESTAMP            -- built_at before the last success (see TableStates)
);
ALTER TABLE meta.model_state ADD COLUMN IF NOT EXISTS prev_built_at TIMESTAMP;
CREATE TABLE IF NOT EXISTS meta.test_failure (
	run_id   BIGINT,
	model    VARCHAR,
	test     VARCHAR,
	severity VARCHAR,
	row_json VARCHAR
);`

// sessionSQL sets the run's parameters and the helper macros models use.
// in_window(month) is true for months recomputed by this run;
// in_window_period(kind, start) for periods (month, quarter, year) that end
// in or after the window and start before its end. Its middle term follows
// from the last one (no period is longer than 12 months) but is a plain
// bound on start, which DuckDB checks against the row groups' min/max: a
// window's rows of the national mart.indicator (7 M of 196 M) are then read
// in 1 s instead of 5.7 s, for the delete and the snapshot.
const sessionSQL = `SET VARIABLE since = DATE '%s';
SET VARIABLE until = DATE '%s';
SET VARIABLE am_under3_ratio = %v;
CREATE OR REPLACE TEMP MACRO in_window(d) AS d >= getvariable('since') AND d <= getvariable('until');
CREATE OR REPLACE TEMP MACRO period_months(kind) AS CASE kind WHEN 'month' THEN 1 WHEN 'quarter' THEN 3 ELSE 12 END;
CREATE OR REPLACE TEMP MACRO period_end(kind, start) AS CAST(start + to_months(period_months(kind)) - INTERVAL 1 DAY AS DATE);
CREATE OR REPLACE TEMP MACRO in_window_period(kind, start) AS start <= getvariable('until') AND start > getvariable('since') - INTERVAL 12 MONTH AND period_end(kind, start) >= getvariable('since');
CREATE OR REPLACE TEMP MACRO period_label(kind, start) AS CASE kind WHEN 'month' THEN strftime(start, '%%Y-%%m') WHEN 'quarter' THEN CAST(year(start) AS VARCHAR) || '-T' || CAST(quarter(start) AS VARCHAR) ELSE CAST(year(start) AS VARCHAR) END`

// SessionSQL is the session a run opens before its models: the window
// [since, until] (first days of months) and the AM under-3 ratio as
// variables, and the helper macros. The bare-DuckDB baseline of the national
// benchmark replays the models on the same session.
func SessionSQL(since, until time.Time, ratio float64) string {
	return fmt.Sprintf(sessionSQL, since.Format("2006-01-02"), until.Format("2006-01-02"), ratio)
}

// FullRefreshSessionSQL is SessionSQL with the unbounded window of a full
// refresh.
func FullRefreshSessionSQL(ratio float64) string { return SessionSQL(minDate, maxDate, ratio) }

const maxFailRows = 100

type modelState struct {
	hash      string
	watermark int64
	status    string
	ok        bool // has a hash and watermark (succeeded once)
}

type runner struct {
	conn  *sql.Conn
	opt   Options
	log   *slog.Logger
	res   *Result
	ratio float64
	// the run's window, which models built by year set back after their chunks
	since, until time.Time
}

// Run runs the models on db. It returns the result of every model; the error
// is non-nil when a model failed (wrapping ErrModelsFailed) or the run could
// not start.
func Run(ctx context.Context, db *sql.DB, opt Options) (Result, error) {
	return run(ctx, db, opt, nil)
}

// run runs the models; only, when not nil, restricts the run to the models
// it accepts (tests).
func run(ctx context.Context, db *sql.DB, opt Options, only func(Model) bool) (Result, error) {
	start := time.Now()
	res := Result{}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ratio := opt.AMUnder3Ratio
	if ratio == 0 {
		ratio = DefaultAMUnder3Ratio
	}
	if ratio < 0 || ratio > 1 {
		return res, fmt.Errorf("transform: AM under-3 ratio %v is not in [0, 1]", ratio)
	}
	models, err := Models()
	if err != nil {
		return res, fmt.Errorf("transform: %w", err)
	}
	if only != nil {
		var keep []Model
		for _, m := range models {
			if only(m) {
				keep = append(keep, m)
			}
		}
		models = keep
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("transform: %w", err)
	}
	defer conn.Close()
	r := &runner{conn: conn, opt: opt, log: log, res: &res, ratio: ratio}
	if _, err := conn.ExecContext(ctx, metaDDL); err != nil {
		return res, fmt.Errorf("transform: meta tables: %w", err)
	}
	states, err := r.loadStates(ctx)
	if err != nil {
		return res, err
	}
	watermark, err := r.fileWatermark(ctx)
	if err != nil {
		return res, err
	}
	w, err := r.window(ctx, models, states)
	if err != nil {
		return res, err
	}
	res.FullRefresh = w.full
	if !w.none {
		res.Since, res.Until = w.since, w.until
	}
	since, until := w.since, w.until
	if w.full || w.none {
		since, until = minDate, maxDate
	}
	r.since, r.until = since, until
	log.Info("transform", "full_refresh", w.full, "since", fmtMonth(since), "until", fmtMonth(until), "nothing_new", w.none, "models", len(models))
	if err := r.exec(ctx, conn, SessionSQL(since, until, ratio)); err != nil {
		return res, fmt.Errorf("transform: session: %w", err)
	}

	broken := map[string]string{}  // model -> why its dependants are skipped
	redefined := map[string]bool{} // models rebuilt whole because their definition changed
	for _, m := range models {
		mr := ModelResult{Name: m.Name}
		t0 := time.Now()
		hash := r.effectiveHash(m)
		st := states[m.Name]
		var cause string
		for _, d := range m.Depends {
			if why, ok := broken[d]; ok {
				cause = d + " " + why
				break
			}
		}
		if cause != "" {
			mr.Status, mr.Err = "skipped", fmt.Errorf("skipped: %s", cause)
			broken[m.Name] = "skipped"
			res.Skipped++
			r.saveState(ctx, m, mr, hash, watermark, w, st)
			res.Models = append(res.Models, mr)
			log.Warn("model skipped", "model", m.Name, "because", cause)
			continue
		}
		exists, err := r.exists(ctx, m)
		if err != nil {
			return res, err
		}
		changed := !exists || !st.ok || st.hash != hash
		for _, d := range m.Depends {
			if redefined[d] {
				changed = true
			}
		}
		switch {
		case m.Kind != "table" && (w.full || changed || !w.none):
			mr.Mode = "full" // views and macros are cheap: recreated whenever something ran
		case w.full || changed:
			mr.Mode = "full"
			if changed && !w.full {
				redefined[m.Name] = true
			}
		case w.none:
			mr.Status = "fresh"
		case m.Incremental == "":
			mr.Mode = "full"
		default:
			mr.Mode = "incremental"
		}
		if mr.Status != "fresh" {
			err = r.build(ctx, m, &mr, exists)
			if err != nil {
				mr.Status, mr.Err = "failed", err
				broken[m.Name] = "failed"
				res.Failed++
				log.Error("model failed", "model", m.Name, "err", err)
			} else {
				mr.Status = "ok"
			}
		}
		mr.Duration = time.Since(t0)
		if mr.Status == "ok" {
			log.Info("model", "model", m.Name, "mode", mr.Mode, "rows", mr.Rows, "ms", mr.Duration.Milliseconds(), "tests_failed", mr.TestsFailed)
		}
		if err := r.saveState(ctx, m, mr, hash, watermark, w, st); err != nil {
			return res, err
		}
		res.Models = append(res.Models, mr)
	}
	res.Duration = time.Since(start)
	if res.Failed > 0 {
		var names []string
		for _, mr := range res.Models {
			if mr.Status == "failed" {
				names = append(names, fmt.Sprintf("%s (%v)", mr.Name, mr.Err))
			}
		}
		return res, fmt.Errorf("%w: %d failed, %d skipped: %s", ErrModelsFailed, res.Failed, res.Skipped, strings.Join(names, "; "))
	}
	return res, nil
}

func fmtMonth(t time.Time) string { return t.Format("2006-01") }

func (r *runner) effectiveHash(m Model) string {
	s := sha256.Sum256([]byte(fmt.Sprintf("%s|ratio=%v", m.Hash, r.ratio)))
	return hex.EncodeToString(s[:8])
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs a statement and records it in Result.Statements.
func (r *runner) exec(ctx context.Context, e execer, q string) error {
	r.res.Statements = append(r.res.Statements, q)
	t0 := time.Now()
	_, err := e.ExecContext(ctx, q)
	r.log.Debug("sql", "ms", time.Since(t0).Milliseconds(), "stmt", abbrev(q))
	return err
}

func abbrev(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 160 {
		q = q[:160] + "..."
	}
	return q
}

func (r *runner) exists(ctx context.Context, m Model) (bool, error) {
	var q string
	switch m.Kind {
	case "view":
		q = `SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?`
	case "macro":
		q = `SELECT count(*) FROM duckdb_functions() WHERE schema_name = ? AND function_name = ?`
	default:
		q = `SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?`
	}
	var n int
	if err := r.conn.QueryRowContext(ctx, q, m.Schema, m.Table).Scan(&n); err != nil {
		return false, fmt.Errorf("transform: %w", err)
	}
	return n > 0, nil
}

// dbtx is what a connection and a transaction have in common.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// build makes one model. A full build creates the table under a temporary
// name (model__new), runs the data tests on it, and only then swaps it for
// the previous table in one short transaction; on failure the temporary
// table is dropped and the previous table was never touched. An incremental
// build, in one transaction rolled back on failure, deletes the window,
// computes it again into model__window, tests that and appends it. Views
// and macros are created in a transaction of their own.
func (r *runner) build(ctx context.Context, m Model, mr *ModelResult, exists bool) (err error) {
	var failures []testFailure
	defer func() {
		// Failing rows are recorded whatever became of the model.
		if rerr := r.recordFailures(ctx, m, failures); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if m.Kind != "table" || mr.Mode != "full" {
		tx, err := r.conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tx.Rollback()
			} else if cerr := tx.Commit(); cerr != nil {
				err = fmt.Errorf("commit: %w", cerr)
			}
		}()
		switch m.Kind {
		case "view":
			return r.exec(ctx, tx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n%s", m.Name, m.SQL))
		case "macro":
			return r.exec(ctx, tx, m.SQL)
		}
		// The window is computed into a table of its own and tested there
		// before it joins the model: the tests then read the new rows only.
		// Tested in place, behind the window's predicate, they read whole
		// columns of the model (national int.indicator_value: 31 s of tests
		// for 118 k new rows, its list column being read for all 3.3 M).
		// The delete comes first, as a model may read its own table.
		win := m.Name + "__window"
		if err := r.exec(ctx, tx, fmt.Sprintf("DELETE FROM %s WHERE %s", m.Name, m.Incremental)); err != nil {
			return err
		}
		q := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\nSELECT * FROM (\n%s\n) WHERE %s", win, m.SQL, m.Incremental)
		if err := r.exec(ctx, tx, q); err != nil {
			return err
		}
		if failures, err = r.runTests(ctx, tx, m, mr, win); err != nil {
			return err
		}
		q = fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM %s", m.Name, win)
		r.res.Statements = append(r.res.Statements, q)
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return err
		}
		mr.Rows, _ = res.RowsAffected()
		return r.exec(ctx, tx, "DROP TABLE "+win)
	}

	if m.SelfSchema != "" && !exists {
		if err := r.exec(ctx, r.conn, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", m.Name, m.SelfSchema)); err != nil {
			return fmt.Errorf("create %s: %w", m.Name, err)
		}
	}
	tmp := m.Name + "__new"
	if err := r.exec(ctx, r.conn, "DROP TABLE IF EXISTS "+tmp); err != nil {
		return err
	}
	defer func() {
		if err != nil { // the previous table stays; the new one goes
			r.conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+tmp)
		}
	}()
	var years []int
	if m.ByYear {
		if years, err = Years(ctx, r.conn); err != nil {
			return err
		}
	}
	for _, q := range FullBuildSQL(m, tmp, years, r.since, r.until) {
		if err := r.exec(ctx, r.conn, q); err != nil {
			if len(years) > 1 { // a chunk failed: the run's window comes back
				r.exec(context.WithoutCancel(ctx), r.conn, SessionSQL(r.since, r.until, r.ratio))
			}
			return err
		}
	}
	if err := r.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+tmp).Scan(&mr.Rows); err != nil {
		return err
	}
	if failures, err = r.runTests(ctx, r.conn, m, mr, tmp); err != nil {
		return err
	}
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := r.exec(ctx, tx, "DROP TABLE IF EXISTS "+m.Name); err != nil {
		tx.Rollback()
		return err
	}
	if err := r.exec(ctx, tx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", tmp, m.Table)); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// runTests runs the data tests of m on target; an error-severity failure
// is returned as an error, with every failure in the list.
func (r *runner) runTests(ctx context.Context, q dbtx, m Model, mr *ModelResult, target string) ([]testFailure, error) {
	var failures []testFailure
	var failed []string
	for _, t := range m.Tests {
		f, err := r.runTest(ctx, q, t, target)
		if err != nil {
			return failures, fmt.Errorf("data test %s: %w", t.Name, err)
		}
		if f.n == 0 {
			continue
		}
		failures = append(failures, f)
		mr.TestsFailed++
		r.res.TestsFailed++
		if t.Severity == "warn" {
			mr.TestsWarned++
			r.res.TestsWarned++
			r.log.Warn("data test failed", "model", m.Name, "test", t.Name, "severity", "warn", "rows", f.n)
		} else {
			failed = append(failed, fmt.Sprintf("%s (%d rows)", t.Name, f.n))
		}
	}
	if len(failed) > 0 {
		return failures, fmt.Errorf("data tests failed: %s", strings.Join(failed, ", "))
	}
	return failures, nil
}

type testFailure struct {
	test DataTest
	n    int64
	rows []string
}

func (r *runner) runTest(ctx context.Context, tx dbtx, t DataTest, target string) (testFailure, error) {
	f := testFailure{test: t}
	q := fmt.Sprintf("SELECT count(*) OVER () AS n, CAST(to_json(f) AS VARCHAR) FROM (\n%s\n) f LIMIT %d",
		strings.ReplaceAll(t.Query, "{{this}}", target), maxFailRows)
	r.res.Statements = append(r.res.Statements, q)
	t0 := time.Now()
	defer func() { r.log.Debug("data test", "test", t.Name, "ms", time.Since(t0).Milliseconds()) }()
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var js string
		if err := rows.Scan(&f.n, &js); err != nil {
			return f, err
		}
		f.rows = append(f.rows, js)
	}
	return f, rows.Err()
}

func (r *runner) recordFailures(ctx context.Context, m Model, fs []testFailure) error {
	if len(fs) == 0 {
		return nil
	}
	var b strings.Builder
	var args []any
	b.WriteString("INSERT INTO meta.test_failure (run_id, model, test, severity, row_json) VALUES ")
	first := true
	for _, f := range fs {
		rows := f.rows
		if f.n > int64(len(rows)) { // say how many were left out
			rows = append(rows, fmt.Sprintf(`{"_more_failing_rows":%d}`, f.n-int64(len(rows))))
		}
		for _, js := range rows {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, r.opt.RunID, m.Name, f.test.Name, f.test.Severity, js)
		}
	}
	if _, err := r.conn.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("record test failures of %s: %w", m.Name, err)
	}
	return nil
}

func (r *runner) loadStates(ctx context.Context) (map[string]modelState, error) {
	rows, err := r.conn.QueryContext(ctx, `SELECT model, coalesce(sql_hash, ''), coalesce(file_watermark, 0), coalesce(status, ''), sql_hash IS NOT NULL FROM meta.model_state`)
	if err != nil {
		return nil, fmt.Errorf("transform: read meta.model_state: %w", err)
	}
	defer rows.Close()
	out := map[string]modelState{}
	for rows.Next() {
		var name string
		var s modelState
		if err := rows.Scan(&name, &s.hash, &s.watermark, &s.status, &s.ok); err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, rows.Err()
}

// saveState records the outcome of a model. The hash and file watermark
// advance only on success: after a failure the next run recomputes the
// months the failed run should have. A success moves built_at to now and
// the previous built_at to prev_built_at; any other outcome (failed,
// skipped, fresh) leaves the table as it was, and both as they were.
func (r *runner) saveState(ctx context.Context, m Model, mr ModelResult, hash string, watermark int64, w window, st modelState) error {
	var errMsg any
	if mr.Err != nil {
		errMsg = mr.Err.Error()
	}
	var since, until any
	if mr.Mode == "incremental" {
		since, until = w.since, w.until
	}
	q := `INSERT INTO meta.model_state AS s (model, run_id, status, mode, since, until, rows, duration_ms, tests_failed, tests_warned, error, sql_hash, file_watermark, built_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'ok' THEN now()::TIMESTAMP END, now()::TIMESTAMP)
		ON CONFLICT (model) DO UPDATE SET run_id = excluded.run_id, status = excluded.status, mode = excluded.mode,
			since = excluded.since, until = excluded.until, rows = excluded.rows, duration_ms = excluded.duration_ms,
			tests_failed = excluded.tests_failed, tests_warned = excluded.tests_warned, error = excluded.error,
			sql_hash = CASE WHEN excluded.status = 'ok' THEN excluded.sql_hash ELSE s.sql_hash END,
			file_watermark = CASE WHEN excluded.status IN ('ok', 'fresh') THEN excluded.file_watermark ELSE s.file_watermark END,
			prev_built_at = CASE WHEN excluded.status = 'ok' THEN s.built_at ELSE s.prev_built_at END,
			built_at = coalesce(excluded.built_at, s.built_at), updated_at = excluded.updated_at`
	var hashArg any
	if mr.Status == "ok" {
		hashArg = hash
	}
	_, err := r.conn.ExecContext(ctx, q, m.Name, r.opt.RunID, mr.Status, nullStr(mr.Mode), since, until, mr.Rows,
		mr.Duration.Milliseconds(), mr.TestsFailed, mr.TestsWarned, errMsg, hashArg, watermark, mr.Status)
	if err != nil {
		return fmt.Errorf("transform: record state of %s: %w", m.Name, err)
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
