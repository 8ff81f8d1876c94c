package ingest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Many small files of one layout (a département's monthly export, times 101
// départements, times 60 months) load in batches: one plain reader over the
// files of the batch, one validation query, one transaction. A file's
// fixed cost (planning the validation query, a commit) is then paid once
// per batch instead of once per file: at national scale, 20,000 files, that
// cost was most of the ingest time.
//
// The rules stay those of one file: each file of a batch loads whole or not
// at all. A file whose rejects are above the limit is taken out of the batch
// (its rows and quarantine deleted in the batch's transaction) and refused;
// the others load. If the batch fails as a whole (a file that cannot be
// read, an error inside DuckDB), nothing of it is committed and its files
// load one by one, each in its own transaction, as they would without
// batching.

// debugProfile (INGEST_DEBUG_PROFILE=DIR) writes DuckDB's JSON profile of
// each batch's validation query to DIR: a development aid.
var debugProfile = os.Getenv("INGEST_DEBUG_PROFILE")

// testHookBatch is told the size of every committed batch (tests).
var testHookBatch func(files int)

// Batch limits: a batch is one transaction and one validation statement.
const (
	batchMaxBytes = 64 << 20
	batchMaxFiles = 2000
)

// batchKey is what files must share to be validated by one query: the plan
// is written for the first and must be right for all of them.
func batchKey(j *job) (string, bool) {
	if j.kind != "csv" || j.scan == nil || !j.scan.plain {
		return "", false
	}
	if j.p.Unpivot != nil || j.p.Aggregate != nil || j.c.Source == "rpe_register" {
		return "", false
	}
	if j.sender == "" || j.period == "" || (j.c.Period == "month" && j.month == "") {
		return "", false // sender or period from the data: one file at a time
	}
	var b strings.Builder
	// the plan is the first file's: same profile, header and month-or-not
	fmt.Fprintf(&b, "%s\x00%c\x00%d\x00%t\x00", j.p.Name, j.sn.delim, j.headerLine, j.month != "")
	b.WriteString(strings.Join(j.header, "\x01"))
	for name, spec := range j.p.Columns {
		if spec.File != "" {
			fmt.Fprintf(&b, "\x00%s=%s", name, j.groups[spec.File])
		}
	}
	return b.String(), true
}

// batchItem is a prepared file waiting in a batch.
type batchItem struct {
	j  *job
	fr FileResult
}

// loadBatch loads items (files of one batchKey) and returns their results
// in order. When the batch cannot load as one, its files load one by one.
func (l *loader) loadBatch(ctx context.Context, items []batchItem) ([]FileResult, []time.Time) {
	t0 := time.Now()
	out, months, err := l.transactBatch(ctx, items)
	debugf(t0, fmt.Sprintf("batch of %d files", len(items)))
	if err == nil {
		for _, it := range items {
			it.j.release()
		}
		return out, months
	}
	if ctx.Err() != nil {
		out = out[:0]
		for _, it := range items {
			fr := it.fr
			fr.Status, fr.Err = StatusFailed, &Error{File: it.j.path, Err: ctx.Err()}
			out = append(out, fr)
			it.j.release()
		}
		return out, nil
	}
	l.log.Debug("ingest: batch failed, its files load one by one", "files", len(items), "first", items[0].j.path, "err", err)
	out, months = out[:0], nil
	for _, it := range items {
		fr, ms, _ := l.loadPrepared(ctx, it.j, it.fr)
		it.j.release()
		out = append(out, fr)
		months = append(months, ms...)
	}
	return out, months
}

// transactBatch loads the files of a batch in one transaction.
func (l *loader) transactBatch(ctx context.Context, items []batchItem) (out []FileResult, months []time.Time, err error) {
	j0 := items[0].j
	c := j0.c
	conn := l.conn
	pl, err := buildPlan(j0, l.now, l.pseudo)
	if err != nil {
		return nil, nil, err
	}
	if pl.unpivoted || pl.grouped {
		return nil, nil, fmt.Errorf("profile %s: wide or grouped layouts load one file at a time", j0.p.Name)
	}
	exec := func(what, s string, args ...any) (int64, error) {
		t0 := time.Now()
		defer debugf(t0, what)
		r, err := conn.ExecContext(ctx, s, args...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		n, _ := r.RowsAffected()
		return n, nil
	}

	// The files' ids first, in file order, from one query
	ids := make([]int64, 0, len(items))
	idRows, err := conn.QueryContext(ctx, "SELECT nextval('meta.file_seq') FROM range(?)", len(items))
	if err != nil {
		return nil, nil, err
	}
	for idRows.Next() {
		var id int64
		if err := idRows.Scan(&id); err != nil {
			idRows.Close()
			return nil, nil, err
		}
		ids = append(ids, id)
	}
	idRows.Close()
	if err := idRows.Err(); err != nil {
		return nil, nil, err
	}
	if len(ids) != len(items) {
		return nil, nil, fmt.Errorf("file ids: %d for %d files", len(ids), len(items))
	}
	slices.Sort(ids)
	var bytes int64
	files := make([]*plainFile, len(items))
	for i, it := range items {
		bytes += it.j.size
		files[i] = &plainFile{path: it.j.path, fid: ids[i], month: monthDays(it.j.month), headerLine: it.j.headerLine, lastDataLine: it.j.scan.lastDataLine}
	}
	bar := l.newBatchBar(bytes, len(items))
	defer bar.done()

	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, nil, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	// One pass: the plain reader splits the files on every core, the
	// validation inserts the accepted records and hands over the rejected
	// ones (tx.go, reject.go).
	bar.describe(fmt.Sprintf("loading %d files", len(items)))
	t1 := time.Now()
	if debugProfile != "" {
		conn.ExecContext(ctx, "PRAGMA enable_profiling = 'json'; SET profiling_output = "+q(fmt.Sprintf("%s/validate-%d.json", debugProfile, ids[0])))
		os.WriteFile(fmt.Sprintf("%s/validate-%d.sql", debugProfile, ids[0]), []byte(pl.insertMarked), 0o644)
	}
	rd := newPlainReader(ctx, files, j0.sn.delim, len(j0.header), pl.lay, l.pseudo, bar.bytes)
	read, accepted, rejected, err := l.loadMarked(ctx, pl, rd)
	if debugProfile != "" {
		conn.ExecContext(context.Background(), "PRAGMA disable_profiling")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("validating and loading: %w", err)
	}
	debugf(t1, "validating and loading")
	var nread, nrejected int64
	for i := range items {
		nread, nrejected = nread+read[i], nrejected+rejected[ids[i]]
	}
	if accepted+nrejected != nread {
		return nil, nil, errCounts(fmt.Sprintf("%s and %d other files of its batch", j0.path, len(items)-1), nread, accepted, nrejected)
	}
	// Files above the reject limit are refused: their rows leave the batch.
	out = make([]FileResult, len(items))
	var refused []string
	for i, it := range items {
		fr := it.fr
		fr.Read, fr.Rejected = read[i], rejected[ids[i]]
		fr.Accepted = fr.Read - fr.Rejected
		fr.Sender, fr.Period = it.j.sender, it.j.period
		if err := l.refusal(ctx, it.j.path, fr, ids[i]); err != nil {
			fr.Status, fr.Err = StatusRefused, err
			refused = append(refused, fmt.Sprint(ids[i]))
		}
		out[i] = fr
	}
	if len(refused) > 0 {
		in := strings.Join(refused, ", ")
		if _, err := exec("refusing", "DELETE FROM "+c.Table+" WHERE file_id IN ("+in+")"); err != nil {
			return nil, nil, err
		}
		if _, err := exec("refusing", "DELETE FROM meta.quarantine WHERE file_id IN ("+in+")"); err != nil {
			return nil, nil, err
		}
	}
	// Ledger, in file order: a file replaces the current one of its source,
	// sender and period, an earlier file of this batch included. The
	// current files of the batch's senders are read once, the ledger rows
	// written by one statement (one per file cost 2-3 ms each).
	type key struct{ sender, period string }
	current := map[key][]int64{}
	var senders []string
	seenSender := map[string]bool{}
	for i := range out {
		if sd := out[i].Sender; !seenSender[sd] {
			seenSender[sd] = true
			senders = append(senders, q(sd))
		}
	}
	rs, err := conn.QueryContext(ctx, `SELECT file_id, sender, period FROM meta.file_ledger
		WHERE source = ? AND sender IN (`+strings.Join(senders, ", ")+`) AND replaced_by IS NULL ORDER BY file_id`, c.Source)
	if err != nil {
		return nil, nil, err
	}
	for rs.Next() {
		var id int64
		var k key
		if err := rs.Scan(&id, &k.sender, &k.period); err != nil {
			rs.Close()
			return nil, nil, err
		}
		current[k] = append(current[k], id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	var replaced []int64
	inBatch := map[int64]int{} // file id -> index, for the files of this batch
	replacedBy := map[int64]int64{}
	seen := map[string]bool{}
	for i, it := range items {
		fr := &out[i]
		if fr.Status == StatusRefused {
			continue
		}
		k := key{fr.Sender, fr.Period}
		fr.Replaced = current[k]
		current[k] = []int64{ids[i]}
		replaced = append(replaced, fr.Replaced...)
		if m := it.j.month; m != "" && !seen[m] {
			seen[m] = true
			t, _ := time.Parse("2006-01", m)
			months = append(months, t)
		}
		for _, old := range fr.Replaced {
			if _, err := exec("replacing", "DELETE FROM "+c.Table+" WHERE file_id = $1", old); err != nil {
				return nil, nil, err
			}
			if _, ok := inBatch[old]; ok {
				replacedBy[old] = ids[i] // its ledger row is written below
				continue
			}
			if _, err := exec("replacing", "UPDATE meta.file_ledger SET replaced_by = $1 WHERE file_id = $2", ids[i], old); err != nil {
				return nil, nil, err
			}
		}
		inBatch[ids[i]] = i
	}
	var values []string
	var args []any
	loadedAt := time.Now().UTC()
	for i, it := range items {
		fr := &out[i]
		if fr.Status == StatusRefused {
			continue
		}
		var by any
		if r, ok := replacedBy[ids[i]]; ok {
			by = r
		}
		abs := it.j.path
		if a, err := absPath(abs); err == nil {
			abs = a
		}
		n := len(args)
		values = append(values, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d::BIGINT)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12))
		args = append(args, ids[i], abs, it.j.sha, c.Source, fr.Sender, fr.Period, it.j.p.Name, fr.Read, fr.Accepted, fr.Rejected, loadedAt, by)
	}
	if len(values) > 0 {
		if _, err := exec("ledger", `INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, profile, rows_read, rows_loaded, rows_rejected, loaded_at, replaced_by)
			VALUES `+strings.Join(values, ", "), args...); err != nil {
			return nil, nil, err
		}
	}
	if c.Period != "month" {
		// the months of a yearly file: those of its rows
		var loaded []int64
		for i := range out {
			if out[i].Status != StatusRefused {
				loaded = append(loaded, ids[i])
			}
		}
		replaced = append(replaced, loaded...)
	}
	if len(replaced) > 0 {
		ms, _, err := l.monthsOf(ctx, c, replaced)
		if err != nil {
			return nil, nil, err
		}
		months = append(months, ms...)
	}
	if testHookBeforeCommit != nil {
		for _, it := range items {
			if err := testHookBeforeCommit(it.j.path); err != nil {
				return nil, nil, err
			}
		}
	}
	if l.opt.DryRun {
		for i := range out {
			if out[i].Status != StatusRefused {
				out[i].Status = StatusDryRun
			}
		}
		return out, nil, nil
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, nil, err
	}
	committed = true
	for _, it := range items {
		l.loaded[it.j.sha] = true // refused files too: a miss only skips a query
	}
	if testHookBatch != nil {
		testHookBatch(len(items))
	}
	for i := range out {
		if out[i].Status == StatusRefused {
			continue
		}
		out[i].FileID = ids[i]
		out[i].Status = StatusLoaded
		if len(out[i].Replaced) > 0 {
			out[i].Status = StatusReplaced
		}
	}
	return out, months, nil
}
