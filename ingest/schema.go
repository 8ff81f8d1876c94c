package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

const metaDDL = `
CREATE SEQUENCE IF NOT EXISTS meta.file_seq;
CREATE TABLE IF NOT EXISTS meta.file_ledger (
	file_id       BIGINT PRIMARY KEY,
	path          VARCHAR NOT NULL,
	sha256        VARCHAR NOT NULL,
	source        VARCHAR NOT NULL,
	sender        VARCHAR,
	period        VARCHAR,
	profile       VARCHAR,
	rows_read     BIGINT,
	rows_loaded   BIGINT,
	rows_rejected BIGINT,
	loaded_at     TIMESTAMP NOT NULL,
	replaced_by   BIGINT
);
CREATE TABLE IF NOT EXISTS meta.ref_version (
	version VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.ref_pending (
	file_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.quarantine (
	file_id     BIGINT NOT NULL,
	line        BIGINT,
	column_name VARCHAR,
	value       VARCHAR,
	reason      VARCHAR NOT NULL
);`

// tableDDL is the CREATE TABLE of a contract's raw table.
func tableDDL(c *Contract) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n\tfile_id BIGINT NOT NULL,\n\tline BIGINT NOT NULL", c.Table)
	for _, f := range c.Fields {
		fmt.Fprintf(&b, ",\n\t%s %s", f.Name, f.Type.SQLType())
	}
	b.WriteString("\n)")
	return b.String()
}

// EnsureSchema creates the raw and meta tables of ingest when they do not
// exist. Files and Inbox call it; it is exported for the CLI and tests.
func EnsureSchema(ctx context.Context, db execer) error {
	for _, s := range []string{"ref", "raw", "meta"} {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+s); err != nil {
			return fmt.Errorf("create schema %s: %w", s, err)
		}
	}
	if _, err := db.ExecContext(ctx, metaDDL); err != nil {
		return fmt.Errorf("create meta tables: %w", err)
	}
	for i := range contracts {
		if _, err := db.ExecContext(ctx, tableDDL(&contracts[i])); err != nil {
			return fmt.Errorf("create %s: %w", contracts[i].Table, err)
		}
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type queryer interface {
	execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
