package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"
)

// srcSQL materialises or exposes the file's records as _src(line, c0..,
// _extra): DuckDB's read_csv for plain CSV files, an Arrow stream from the
// Go readers otherwise.
func (l *loader) loadSource(ctx context.Context, j *job, used []bool, bar *progressBar) error {
	ncols := len(j.header)
	if j.kind == "csv" && j.scan.plain {
		var cols, sel []string
		for i := 0; i < ncols; i++ {
			cols = append(cols, fmt.Sprintf("'c%d': 'VARCHAR'", i))
			if used == nil || used[i] {
				sel = append(sel, fmt.Sprintf("c%d", i))
			} else {
				sel = append(sel, fmt.Sprintf("NULL::VARCHAR AS c%d", i))
			}
		}
		// line numbers: read_csv keeps the file order (preserve_insertion_order)
		s := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _src AS SELECT * FROM (SELECT CAST(row_number() OVER () + %d AS BIGINT) AS line, %s, NULL::VARCHAR AS _extra
			FROM read_csv(%s, delim=%s, header=false, skip=%d, all_varchar=true, auto_detect=false, quote='"', escape='"',
			              null_padding=false, strict_mode=true, columns={%s})) WHERE line <= %d`,
			j.headerLine, strings.Join(sel, ", "), q(j.path), q(string(j.sn.delim)), j.headerLine, strings.Join(cols, ", "), j.scan.lastDataLine)
		_, err := l.conn.ExecContext(ctx, s)
		return err
	}
	var src rowSource
	switch j.kind {
	case "csv":
		cs, err := openCSVSource(j.path, j.sn, j.headerLine, j.scan.lastDataLine)
		if err != nil {
			return err
		}
		defer cs.Close()
		src = cs
	case "xlsx":
		xs, err := j.book.source(j.sheet, j.headerLine)
		if err != nil {
			return err
		}
		defer xs.Close()
		src = xs
	case "json", "ndjson":
		js, err := j.jdoc.open(j.path)
		if err != nil {
			return err
		}
		js.keys = j.header
		src = js
	}
	rd := newTextReader(src, ncols)
	rd.keep = used
	if bar != nil {
		rd.onRow = bar.row
	}
	defer rd.Release()
	return loadArrow(ctx, l.conn, rd, "_src")
}

// transact runs the load of one file in one transaction.
func (l *loader) transact(ctx context.Context, j *job, fr FileResult, bar *progressBar) (_ FileResult, months []time.Time, all bool, err error) {
	tb := time.Now()
	pl, err := buildPlan(j, l.now)
	if debugTiming {
		fmt.Printf("%8.3fs plan\n", time.Since(tb).Seconds())
	}
	if err != nil {
		return fr, nil, false, err
	}
	conn := l.conn
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fr, nil, false, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
		td := time.Now()
		defer func() {
			if debugTiming {
				fmt.Printf("%8.3fs drop\n", time.Since(td).Seconds())
			}
		}()
		conn.ExecContext(context.Background(), "DROP VIEW IF EXISTS _txt; DROP VIEW IF EXISTS _rows; DROP TABLE IF EXISTS _typed; DROP TABLE IF EXISTS _q; DROP TABLE IF EXISTS _src")
	}()
	step := func(what, s string, args ...any) error {
		if debugTiming {
			t0 := time.Now()
			defer func() { fmt.Printf("%8.3fs %s %.60s\n", time.Since(t0).Seconds(), what, s) }()
			if os.Getenv("INGEST_DEBUG_SQL") != "" {
				os.WriteFile(os.Getenv("INGEST_DEBUG_SQL")+"."+strings.Fields(what)[0]+".sql", []byte(s), 0o644)
			}
		}
		if _, err := conn.ExecContext(ctx, s, args...); err != nil {
			return &Error{File: j.path, Reason: what, Err: err}
		}
		return nil
	}
	bar.describe("reading")
	t0 := time.Now()
	err = l.loadSource(ctx, j, pl.usedCols, bar)
	if debugTiming {
		fmt.Printf("%8.3fs read (plain=%v)\n", time.Since(t0).Seconds(), j.scan != nil && j.scan.plain)
	}
	if err != nil {
		if e, ok := err.(*Error); ok {
			return fr, nil, false, e
		}
		return fr, nil, false, &Error{File: j.path, Reason: "reading", Err: err}
	}
	bar.describe("validating")
	if err := step("validating", pl.rowsView); err != nil {
		return fr, nil, false, err
	}
	if err := step("validating", pl.txtView); err != nil {
		return fr, nil, false, err
	}
	if err := step("validating", pl.typed, l.ipad, l.opad); err != nil {
		return fr, nil, false, err
	}
	if err := step("quarantine", pl.quar); err != nil {
		return fr, nil, false, err
	}
	countRead := "SELECT count(*) FROM _typed"
	if pl.unpivoted {
		countRead = "SELECT count(*) FROM _rows"
	}
	if err := conn.QueryRowContext(ctx, "SELECT ("+countRead+"), (SELECT count(DISTINCT line) FROM _q)").Scan(&fr.Read, &fr.Rejected); err != nil {
		return fr, nil, false, err
	}
	fr.Accepted = fr.Read - fr.Rejected
	fr.Sender, fr.Period = j.sender, j.period

	share := 0.0
	if fr.Read > 0 {
		share = float64(fr.Rejected) / float64(fr.Read)
	}
	if fr.Rejected > 0 && share > l.opt.MaxRejectShare {
		fr.Status = StatusRefused
		summary := l.rejectSummary(ctx)
		return fr, nil, false, &Error{File: j.path, Err: ErrRefused,
			Reason: fmt.Sprintf("%d of %d records rejected (%.1f %%, above %.1f %%); nothing loaded%s", fr.Rejected, fr.Read, 100*share, 100*l.opt.MaxRejectShare, summary)}
	}

	var fileID int64
	if err := conn.QueryRowContext(ctx, "SELECT nextval('meta.file_seq')").Scan(&fileID); err != nil {
		return fr, nil, false, err
	}
	if err := step("loading", pl.insert, fileID); err != nil {
		return fr, nil, false, err
	}
	if err := step("quarantine", "INSERT INTO meta.quarantine SELECT $1, line, column_name, value, reason FROM _q ORDER BY line", fileID); err != nil {
		return fr, nil, false, err
	}
	// sender and period from the data when the file name did not say
	if fr.Sender == "" {
		if fr.Sender, err = l.senderFromData(ctx, j, fileID); err != nil {
			return fr, nil, false, err
		}
	}
	if fr.Period == "" {
		if fr.Period, err = l.periodFromData(ctx, j, fileID); err != nil {
			return fr, nil, false, err
		}
	}
	// replacement
	rows, err := conn.QueryContext(ctx, `SELECT file_id FROM meta.file_ledger WHERE source = ? AND sender IS NOT DISTINCT FROM ? AND period IS NOT DISTINCT FROM ? AND replaced_by IS NULL ORDER BY file_id`,
		j.c.Source, fr.Sender, fr.Period)
	if err != nil {
		return fr, nil, false, err
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		fr.Replaced = append(fr.Replaced, id)
	}
	rows.Close()
	ids := []int64{fileID}
	ids = append(ids, fr.Replaced...)
	tm := time.Now()
	months, all, err = l.monthsOf(ctx, j.c, ids)
	if debugTiming {
		fmt.Printf("%8.3fs months\n", time.Since(tm).Seconds())
	}
	if err != nil {
		return fr, nil, false, err
	}
	for _, old := range fr.Replaced {
		if err := step("replacing", "DELETE FROM "+j.c.Table+" WHERE file_id = $1", old); err != nil {
			return fr, nil, false, err
		}
		if err := step("replacing", "UPDATE meta.file_ledger SET replaced_by = $1 WHERE file_id = $2", fileID, old); err != nil {
			return fr, nil, false, err
		}
	}
	abs := j.path
	if a, err := absPath(j.path); err == nil {
		abs = a
	}
	if err := step("ledger", `INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, profile, rows_read, rows_loaded, rows_rejected, loaded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		fileID, abs, j.sha, j.c.Source, fr.Sender, fr.Period, j.p.Name, fr.Read, fr.Accepted, fr.Rejected, time.Now().UTC()); err != nil {
		return fr, nil, false, err
	}
	if j.c.Source == "rpe_register" {
		if err := fillReference(ctx, conn, false); err != nil {
			return fr, nil, false, &Error{File: j.path, Reason: "refreshing the RPE territories", Err: err}
		}
	}
	if testHookBeforeCommit != nil {
		if err := testHookBeforeCommit(j.path); err != nil {
			return fr, nil, false, err
		}
	}
	if l.opt.DryRun {
		fr.Status = StatusDryRun
		return fr, nil, false, nil
	}
	tc := time.Now()
	defer func() {
		if debugTiming {
			fmt.Printf("%8.3fs commit\n", time.Since(tc).Seconds())
		}
	}()
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fr, nil, false, err
	}
	committed = true
	fr.FileID = fileID
	fr.Status = StatusLoaded
	if len(fr.Replaced) > 0 {
		fr.Status = StatusReplaced
	}
	return fr, months, all, nil
}

var debugTiming = os.Getenv("INGEST_DEBUG_TIMING") != ""

// testHookBeforeCommit lets tests make a load fail at the last moment.
var testHookBeforeCommit func(path string) error

func (l *loader) rejectSummary(ctx context.Context) string {
	rows, err := l.conn.QueryContext(ctx, `SELECT column_name, reason, count(*), min(line), arg_min(value, line) FROM _q GROUP BY ALL ORDER BY count(*) DESC, min(line) LIMIT 8`)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var col, reason string
		var val sql.NullString
		var n, line int64
		if rows.Scan(&col, &reason, &n, &line, &val) == nil {
			fmt.Fprintf(&b, "\n  %d x column %q: %s (first at line %d", n, col, reason, line)
			if val.Valid {
				fmt.Fprintf(&b, ", value %q", val.String)
			}
			b.WriteString(")")
		}
	}
	return b.String()
}

func (l *loader) senderFromData(ctx context.Context, j *job, fileID int64) (string, error) {
	if _, ok := j.c.Field("commune"); !ok {
		return "FR", nil
	}
	var deps []any
	var n int64
	err := l.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(DISTINCT ct.code), min(ct.code) FROM %s r JOIN ref.commune_territory ct ON ct.commune = r.commune AND ct.level = 'departement' WHERE r.file_id = $1`, j.c.Table), fileID).
		Scan(&n, new(sql.NullString))
	_ = deps
	if err != nil {
		return "", err
	}
	if n == 1 {
		var d string
		err = l.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT min(ct.code) FROM %s r JOIN ref.commune_territory ct ON ct.commune = r.commune AND ct.level = 'departement' WHERE r.file_id = $1`, j.c.Table), fileID).Scan(&d)
		return d, err
	}
	return "FR", nil
}

func (l *loader) periodFromData(ctx context.Context, j *job, fileID int64) (string, error) {
	var lo, hi sql.NullString
	var err error
	switch j.c.Period {
	case "month":
		mf := ""
		for _, f := range j.c.Fields {
			if f.Type == TMonth {
				mf = f.Name
			}
		}
		err = l.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT strftime(min(%s), '%%Y-%%m'), strftime(max(%s), '%%Y-%%m') FROM %s WHERE file_id = $1`, id(mf), id(mf), j.c.Table), fileID).Scan(&lo, &hi)
	case "year":
		err = l.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT CAST(min(year) AS VARCHAR), CAST(max(year) AS VARCHAR) FROM %s WHERE file_id = $1`, j.c.Table), fileID).Scan(&lo, &hi)
	default:
		return "all", nil
	}
	if err != nil {
		return "", err
	}
	if !lo.Valid {
		return "empty", nil
	}
	if lo.String == hi.String {
		return lo.String, nil
	}
	sep := "-"
	if j.c.Period == "month" {
		sep = ".."
	}
	return lo.String + sep + hi.String, nil
}

// monthsOf returns the months the rows of files ids cover.
func (l *loader) monthsOf(ctx context.Context, c *Contract, ids []int64) ([]time.Time, bool, error) {
	var list []string
	for _, i := range ids {
		list = append(list, fmt.Sprint(i))
	}
	in := strings.Join(list, ", ")
	var s string
	switch c.Period {
	case "month":
		mf := ""
		for _, f := range c.Fields {
			if f.Type == TMonth {
				mf = f.Name
			}
		}
		s = fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE file_id IN (%s) AND %s IS NOT NULL", id(mf), c.Table, in, id(mf))
	case "year":
		s = fmt.Sprintf("SELECT DISTINCT make_date(year, m, 1) FROM %s, range(1, 13) t(m) WHERE file_id IN (%s) AND year IS NOT NULL", c.Table, in)
	default:
		return nil, true, nil
	}
	rows, err := l.conn.QueryContext(ctx, s)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, false, err
		}
		out = append(out, time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
	}
	return out, false, rows.Err()
}
