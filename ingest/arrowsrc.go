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

// textReader is an array.RecordReader of the _src layout over a rowSource
// (the Go readers of CSV that needs quote handling or decoding, XLSX and
// JSON). Records longer than the header keep the reason in _extra, so
// that SQL can reject them.
type textReader struct {
	refs    atomic.Int64
	schema  *arrow.Schema
	lay     *srcLayout
	src     rowSource
	ncols   int
	fid     int64
	month   int32
	pseudo  *pseudoState
	pbuf    []byte
	cur     arrow.RecordBatch
	err     error
	done    bool
	onRow   func() // progress, may be nil
	records int64  // rows handed over (blank rows are skipped)
	strict  bool   // CSV: a record must have as many fields as the header
}

// newTextReader reads the records of src (ncols columns) in layout lay;
// ps pseudonymises the identifier columns (nil: the layout has none).
func newTextReader(src rowSource, ncols int, lay *srcLayout, ps *pseudonymizer) *textReader {
	r := &textReader{schema: lay.schema(), lay: lay, src: src, ncols: ncols}
	if ps != nil {
		r.pseudo = ps.state()
	}
	r.refs.Store(1)
	return r
}

func (r *textReader) Retain() { r.refs.Add(1) }
func (r *textReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}
func (r *textReader) Schema() *arrow.Schema          { return r.schema }
func (r *textReader) Record() arrow.RecordBatch      { return r.cur }
func (r *textReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *textReader) Err() error                     { return r.err }

func (r *textReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done {
		return false
	}
	lay := r.lay
	lines := make([]int64, 0, 1024)
	cols := make([]strCol, len(lay.cols))
	for i := range cols {
		cols[i].init(batchRows, 0)
	}
	var extra strCol
	extra.init(batchRows, 0)
	for len(lines) < batchRows {
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
		row := len(lines)
		r.records++
		lines = append(lines, line)
		for k, c := range lay.cols {
			if c >= len(rec) {
				cols[k].null(row)
				continue
			}
			v := strings.TrimSpace(rec[c])
			if v == "" {
				cols[k].null(row)
				continue
			}
			switch lay.pseudo[k] {
			case pseudoID:
				r.pbuf = append(r.pbuf[:0], r.pseudo.pseudoBorrowed(v)...)
				cols[k].add(row, r.pbuf)
			case pseudoList:
				r.pbuf = r.pseudo.appendPseudoList(r.pbuf[:0], []byte(v))
				cols[k].add(row, r.pbuf)
			default:
				cols[k].addString(row, v)
			}
		}
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
		if x != "" {
			extra.addString(row, x)
		} else {
			extra.null(row)
		}
		if r.onRow != nil {
			r.onRow()
		}
	}
	n := len(lines)
	if n == 0 {
		return false
	}
	arrs := lay.fixedArrays(n, lines, r.fid, r.month)
	arrs = append(arrs, extra.array(n))
	for i := range cols {
		arrs = append(arrs, cols[i].array(n))
	}
	r.cur = array.NewRecordBatch(r.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return true
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
