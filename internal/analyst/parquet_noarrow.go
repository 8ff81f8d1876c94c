//go:build !duckdb_arrow

package analyst

import (
	"context"
	"errors"
	"io"
)

func (s *Session) writeParquet(ctx context.Context, stmt string, w io.Writer) (int64, error) {
	return 0, errors.New("parquet output needs a build with -tags duckdb_arrow (see the Makefile)")
}
