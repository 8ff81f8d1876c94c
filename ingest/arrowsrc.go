package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

// textReader is an array.RecordReader over a rowSource: a BIGINT column
// "line" and ncols nullable VARCHAR columns c0..cN-1 (empty cell = NULL).
// Records longer than ncols keep their extra fields in the last column
// "_extra" (NULL when there are none), so that SQL can reject them.
type textReader struct {
	refs    atomic.Int64
	schema  *arrow.Schema
	src     rowSource
	ncols   int
	bld     *array.RecordBuilder
	cur     arrow.RecordBatch
	err     error
	done    bool
	onRow   func() // progress, may be nil
	keep    []bool // columns to keep (nil = all); the others are NULL, never copied
	records int64  // rows handed over (blank rows are skipped)
	strict  bool   // CSV: a record must have as many fields as the header
}

func textSchema(ncols int) *arrow.Schema {
	fields := []arrow.Field{{Name: "line", Type: arrow.PrimitiveTypes.Int64}}
	for i := 0; i < ncols; i++ {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", i), Type: arrow.BinaryTypes.String, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "_extra", Type: arrow.BinaryTypes.String, Nullable: true})
	return arrow.NewSchema(fields, nil)
}

func newTextReader(src rowSource, ncols int) *textReader {
	s := textSchema(ncols)
	r := &textReader{schema: s, src: src, ncols: ncols, bld: array.NewRecordBuilder(memory.DefaultAllocator, s)}
	r.refs.Store(1)
	return r
}

func (r *textReader) Retain() { r.refs.Add(1) }
func (r *textReader) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		r.bld.Release()
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
	lines := r.bld.Field(0).(*array.Int64Builder)
	cols := make([]*array.StringBuilder, r.ncols+1)
	for i := range cols {
		cols[i] = r.bld.Field(i + 1).(*array.StringBuilder)
	}
	n := 0
	for n < batchRows {
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
		lines.Append(line)
		for i := 0; i < r.ncols; i++ {
			if i < len(rec) && (r.keep == nil || r.keep[i]) {
				if v := strings.TrimSpace(rec[i]); v != "" {
					cols[i].Append(v)
				} else {
					cols[i].AppendNull()
				}
			} else {
				cols[i].AppendNull()
			}
		}
		extra := ""
		if r.strict && len(rec) < r.ncols {
			extra = fmt.Sprintf("%d fields, the header has %d", len(rec), r.ncols)
		}
		for i := r.ncols; i < len(rec); i++ {
			if rec[i] != "" {
				extra = fmt.Sprintf("%d fields, the header has %d", len(rec), r.ncols)
				break
			}
		}
		if extra != "" {
			cols[r.ncols].Append(extra)
		} else {
			cols[r.ncols].AppendNull()
		}
		if r.onRow != nil {
			r.onRow()
		}
		n++
	}
	if n == 0 {
		return false
	}
	r.cur = r.bld.NewRecordBatch()
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

// loadArrow materialises the records of rd as the table name (CREATE OR
// REPLACE TEMP TABLE name AS SELECT * FROM the Arrow view), in bulk.
func loadArrow(ctx context.Context, conn *sql.Conn, rd array.RecordReader, name string) error {
	view := name + "_arrow"
	var release func()
	err := withArrow(ctx, conn, func(a *duckdb.Arrow) error {
		var err error
		release, err = a.RegisterView(rd, view)
		return err
	})
	if err != nil {
		return err
	}
	defer release()
	_, err = conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s", name, view))
	if _, e := conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+view); e != nil && err == nil {
		err = e
	}
	if rerr := rd.Err(); rerr != nil {
		return rerr
	}
	return err
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
