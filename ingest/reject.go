package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
)

// The validation of a file (or batch) is one statement: INSERT INTO the raw
// table SELECT the accepted records FROM the validation of _src WHERE _ok OR
// ing_reject(_fid, line, errors). DuckDB evaluates the right side of the OR
// for the rejected records only; ing_reject, a Go scalar function, keeps
// their line and errors (JSON) and returns false, so that they are not
// inserted. The kept errors are then written to meta.quarantine in bulk. One
// pass over the records, no intermediate table; read = accepted + rejected is
// checked after it (a record DuckDB skipped would show there).

// rejectRow is one rejected record: its file, line and errors
// ([{"c": column, "v": value, "r": reason}] as JSON).
type rejectRow struct {
	fid, line int64
	errs      string
}

// rejectLog collects the rejected records of the statement being run.
type rejectLog struct {
	mu   sync.Mutex
	rows []rejectRow
	seen map[[2]int64]bool
}

func (r *rejectLog) reset() {
	r.mu.Lock()
	r.rows, r.seen = nil, map[[2]int64]bool{}
	r.mu.Unlock()
}

func (r *rejectLog) add(fid, line int64, errs string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]int64{fid, line}
	if r.seen[k] { // evaluated twice: once is enough
		return
	}
	r.seen[k] = true
	r.rows = append(r.rows, rejectRow{fid, line, errs})
}

// take returns the rows collected and empties the log.
func (r *rejectLog) take() []rejectRow {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := r.rows
	r.rows, r.seen = nil, map[[2]int64]bool{}
	return rows
}

// perFile counts the rejected records of each file.
func perFile(rows []rejectRow) map[int64]int64 {
	n := map[int64]int64{}
	for _, r := range rows {
		n[r.fid]++
	}
	return n
}

type rejectUDF struct{ log *rejectLog }

func (u *rejectUDF) Config() duckdb.ScalarFuncConfig {
	bi, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	vc, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	b, _ := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{bi, bi, vc}, ResultTypeInfo: b, Volatile: true}
}

func (u *rejectUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(v []driver.Value) (any, error) {
		fid, ok1 := v[0].(int64)
		line, ok2 := v[1].(int64)
		errs, ok3 := v[2].(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("ing_reject(%T, %T, %T): unexpected types", v[0], v[1], v[2])
		}
		u.log.add(fid, line, errs)
		return false, nil
	}}
}

func registerReject(conn *sql.Conn, log *rejectLog) error {
	return duckdb.RegisterScalarUDF(conn, "ing_reject", &rejectUDF{log: log})
}

// writeQuarantine inserts the errors of the rejected records into
// meta.quarantine (one row per faulty cell), through Arrow.
func writeQuarantine(ctx context.Context, conn *sql.Conn, rows []rejectRow) error {
	if len(rows) == 0 {
		return nil
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "fid", Type: arrow.PrimitiveTypes.Int64},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "errs", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	fids, lines, errs := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder), b.Field(2).(*array.StringBuilder)
	for _, r := range rows {
		fids.Append(r.fid)
		lines.Append(r.line)
		errs.Append(r.errs)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rd, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	defer rd.Release()
	return withArrowView(ctx, conn, rd, "_rejects", func() error {
		_, err := conn.ExecContext(ctx, `INSERT INTO meta.quarantine
			SELECT DISTINCT fid, line, e.c, e.v, e.r
			FROM (SELECT fid, line, unnest(from_json(errs, '[{"c": "VARCHAR", "v": "VARCHAR", "r": "VARCHAR"}]')) AS e FROM _rejects)`)
		return err
	})
}
