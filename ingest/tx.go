package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// sourceReader is the records of the files as Arrow record batches of the
// plan's layout (srcLayout).
type sourceReader interface {
	array.RecordReader
	// Records is the number of records read from each file, in order.
	Records() []int64
	Close()
}

// textSource is a textReader over the Go reader of one file.
type textSource struct {
	*textReader
	close func() error
}

func (t *textSource) Records() []int64 { return []int64{t.records} }
func (t *textSource) Close()           { t.close() }

// monthDays is _month of a file: its month's first day in days since
// 1970-01-01 (0 without a month: the layout has no _month then).
func monthDays(month string) int32 {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return 0
	}
	return int32(t.Unix() / 86400)
}

// openReader reads the records of j, whose ledger id is fileID: the plain
// reader for plain CSV, else the Go reader of its format.
func (l *loader) openReader(ctx context.Context, j *job, pl *plan, fileID int64, bar *progressBar) (sourceReader, error) {
	ncols := len(j.header)
	if j.kind == "csv" && j.scan.plain {
		f := &plainFile{path: j.path, fid: fileID, month: monthDays(j.month), headerLine: j.headerLine, lastDataLine: j.scan.lastDataLine}
		return newPlainReader(ctx, []*plainFile{f}, j.sn.delim, ncols, pl.lay, l.pseudo, bar.bytes), nil
	}
	var src rowSource
	var closer func() error
	switch j.kind {
	case "csv":
		cs, err := openCSVSource(j.path, j.sn, j.headerLine, j.scan.lastDataLine)
		if err != nil {
			return nil, err
		}
		src, closer = cs, cs.Close
	case "xlsx":
		xs, err := j.book.source(j.sheet, j.headerLine)
		if err != nil {
			return nil, err
		}
		src, closer = xs, xs.Close
	case "json", "ndjson":
		js, err := j.jdoc.open(j.path)
		if err != nil {
			return nil, err
		}
		js.keys = j.header
		src, closer = js, func() error { return nil }
	default:
		return nil, fmt.Errorf("no reader for %s files", j.kind)
	}
	rd := newTextReader(src, ncols, pl.lay, l.pseudo)
	rd.fid, rd.month = fileID, monthDays(j.month)
	rd.strict = j.kind == "csv"
	if bar != nil {
		rd.onRow = bar.row
	}
	return &textSource{textReader: rd, close: closer}, nil
}

// loadMarked runs the plan's one-pass validation over rd (reject.go): the
// accepted records go to the raw table, the rejected ones to
// meta.quarantine. It returns the records read per file, the records
// accepted in all and the rejected ones per file id.
func (l *loader) loadMarked(ctx context.Context, pl *plan, rd sourceReader) (read []int64, accepted int64, rejected map[int64]int64, err error) {
	defer rd.Close()
	l.rejects.reset()
	err = withArrowView(ctx, l.conn, rd, "_src", func() error {
		if err := l.checkArrowScanOnce(ctx, pl.insertMarked, rd.Schema().NumFields()); err != nil {
			return err
		}
		r, err := l.validating(ctx, pl.insertMarked)
		if err != nil {
			return err
		}
		accepted, err = r.RowsAffected()
		return err
	})
	rows := l.rejects.take()
	if err != nil {
		return nil, 0, nil, err
	}
	rd.Close() // every record is counted once the readers have stopped
	if err := writeQuarantine(ctx, l.conn, rows); err != nil {
		return nil, 0, nil, err
	}
	return rd.Records(), accepted, perFile(rows), nil
}

// errCounts: the records read are not those accepted plus those rejected
// (an internal error: the load is refused rather than half right).
func errCounts(path string, read, accepted, rejected int64) error {
	return &Error{File: path, Reason: fmt.Sprintf("internal error: %d records read, %d accepted, %d rejected", read, accepted, rejected)}
}

// transact runs the load of one file in one transaction.
func (l *loader) transact(ctx context.Context, j *job, fr FileResult, bar *progressBar) (_ FileResult, months []time.Time, all bool, err error) {
	tb := time.Now()
	pl, err := buildPlan(j, l.now, l.pseudo)
	if err != nil {
		return fr, nil, false, err
	}
	debugf(tb, "plan")
	conn := l.conn
	defer dropTemp(conn, "_src")
	var fileID int64
	if err := conn.QueryRowContext(ctx, "SELECT nextval('meta.file_seq')").Scan(&fileID); err != nil {
		return fr, nil, false, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fr, nil, false, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	run := func(what string, exec func(context.Context, string, ...any) (sql.Result, error), s string, args ...any) (int64, error) {
		t0 := time.Now()
		defer debugf(t0, what)
		r, err := exec(ctx, s, args...)
		if err != nil {
			return 0, &Error{File: j.path, Reason: what, Err: err}
		}
		n, _ := r.RowsAffected()
		return n, nil
	}
	// step runs a statement; validate runs one of the validation queries
	// (see loader.validating)
	step := func(what, s string, args ...any) (int64, error) { return run(what, conn.ExecContext, s, args...) }
	validate := func(what, s string, args ...any) (int64, error) { return run(what, l.validating, s, args...) }
	fileErr := func(err error) error {
		if e, ok := err.(*Error); ok {
			return e
		}
		return &Error{File: j.path, Reason: "reading", Err: err}
	}
	bar.describe("loading")
	rd, err := l.openReader(ctx, j, pl, fileID, bar)
	if err != nil {
		return fr, nil, false, fileErr(err)
	}
	if pl.unpivoted || pl.grouped {
		// small wide or grouped files: a temp table, the quarantine first,
		// then the lines without a fault
		err := loadArrow(ctx, conn, rd, "_src")
		rd.Close()
		if err != nil {
			return fr, nil, false, fileErr(err)
		}
		fr.Read = rd.Records()[0]
		if _, err := validate("quarantine", pl.quar, fileID); err != nil {
			return fr, nil, false, err
		}
		if _, err := validate("loading", pl.insert, fileID); err != nil {
			return fr, nil, false, err
		}
		if err := conn.QueryRowContext(ctx, "SELECT count(DISTINCT line) FROM meta.quarantine WHERE file_id = $1", fileID).Scan(&fr.Rejected); err != nil {
			return fr, nil, false, err
		}
		fr.Accepted = fr.Read - fr.Rejected
	} else {
		t0 := time.Now()
		read, accepted, rejected, err := l.loadMarked(ctx, pl, rd)
		debugf(t0, "validating and loading")
		if err != nil {
			return fr, nil, false, fileErr(err)
		}
		fr.Read, fr.Accepted, fr.Rejected = read[0], accepted, rejected[fileID]
		if fr.Accepted+fr.Rejected != fr.Read {
			return fr, nil, false, errCounts(j.path, fr.Read, fr.Accepted, fr.Rejected)
		}
	}
	fr.Sender, fr.Period = j.sender, j.period

	if err := l.refusal(ctx, j.path, fr, fileID); err != nil {
		fr.Status = StatusRefused
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
	ids := append([]int64{fileID}, fr.Replaced...)
	if months, all, err = l.monthsOf(ctx, j.c, ids); err != nil {
		return fr, nil, false, err
	}
	for _, old := range fr.Replaced {
		if _, err := step("replacing", "DELETE FROM "+j.c.Table+" WHERE file_id = $1", old); err != nil {
			return fr, nil, false, err
		}
		if _, err := step("replacing", "UPDATE meta.file_ledger SET replaced_by = $1 WHERE file_id = $2", fileID, old); err != nil {
			return fr, nil, false, err
		}
	}
	abs := j.path
	if a, err := absPath(j.path); err == nil {
		abs = a
	}
	if _, err := step("ledger", `INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, profile, rows_read, rows_loaded, rows_rejected, loaded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		fileID, abs, j.sha, j.c.Source, fr.Sender, fr.Period, j.p.Name, fr.Read, fr.Accepted, fr.Rejected, time.Now().UTC()); err != nil {
		return fr, nil, false, err
	}
	if j.c.Source == "rpe_register" {
		// the RPE territories are refreshed once at the end of the run
		// (refreshPending); the marker commits with the file
		if _, err := step("ledger", "INSERT INTO meta.ref_pending VALUES ($1)", fileID); err != nil {
			return fr, nil, false, err
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
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fr, nil, false, err
	}
	committed = true
	l.loaded[j.sha] = true
	fr.FileID = fileID
	fr.Status = StatusLoaded
	if len(fr.Replaced) > 0 {
		fr.Status = StatusReplaced
	}
	return fr, months, all, nil
}

// dropTemp drops the temp tables or views names, whichever they are. One
// statement per object: "DROP VIEW IF EXISTS x" fails when x is a table
// (_src is a table for wide and grouped files, an Arrow view otherwise),
// and in a multi-statement string that error skipped the drops after it.
func dropTemp(conn *sql.Conn, names ...string) {
	for _, n := range names {
		var kind string
		err := conn.QueryRowContext(context.Background(),
			"SELECT table_type FROM information_schema.tables WHERE table_catalog = 'temp' AND table_name = ?", n).Scan(&kind)
		if err != nil {
			continue // absent
		}
		if kind == "VIEW" {
			conn.ExecContext(context.Background(), "DROP VIEW IF EXISTS "+n)
		} else {
			conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+n)
		}
	}
}

// debugTiming (INGEST_DEBUG_TIMING=1) prints the time of each step to
// stderr: a development aid for the benchmarks.
var debugTiming = os.Getenv("INGEST_DEBUG_TIMING") != ""

func debugf(t0 time.Time, what string) {
	if debugTiming {
		fmt.Fprintf(os.Stderr, "%8.3fs %s (process cpu %v)\n", time.Since(t0).Seconds(), what, cpuTime())
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// testHookBeforeCommit lets tests make a load fail at the last moment.
var testHookBeforeCommit func(path string) error

// refusal is the error of a file whose share of rejected records is above
// the limit (nil when it is not): nothing of such a file loads.
func (l *loader) refusal(ctx context.Context, path string, fr FileResult, fileID int64) error {
	if fr.Rejected == 0 || fr.Read == 0 {
		return nil
	}
	share := float64(fr.Rejected) / float64(fr.Read)
	if share <= l.opt.MaxRejectShare {
		return nil
	}
	return &Error{File: path, Err: ErrRefused,
		Reason: fmt.Sprintf("%d of %d records rejected (%.1f %%, above %.1f %%); nothing loaded%s", fr.Rejected, fr.Read, 100*share, 100*l.opt.MaxRejectShare, l.rejectSummary(ctx, fileID))}
}

func (l *loader) rejectSummary(ctx context.Context, fileID int64) string {
	rows, err := l.conn.QueryContext(ctx, `SELECT column_name, reason, count(*), min(line), arg_min(value, line) FROM meta.quarantine WHERE file_id = $1 GROUP BY ALL ORDER BY count(*) DESC, min(line) LIMIT 8`, fileID)
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
