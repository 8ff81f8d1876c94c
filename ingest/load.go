package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

type loader struct {
	db       *sql.DB
	conn     *sql.Conn
	opt      Options
	profiles []*Profile
	log      *slog.Logger
	secret   string
	now      time.Time
	// loaded holds the SHA-256 of every ledger file (current or replaced),
	// read once: a file whose content is not in it cannot be "unchanged",
	// so the ledger is queried only on a hit, not once per file (20,000
	// queries at national scale). Files this run commits are added.
	loaded map[string]bool
	// pseudo replaces identifiers by pseudonyms in the readers (pseudo.go)
	pseudo *pseudonymizer
	// rejects collects the records the validation rejects (reject.go)
	rejects rejectLog
	// scanChecked: validation queries whose Arrow scan was checked
	// (checkArrowScanOnce)
	scanChecked map[scanKey]bool
}

func newLoader(ctx context.Context, db *sql.DB, opt Options) (*loader, error) {
	secret := opt.Secret
	if secret == "" {
		if !opt.Demo {
			return nil, errors.New("no pseudonym secret: set OBSERVATOIRE_SECRET (or [ingest] secret); ingest refuses to run without one outside the demo")
		}
		secret = DemoSecret
	}
	if opt.MaxRejectShare == 0 {
		opt.MaxRejectShare = 0.05
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ps, err := Profiles(opt.ProfilesDir)
	if err != nil {
		return nil, err
	}
	if opt.Profile != "" {
		found := false
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
			if p.Name == opt.Profile {
				found = true
				if opt.Source != "" && opt.Source != p.Source {
					return nil, fmt.Errorf("profile %s is for source %s, not %s", p.Name, p.Source, opt.Source)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("no profile %q (known: %s)", opt.Profile, strings.Join(names, ", "))
		}
	}
	if opt.Source != "" {
		if _, ok := contractFor(opt.Source); !ok {
			return nil, fmt.Errorf("no source %q (known: %s)", opt.Source, strings.Join(sourceNames(), ", "))
		}
	}
	l := &loader{db: db, opt: opt, profiles: ps, log: opt.Log, now: nowFunc(), secret: secret}
	t0 := time.Now()
	var n int64
	if err := EnsureSchema(ctx, db); err != nil {
		return nil, err
	}
	debugf(t0, "schema")
	if _, err := db.ExecContext(ctx, refDDL); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ref.territory").Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		if err := LoadReference(ctx, db); err != nil {
			return nil, err
		}
	}
	debugf(t0, "reference")
	if l.conn, err = db.Conn(ctx); err != nil {
		return nil, err
	}
	l.pseudo = newPseudonymizer(secret)
	if err := registerReject(l.conn, &l.rejects); err != nil {
		l.close()
		return nil, fmt.Errorf("reject function: %w", err)
	}
	if _, err := l.conn.ExecContext(ctx, macrosSQL); err != nil {
		l.close()
		return nil, fmt.Errorf("ingest macros: %w", err)
	}
	debugf(t0, "macros")
	if l.loaded, err = ledgerHashes(ctx, l.conn); err != nil {
		l.close()
		return nil, err
	}
	if !opt.DryRun {
		if err := refreshPending(ctx, l.conn); err != nil {
			l.close()
			return nil, err
		}
	}
	refs, err := loadRefMaps(ctx, l.conn)
	if err != nil {
		l.close()
		return nil, err
	}
	if err := registerLookups(l.conn, refs); err != nil {
		l.close()
		return nil, fmt.Errorf("look-up functions: %w", err)
	}
	debugf(t0, "look-ups")
	return l, nil
}

// validating runs a validation statement with optimizers off:
// filter_pushdown would push "WHERE _ok" down through the chain of
// projections, substituting every intermediate column by its expression (a
// tree many times larger, 4-5x slower); common_subexpressions computed the
// French-number clean-up of every cell, not only where TRY_CAST failed; and
// in_clause turned the IN list of ing_placeholder into a join. Off for these
// statements only: the others (file_id = x on a raw table) need filter
// pushdown to skip row groups by their zone maps instead of scanning the
// whole table, which made the per-file cost grow with the warehouse.
func (l *loader) validating(ctx context.Context, s string, args ...any) (sql.Result, error) {
	var r sql.Result
	err := l.optimizersOff(ctx, validationDisabled, func() error {
		var err error
		r, err = l.conn.ExecContext(ctx, s, args...)
		return err
	})
	return r, err
}

const validationDisabled = "filter_pushdown,in_clause,common_subexpressions"

// optimizersOff runs fn with DuckDB's optimizers disabled (a comma-separated
// list) on the loader's connection, and resets them after.
func (l *loader) optimizersOff(ctx context.Context, disabled string, fn func() error) error {
	if _, err := l.conn.ExecContext(ctx, "SET disabled_optimizers = "+q(disabled)); err != nil {
		return err
	}
	err := fn()
	if _, rerr := l.conn.ExecContext(context.Background(), "RESET disabled_optimizers"); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// close discards the connection instead of returning it to the pool: it
// holds the pseudonym function (whose closure holds the secret), the temp
// macros and tables and a changed optimizer setting.
// nowFunc is the clock of the plausibility checks (tests fix it).
var nowFunc = time.Now

func (l *loader) close() {
	l.conn.Raw(func(any) error { return driver.ErrBadConn })
	l.conn.Close()
}

func (l *loader) run(ctx context.Context, paths []string, after func(*FileResult) error) (Result, error) {
	var res Result
	months := map[time.Time]bool{}
	var errs []error
	finish := func(fr FileResult, ms []time.Time, all bool) {
		// A file stopped by cancellation (SIGTERM, timeout) is not the
		// file's fault: it stays where it is (the inbox) for the next run.
		stopped := fr.Err != nil && (errors.Is(fr.Err, context.Canceled) || errors.Is(fr.Err, context.DeadlineExceeded))
		if after != nil && !stopped {
			if err := after(&fr); err != nil {
				errs = append(errs, fmt.Errorf("%s: move: %w", fr.Path, err))
			}
		}
		if fr.Err != nil {
			errs = append(errs, fr.Err)
			l.log.Error("ingest", "file", fr.Path, "status", fr.Status, "err", fr.Err)
		} else {
			l.log.Info("ingest", "file", fr.Path, "source", fr.Source, "status", fr.Status, "read", fr.Read, "accepted", fr.Accepted, "rejected", fr.Rejected)
		}
		for _, m := range ms {
			months[m] = true
		}
		res.AllPeriods = res.AllPeriods || all
		res.Files = append(res.Files, fr)
	}
	// Consecutive files of one layout wait in a batch (batch.go); anything
	// else first flushes it, so that results keep the order of paths.
	var pending []batchItem
	var pendingKey string
	var pendingBytes int64
	flush := func() {
		if len(pending) == 0 {
			return
		}
		frs, ms := l.loadBatch(ctx, pending)
		for i, fr := range frs {
			if i == 0 {
				finish(fr, ms, false)
			} else {
				finish(fr, nil, false)
			}
		}
		pending, pendingBytes = nil, 0
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			flush()
			return res, err // the RPE territories are refreshed by the next run
		}
		j, fr, done := l.prepare(ctx, p)
		if done {
			flush()
			finish(fr, nil, false)
			continue
		}
		key, ok := batchKey(j)
		if ok && !l.opt.NoBatch {
			dup := false
			for _, it := range pending {
				dup = dup || it.j.sha == j.sha
			}
			if len(pending) > 0 && (key != pendingKey || dup || pendingBytes+j.size > batchMaxBytes || len(pending) >= batchMaxFiles) {
				flush()
			}
			j.sn.records, j.sn.lines = nil, nil // the header search is over; a batch holds many jobs
			pending = append(pending, batchItem{j: j, fr: fr})
			pendingKey, pendingBytes = key, pendingBytes+j.size
			continue
		}
		flush()
		fr, ms, all := l.loadPrepared(ctx, j, fr)
		j.release()
		finish(fr, ms, all)
	}
	flush()
	if !l.opt.DryRun {
		if err := refreshPending(ctx, l.conn); err != nil {
			errs = append(errs, err)
		}
	}
	for m := range months {
		res.Months = append(res.Months, m)
	}
	sort.Slice(res.Months, func(i, j int) bool { return res.Months[i].Before(res.Months[j]) })
	return res, errors.Join(errs...)
}

// job is one file on its way in.
type job struct {
	path       string
	kind       string // csv, xlsx, json, ndjson
	sha        string
	size       int64
	header     []string
	headerLine int64
	m          *match
	p          *Profile
	c          *Contract
	groups     map[string]string

	sn    *csvSniff
	scan  *csvScan
	book  *xlsxBook
	sheet string
	jdoc  *jsonDoc

	bar *progressBar

	sender, period string
	month          string // "2025-03" when the file's period is a month
}

func fileKind(path string, forced string) string {
	if forced != "" {
		return strings.ToLower(forced)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return "xlsx"
	case ".json":
		return "json"
	case ".ndjson", ".jsonl":
		return "ndjson"
	}
	return "csv"
}

// candidates are the profiles a file may match.
func (l *loader) candidates() []*Profile {
	var out []*Profile
	for _, p := range l.profiles {
		if l.opt.Profile != "" && p.Name != l.opt.Profile {
			continue
		}
		if l.opt.Source != "" && p.Source != l.opt.Source {
			continue
		}
		out = append(out, p)
	}
	return out
}

// pick chooses the best profile and header row among candidate rows.
// rows[i] is on line lines[i]; sheet names the sheet (XLSX).
func (l *loader) pick(j *job, rows [][]string, lines []int64, sheet string, best **match, bestLine *int64, bestSheet *string, bestRank *[3]int) {
	norms := make([][]string, min(len(rows), maxHeaderRows))
	for i := range norms {
		norms[i] = make([]string, len(rows[i]))
		for k, h := range rows[i] {
			norms[i][k] = normHeader(h)
		}
	}
	for _, p := range l.candidates() {
		if p.Format.Sheet != "" && sheet != "" && !strings.EqualFold(p.Format.Sheet, sheet) {
			continue
		}
		if p.Format.Kind != "" && p.Format.Kind != j.kind && !(p.Format.Kind == "json" && j.kind == "ndjson") {
			continue
		}
		_, nameOK := p.fileGroups(j.path)
		for i, row := range rows {
			if i >= maxHeaderRows {
				break
			}
			if p.Format.HeaderRow > 0 && lines[i] != int64(p.Format.HeaderRow) {
				continue
			}
			m := p.matchNormHeader(row, norms[i])
			rank := [3]int{0, m.score, 0}
			if m.ok() {
				rank[0] = 1
			}
			if nameOK {
				rank[2] = 1
			}
			better := *best == nil || rank[0] > bestRank[0] ||
				(rank[0] == bestRank[0] && (rank[1] > bestRank[1] || (rank[1] == bestRank[1] && rank[2] > bestRank[2])))
			if better {
				*best, *bestLine, *bestSheet, *bestRank = m, lines[i], sheet, rank
				j.header = append([]string(nil), row...)
			}
		}
	}
}

// identify reads the start of the file, finds its profile and header.
func (l *loader) identify(j *job) error {
	var best *match
	var bestLine int64
	var bestSheet string
	var rank [3]int
	switch j.kind {
	case "csv":
		f, err := os.Open(j.path)
		if err != nil {
			return err
		}
		buf := make([]byte, sniffBytes)
		n, err := io.ReadFull(f, buf)
		f.Close()
		complete := false
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			complete = true
		} else if err != nil {
			return err
		}
		var delim, enc string
		if l.opt.Profile != "" {
			for _, p := range l.candidates() {
				delim, enc = p.Format.Delimiter, p.Format.Encoding
			}
		}
		sn, err := sniffCSV(buf[:n], complete, delim, enc)
		if err != nil {
			return err
		}
		j.sn = sn
		l.pick(j, sn.records, sn.lines, "", &best, &bestLine, &bestSheet, &rank)
		if best == nil && len(sn.records) > 0 {
			j.header = sn.records[0]
		}
	case "xlsx":
		b, err := openXLSX(j.path)
		if err != nil {
			return err
		}
		j.book = b
		for _, sh := range b.sheets {
			rows, err := b.head(sh, maxHeaderRows)
			if err != nil {
				return fmt.Errorf("sheet %s: %w", sh, err)
			}
			lines := make([]int64, len(rows))
			for i := range rows {
				lines[i] = int64(i + 1)
			}
			l.pick(j, rows, lines, sh, &best, &bestLine, &bestSheet, &rank)
		}
	case "json", "ndjson":
		data, err := os.ReadFile(j.path)
		if err != nil {
			return err
		}
		if j.kind == "json" && looksNDJSON(data) {
			j.kind = "ndjson"
		}
		path := ""
		for _, p := range l.candidates() {
			if p.Format.Records != "" {
				path = p.Format.Records
			}
		}
		j.jdoc = &jsonDoc{data: data, ndjson: j.kind == "ndjson", records: path}
		keys, err := j.jdoc.keys(j.path, 1000)
		if err != nil {
			return err
		}
		l.pick(j, [][]string{keys}, []int64{0}, "", &best, &bestLine, &bestSheet, &rank)
		if best == nil {
			j.header = keys
		}
	default:
		return fmt.Errorf("format %q not handled (csv, xlsx, json, ndjson)", j.kind)
	}
	if best == nil || !best.ok() {
		return layoutError(j.path, j.header, best, l.opt.Profile != "")
	}
	j.m, j.p, j.headerLine, j.sheet = best, best.p, bestLine, bestSheet
	j.c, _ = contractFor(j.p.Source)
	j.groups, _ = j.p.fileGroups(j.path)
	return nil
}

// looksNDJSON: a .json file whose first value is followed by another.
func looksNDJSON(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return false
	}
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '{' {
		return false
	}
	return dec.More() || len(bytes.TrimSpace(data[dec.InputOffset():])) > 0
}

var (
	monthRE     = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)
	yearRE      = regexp.MustCompile(`^\d{4}(-\d{4})?$`)
	monthDashRE = regexp.MustCompile(`^(\d{4})(0[1-9]|1[0-2])$`)
)

// resolveKey sets sender and period from the options, the profile's
// templates and the file name. Left empty, they come from the data.
func (l *loader) resolveKey(j *job) error {
	g := j.groups
	if g == nil {
		g = map[string]string{}
	}
	if l.opt.Sender != "" {
		j.sender = l.opt.Sender
	} else if t := j.p.File.Sender; t != "" {
		if s, ok := expand(t, g); ok {
			j.sender = s
		}
	} else if s, ok := g["sender"]; ok {
		j.sender = strings.ToUpper(s)
	}
	if l.opt.Period != "" {
		j.period = l.opt.Period
	} else if t := j.p.File.Period; t != "" {
		if s, ok := expand(t, g); ok {
			j.period = s
		}
	} else if s, ok := g["period"]; ok {
		j.period = s
	}
	if m := monthDashRE.FindStringSubmatch(j.period); m != nil {
		j.period = m[1] + "-" + m[2]
	}
	switch j.c.Period {
	case "month":
		if j.period != "" {
			if !monthRE.MatchString(j.period) {
				return fmt.Errorf("period %q is not a month (YYYY-MM)", j.period)
			}
			j.month = j.period
		} else {
			for _, f := range j.c.Fields {
				if f.Type == TMonth && f.DateOf == "" {
					return fmt.Errorf("cannot tell the month of this %s file: name it like ..._YYYY-MM.%s or pass the period", j.c.Source, j.kind)
				}
			}
		}
	case "year":
		if j.period != "" && j.period != "all" && !yearRE.MatchString(j.period) {
			return fmt.Errorf("period %q is not a year (YYYY or YYYY-YYYY)", j.period)
		}
	}
	return nil
}

// loadFile loads one file in one transaction.
func (l *loader) loadFile(ctx context.Context, path string) (fr FileResult, months []time.Time, all bool) {
	j, fr, done := l.prepare(ctx, path)
	if done {
		return fr, nil, false
	}
	defer j.release()
	return l.loadPrepared(ctx, j, fr)
}

// prepare recognises a file (profile, header, sender, period), scans and
// hashes it, and looks it up in the ledger. done is set when nothing more
// is to be done: the file failed or is unchanged (fr says which).
// Otherwise the caller loads j (loadPrepared, or a batch) and releases it.
func (l *loader) prepare(ctx context.Context, path string) (j *job, fr FileResult, done bool) {
	fr.Path = path
	t00 := time.Now()
	j = &job{path: path, kind: fileKind(path, "")}
	if l.opt.Profile != "" {
		for _, p := range l.candidates() {
			if p.Format.Kind != "" {
				j.kind = p.Format.Kind
			}
		}
	}
	fail := func(err error) (*job, FileResult, bool) {
		j.release()
		fr.Status = StatusFailed
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{File: path, Err: err}
		}
		fr.Err = err
		return nil, fr, true
	}
	if err := l.identify(j); err != nil {
		return fail(err)
	}
	fr.Source, fr.Profile = j.p.Source, j.p.Name
	for name, spec := range j.p.Columns {
		if spec.File != "" && j.groups[spec.File] == "" {
			return fail(&Error{File: path, Reason: fmt.Sprintf("profile %s takes %s from the file name, which does not match %s", j.p.Name, name, j.p.File.Pattern)})
		}
	}
	if err := l.resolveKey(j); err != nil {
		return fail(&Error{File: path, Reason: err.Error()})
	}
	debugf(t00, "identified")
	j.bar = l.newBar(path)
	var err error
	if j.kind == "csv" {
		j.scan, err = scanCSV(path, j.sn, j.headerLine, j.bar.bytes)
		if err == nil {
			j.sha, j.size = j.scan.sha, j.scan.size
		}
	} else {
		j.sha, j.size, err = hashFile(path)
	}
	if err != nil {
		return fail(err)
	}
	debugf(t00, "scanned")
	// unchanged?
	var prev int64
	err = sql.ErrNoRows
	if l.loaded[j.sha] {
		err = l.conn.QueryRowContext(ctx, `SELECT file_id FROM meta.file_ledger WHERE sha256 = ? AND replaced_by IS NULL ORDER BY file_id DESC LIMIT 1`, j.sha).Scan(&prev)
	}
	if err == nil {
		j.release()
		fr.Status, fr.FileID = StatusUnchanged, prev
		l.conn.QueryRowContext(ctx, `SELECT sender, period, rows_read, rows_loaded, rows_rejected FROM meta.file_ledger WHERE file_id = ?`, prev).
			Scan(&fr.Sender, &fr.Period, &fr.Read, &fr.Accepted, &fr.Rejected)
		return nil, fr, true
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	return j, fr, false
}

// ledgerHashes reads the SHA-256 of the files in the ledger.
func ledgerHashes(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT sha256 FROM meta.file_ledger")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out[h] = true
	}
	return out, rows.Err()
}

// release frees what a prepared job holds (an open workbook, its progress bar).
func (j *job) release() {
	if j == nil {
		return
	}
	if j.book != nil {
		j.book.Close()
		j.book = nil
	}
	j.bar.done()
	j.bar = nil
}

// loadPrepared loads a prepared file in its own transaction.
func (l *loader) loadPrepared(ctx context.Context, j *job, fr FileResult) (_ FileResult, months []time.Time, all bool) {
	t00 := time.Now()
	debugf(t00, "before transact")
	fr, months, all, err := l.transact(ctx, j, fr, j.bar)
	debugf(t00, "after transact")
	if err != nil {
		if fr.Status == "" {
			fr.Status = StatusFailed
		}
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{File: j.path, Err: err}
		}
		fr.Err = err
		return fr, nil, false
	}
	return fr, months, all
}
