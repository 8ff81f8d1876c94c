package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
)

// rowSource yields the records of a file read on the Go side: the line the
// record starts on and its fields (valid until the next call). It returns
// io.EOF at the end.
type rowSource interface {
	Next() (line int64, rec []string, err error)
}

// batchRows is the number of rows per Arrow record batch.
const batchRows = 64 * 1024

// pseudoKind says whether a source column is an identifier, or a list of
// identifiers, that the reader replaces by pseudonyms.
type pseudoKind uint8

const (
	pseudoNone pseudoKind = iota
	pseudoID
	pseudoList
)

// srcLayout is the relation _src every reader hands to the validation SQL:
// line BIGINT (the record's line, or row, in its file), then _fid BIGINT
// (the file's ledger id) and _month DATE (the file's month) when set,
// _extra VARCHAR (why the record has the wrong number of fields, else
// NULL), and the file's columns the plan reads, c<i> VARCHAR, trimmed,
// empty = NULL, identifiers already pseudonymised.
//
// Only the columns the plan reads, and the plan reads every one: DuckDB's
// Arrow scan through the C API misplaces columns, and can crash, when a
// query reads a subset of the stream's columns (the stream cannot honour
// the projection). checkArrowScan verifies it before a query runs.
type srcLayout struct {
	fid, month bool
	cols       []int        // the file's columns handed over, ascending
	pseudo     []pseudoKind // per entry of cols
}

// allColumns is the layout of n columns, no file id, no month (reference data).
func allColumns(n int) *srcLayout {
	l := &srcLayout{cols: make([]int, n), pseudo: make([]pseudoKind, n)}
	for i := range l.cols {
		l.cols[i] = i
	}
	return l
}

func (l *srcLayout) schema() *arrow.Schema {
	fields := []arrow.Field{{Name: "line", Type: arrow.PrimitiveTypes.Int64}}
	if l.fid {
		fields = append(fields, arrow.Field{Name: "_fid", Type: arrow.PrimitiveTypes.Int64})
	}
	if l.month {
		fields = append(fields, arrow.Field{Name: "_month", Type: arrow.FixedWidthTypes.Date32})
	}
	fields = append(fields, arrow.Field{Name: "_extra", Type: arrow.BinaryTypes.String, Nullable: true})
	for _, c := range l.cols {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", c), Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// fixedArrays are the arrays of line, and of _fid and _month when the
// layout has them (one file's constants).
func (l *srcLayout) fixedArrays(n int, lines []int64, fid int64, month int32) []arrow.Array {
	arrs := []arrow.Array{int64Array(lines)}
	if l.fid {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = fid
		}
		arrs = append(arrs, int64Array(ids))
	}
	if l.month {
		ms := make([]arrow.Date32, n)
		for i := range ms {
			ms[i] = arrow.Date32(month)
		}
		d := array.NewData(arrow.FixedWidthTypes.Date32, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Date32Traits.CastToBytes(ms))}, nil, 0, 0)
		arrs = append(arrs, array.MakeFromData(d))
		d.Release()
	}
	return arrs
}

func int64Array(v []int64) arrow.Array {
	d := array.NewData(arrow.PrimitiveTypes.Int64, len(v), []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(v))}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// srcBatch gathers records of a srcLayout into one record batch: the
// readers give it each record's line, the reason of a wrong number of
// fields and the cells, it replaces identifiers by their pseudonyms.
type srcBatch struct {
	lay   *srcLayout
	ps    *pseudoState // nil when the layout has no identifier column
	lines []int64
	extra strCol
	cols  []strCol
	pbuf  []byte
}

func newSrcBatch(lay *srcLayout, ps *pseudonymizer) *srcBatch {
	b := &srcBatch{lay: lay, cols: make([]strCol, len(lay.cols))}
	if ps != nil {
		b.ps = ps.state()
	}
	return b
}

// start empties b for about rows records of about bytes bytes per column
// (the arrays of the previous batch own their buffers: new ones each time).
func (b *srcBatch) start(rows, bytes int) {
	b.lines = make([]int64, 0, rows)
	for i := range b.cols {
		b.cols[i].init(rows, bytes)
	}
	b.extra.init(rows, 0)
}

// record adds a record at line; extra is why it has the wrong number of
// fields ("" when it has not). It returns the record's row, for cell.
func (b *srcBatch) record(line int64, extra string) int {
	row := len(b.lines)
	b.lines = append(b.lines, line)
	if extra != "" {
		b.extra.add(row, extra)
	} else {
		b.extra.null(row)
	}
	return row
}

// cell sets column k (the k-th of lay.cols) of the record row to v,
// trimmed already; empty is NULL.
func (b *srcBatch) cell(row, k int, v string) {
	if v == "" {
		b.cols[k].null(row)
		return
	}
	switch b.lay.pseudo[k] {
	case pseudoID:
		v = b.ps.pseudoBorrowed(v)
	case pseudoList:
		b.pbuf = b.ps.appendPseudoList(b.pbuf[:0], v)
		v = str(b.pbuf) // may be empty: a list with no identifier, not a missing cell
	}
	b.cols[k].add(row, v)
}

// finish is the record batch of the records added, those of file fid
// (month: _month), or nil when there are none.
func (b *srcBatch) finish(schema *arrow.Schema, fid int64, month int32) arrow.RecordBatch {
	n := len(b.lines)
	if n == 0 {
		return nil
	}
	arrs := b.lay.fixedArrays(n, b.lines, fid, month)
	arrs = append(arrs, b.extra.array(n))
	for i := range b.cols {
		arrs = append(arrs, b.cols[i].array(n))
	}
	rec := array.NewRecordBatch(schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// recordStream is what the readers' array.RecordReader methods share: the
// schema, the current batch, the error, the reference count.
type recordStream struct {
	refs   atomic.Int64
	schema *arrow.Schema
	cur    arrow.RecordBatch
	err    error
}

func (s *recordStream) Retain()                        { s.refs.Add(1) }
func (s *recordStream) Schema() *arrow.Schema          { return s.schema }
func (s *recordStream) Record() arrow.RecordBatch      { return s.cur }
func (s *recordStream) RecordBatch() arrow.RecordBatch { return s.cur }
func (s *recordStream) Err() error                     { return s.err }

// dropCur releases the current batch.
func (s *recordStream) dropCur() {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
}

// textReader is an array.RecordReader of the _src layout over a rowSource
// (the Go readers of CSV that needs quote handling or decoding, XLSX and
// JSON). Records longer than the header keep the reason in _extra, so
// that SQL can reject them.
type textReader struct {
	recordStream
	src     rowSource
	ncols   int
	batch   *srcBatch
	fid     int64
	month   int32
	done    bool
	onRow   func() // progress, may be nil
	records int64  // rows handed over (blank rows are skipped)
	strict  bool   // CSV: a record must have as many fields as the header
}

// newTextReader reads the records of src (ncols columns) in layout lay;
// ps pseudonymises the identifier columns (nil: the layout has none).
func newTextReader(src rowSource, ncols int, lay *srcLayout, ps *pseudonymizer) *textReader {
	r := &textReader{src: src, ncols: ncols, batch: newSrcBatch(lay, ps)}
	r.schema = lay.schema()
	r.refs.Store(1)
	return r
}

func (r *textReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.dropCur()
	}
}

func (r *textReader) Next() bool {
	r.dropCur()
	if r.done {
		return false
	}
	b := r.batch
	b.start(batchRows, 0)
	for len(b.lines) < batchRows {
		line, rec, err := r.src.Next()
		if err == io.EOF {
			r.done = true
			break
		}
		if err != nil {
			r.err, r.done = err, true
			return false
		}
		if blankRecord(rec) {
			continue
		}
		r.records++
		x := ""
		if r.strict && len(rec) < r.ncols {
			x = fmt.Sprintf("%d fields, the header has %d", len(rec), r.ncols)
		}
		for i := r.ncols; i < len(rec); i++ {
			if rec[i] != "" {
				x = fmt.Sprintf("%d fields, the header has %d", len(rec), r.ncols)
				break
			}
		}
		row := b.record(line, x)
		for k, c := range b.lay.cols {
			v := ""
			if c < len(rec) {
				v = strings.TrimSpace(rec[c])
			}
			b.cell(row, k, v)
		}
		if r.onRow != nil {
			r.onRow()
		}
	}
	r.cur = b.finish(r.schema, r.fid, r.month)
	return r.cur != nil
}

// withArrow runs fn with the DuckDB Arrow interface of conn.
func withArrow(ctx context.Context, conn *sql.Conn, fn func(a *duckdb.Arrow) error) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		return fn(a)
	})
}

// withArrowView registers rd as the view name for fn, then drops it. The
// reader's error, if any, comes first: a statement that failed because its
// stream did is the reader's fault.
func withArrowView(ctx context.Context, conn *sql.Conn, rd array.RecordReader, name string, fn func() error) error {
	var release func()
	err := withArrow(ctx, conn, func(a *duckdb.Arrow) error {
		var err error
		release, err = a.RegisterView(rd, name)
		return err
	})
	if err != nil {
		return err
	}
	err = fn()
	if _, e := conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+name); e != nil && err == nil {
		err = e
	}
	release()
	if rerr := rd.Err(); rerr != nil {
		return rerr
	}
	return err
}

// loadArrow materialises the records of rd as the table name (CREATE OR
// REPLACE TEMP TABLE name AS SELECT * FROM the Arrow view), in bulk.
func loadArrow(ctx context.Context, conn *sql.Conn, rd array.RecordReader, name string) error {
	return withArrowView(ctx, conn, rd, name+"_arrow", func() error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s_arrow", name, name))
		return err
	})
}

// checkArrowScanOnce is checkArrowScan, skipped for a query and width
// already checked: the plan of the validation costs about 20 ms, and the
// files of one layout loaded one by one share their query.
func (l *loader) checkArrowScanOnce(ctx context.Context, query string, columns int) error {
	key := scanKey{query, columns}
	if l.scanChecked[key] {
		return nil
	}
	if err := checkArrowScan(ctx, l.conn, query, columns); err != nil {
		return err
	}
	if l.scanChecked == nil {
		l.scanChecked = map[scanKey]bool{}
	}
	l.scanChecked[key] = true
	return nil
}

// scanKey is a validation query and the width of the stream it reads.
type scanKey struct {
	query   string
	columns int
}

// checkArrowScan checks, on the physical plan of query (EXPLAIN FORMAT
// JSON), that every Arrow scan reads all columns of the stream (see
// srcLayout: one that reads a subset gets misplaced columns).
func checkArrowScan(ctx context.Context, conn *sql.Conn, query string, columns int) error {
	var key, plan string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query).Scan(&key, &plan); err != nil {
		return err
	}
	type node struct {
		Name      string          `json:"name"`
		Children  []node          `json:"children"`
		ExtraInfo json.RawMessage `json:"extra_info"`
	}
	var roots []node
	if err := json.Unmarshal([]byte(plan), &roots); err != nil {
		return fmt.Errorf("validation plan: %w", err)
	}
	scans := 0
	var walk func(n node) error
	walk = func(n node) error {
		if strings.HasPrefix(n.Name, "ARROW_SCAN") {
			scans++
			var x struct {
				Projections any `json:"Projections"`
			}
			json.Unmarshal(n.ExtraInfo, &x)
			got := 1
			switch p := x.Projections.(type) {
			case []any:
				got = len(p)
			case nil:
				got = 0
			}
			if got != columns {
				return fmt.Errorf("validation plan: the Arrow scan reads %d of the %d columns of the records", got, columns)
			}
		}
		for _, c := range n.Children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r); err != nil {
			return err
		}
	}
	if scans == 0 {
		return errors.New("validation plan: no Arrow scan")
	}
	return nil
}

// sliceSource is a rowSource over rows held in memory (line = index + 1
// unless lines is set).
type sliceSource struct {
	rows  [][]string
	lines []int64
	i     int
}

func (s *sliceSource) Next() (int64, []string, error) {
	if s.i >= len(s.rows) {
		return 0, nil, io.EOF
	}
	s.i++
	line := int64(s.i)
	if s.lines != nil {
		line = s.lines[s.i-1]
	}
	return line, s.rows[s.i-1], nil
}

var errStop = errors.New("stop")

// blankRecord: every field empty or spaces.
func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.Trim(f, " \t") != "" {
			return false
		}
	}
	return true
}
