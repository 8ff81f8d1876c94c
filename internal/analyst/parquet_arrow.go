//go:build duckdb_arrow

package analyst

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// writeParquet streams a statement's result through DuckDB's Arrow interface
// into a Parquet file written by Go (COPY TO is disabled in the sandbox).
func (s *Session) writeParquet(ctx context.Context, stmt string, w io.Writer) (int64, error) {
	var n int64
	err := s.conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("analyst: not a driver connection")
		}
		ar, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		rr, err := ar.QueryContext(ctx, stmt)
		if err != nil {
			return err
		}
		defer rr.Release()
		props := parquet.NewWriterProperties(
			parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithMaxRowGroupLength(122880), // DuckDB's row group size
			parquet.WithCreatedBy("observatoire sql"),
		)
		// The Parquet writer closes a writer that is an io.Closer: the
		// caller owns w.
		fw, err := pqarrow.NewFileWriter(rr.Schema(), struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		for rr.Next() {
			rec := rr.RecordBatch()
			if err := fw.WriteBuffered(rec); err != nil {
				fw.Close()
				return err
			}
			n += rec.NumRows()
		}
		if err := rr.Err(); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	})
	return n, err
}
