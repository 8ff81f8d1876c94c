package analyst

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// PublishOptions configure a snapshot publication.
type PublishOptions struct {
	Path    string   // the snapshot file analysts open (config analyst.snapshot)
	Exclude []string // schema.table patterns (path.Match syntax) copied empty
	Job     string   // the pipeline job that published it, recorded in the snapshot
	// Descriptions (French) are written as COMMENT ON in the snapshot where
	// the warehouse has no comment, so DuckDB, 'observatoire schema' and the
	// export all see them. Keys: "schema.table" and "schema.table.column".
	Descriptions map[string]string
	Now          func() time.Time
}

// PublishResult says what was published.
type PublishResult struct {
	Path     string
	Tables   int   // tables with their rows
	Emptied  int   // excluded tables, copied without rows
	Rows     int64 // rows copied
	Bytes    int64 // size of the snapshot file
	Duration time.Duration
}

// DefaultExclude is the default of analyst.exclude: raw source rows and the
// quarantine (which keeps rejected values verbatim) stay out of the snapshot.
const DefaultExclude = "raw.*,meta.quarantine*"

// ParsePatterns splits a comma-separated list of schema.table patterns.
func ParsePatterns(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if _, err := path.Match(p, "x.y"); err != nil || !strings.Contains(p, ".") {
			return nil, fmt.Errorf("bad table pattern %q: want schema.table, * as a wildcard (e.g. raw.*)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func matchAny(patterns []string, schema, table string) bool {
	name := strings.ToLower(schema + "." + table)
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// snapshotAlias is the name the snapshot being written is attached under.
const snapshotAlias = "analyst_snapshot_next"

// Publish copies the warehouse db (the pipeline's writer connection) into
// <Path>.tmp and renames it over Path. The copy is made with ATTACH and
// COPY FROM DATABASE ... (SCHEMA), then one INSERT ... SELECT per table, so
// every schema, table, view, macro, sequence and comment is there, and the
// excluded tables exist but are empty (views over them still bind). The
// rename is atomic: analysts opening the snapshot get the previous file or
// the new one, and a session already open keeps reading the file it opened.
//
// Publish runs inside the pipeline, which holds the warehouse's writer lock,
// so two publications never overlap.
func Publish(ctx context.Context, db *sql.DB, o PublishOptions) (res PublishResult, err error) {
	start := time.Now()
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.Path == "" {
		return res, errors.New("publish snapshot: no snapshot path (analyst.snapshot)")
	}
	res.Path = o.Path
	tmp := o.Path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
		return res, err
	}
	// A crash may have left a half-written copy.
	for _, f := range []string{tmp, tmp + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("publish snapshot: remove leftover %s: %w", f, err)
		}
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	var src string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&src); err != nil {
		return res, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ATTACH %s AS %s`, quoteLiteral(tmp), snapshotAlias)); err != nil {
		return res, fmt.Errorf("publish snapshot: attach %s: %w", tmp, err)
	}
	attached := true
	defer func() {
		if attached {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `DETACH `+snapshotAlias)
		}
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + ".wal")
		}
	}()

	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`COPY FROM DATABASE %s TO %s (SCHEMA)`, quoteIdent(src), snapshotAlias)); err != nil {
		return res, fmt.Errorf("publish snapshot: copy the schema: %w", err)
	}
	tables, err := baseTables(ctx, conn, src)
	if err != nil {
		return res, err
	}
	var excluded []string
	var pending []table
	for _, t := range tables {
		if matchAny(o.Exclude, t.schema, t.name) {
			excluded = append(excluded, t.schema+"."+t.name)
			res.Emptied++
			continue
		}
		pending = append(pending, t)
	}
	// Foreign keys want referenced tables first: retry the failures while
	// the copies make progress.
	for len(pending) > 0 {
		var failed []table
		var lastErr error
		for _, t := range pending {
			r, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s.%s.%s SELECT * FROM %s.%s.%s`,
				snapshotAlias, quoteIdent(t.schema), quoteIdent(t.name), quoteIdent(src), quoteIdent(t.schema), quoteIdent(t.name)))
			if err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				failed, lastErr = append(failed, t), fmt.Errorf("publish snapshot: copy %s.%s: %w", t.schema, t.name, err)
				continue
			}
			n, _ := r.RowsAffected()
			res.Rows += n
			res.Tables++
		}
		if len(failed) == len(pending) {
			return res, lastErr
		}
		pending = failed
	}

	if err := applyDescriptions(ctx, conn, o.Descriptions); err != nil {
		return res, err
	}

	info := []string{
		`CREATE SCHEMA IF NOT EXISTS ` + snapshotAlias + `.meta`,
		`CREATE OR REPLACE TABLE ` + snapshotAlias + `.meta.analyst_snapshot (published_at TIMESTAMPTZ, job VARCHAR, source VARCHAR, excluded VARCHAR[])`,
		`COMMENT ON TABLE ` + snapshotAlias + `.meta.analyst_snapshot IS 'Copie en lecture seule de l''entrepôt pour les analystes : date de publication, traitement qui l''a publiée, tables copiées vides (exclues).'`,
	}
	for _, q := range info {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("publish snapshot: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO `+snapshotAlias+`.meta.analyst_snapshot VALUES (?, ?, ?, ?)`,
		now(), o.Job, src, excludedList(excluded)); err != nil {
		return res, fmt.Errorf("publish snapshot: %w", err)
	}

	// DETACH checkpoints the copy: a single file, no WAL.
	if _, err := conn.ExecContext(ctx, `DETACH `+snapshotAlias); err != nil {
		return res, fmt.Errorf("publish snapshot: detach: %w", err)
	}
	attached = false
	if _, err := os.Stat(tmp + ".wal"); err == nil {
		return res, fmt.Errorf("publish snapshot: %s.wal left after checkpoint", tmp)
	}
	if err := syncFile(tmp); err != nil {
		return res, err
	}
	if err := os.Rename(tmp, o.Path); err != nil {
		return res, fmt.Errorf("publish snapshot: %w", err)
	}
	syncDir(filepath.Dir(o.Path))
	if st, err := os.Stat(o.Path); err == nil {
		res.Bytes = st.Size()
	}
	res.Duration = time.Since(start)
	return res, nil
}

// applyDescriptions comments the relations and columns of the copy that have
// no comment yet.
func applyDescriptions(ctx context.Context, conn *sql.Conn, desc map[string]string) error {
	if len(desc) == 0 {
		return nil
	}
	type target struct{ kind, schema, name, column, comment string }
	var todo []target
	rows, err := conn.QueryContext(ctx, `
		SELECT 'TABLE', schema_name, table_name, NULL, coalesce(comment, '') FROM duckdb_tables() WHERE database_name = ?
		UNION ALL
		SELECT 'VIEW', schema_name, view_name, NULL, coalesce(comment, '') FROM duckdb_views() WHERE database_name = ? AND NOT internal
		UNION ALL
		SELECT 'COLUMN', schema_name, table_name, column_name, coalesce(comment, '') FROM duckdb_columns() WHERE database_name = ?
		UNION ALL
		SELECT DISTINCT CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, schema_name, function_name, NULL, coalesce(comment, '')
		FROM duckdb_functions() WHERE database_name = ? AND function_type IN ('macro', 'table_macro') AND NOT internal`,
		snapshotAlias, snapshotAlias, snapshotAlias, snapshotAlias)
	if err != nil {
		return fmt.Errorf("publish snapshot: %w", err)
	}
	for rows.Next() {
		var t target
		var col sql.NullString
		if err := rows.Scan(&t.kind, &t.schema, &t.name, &col, &t.comment); err != nil {
			rows.Close()
			return err
		}
		t.column = col.String
		todo = append(todo, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range todo {
		if t.comment != "" {
			continue
		}
		key, obj := t.schema+"."+t.name, snapshotAlias+"."+quoteIdent(t.schema)+"."+quoteIdent(t.name)
		if t.kind == "COLUMN" {
			key += "." + t.column
			obj += "." + quoteIdent(t.column)
		}
		d := strings.TrimSpace(desc[key])
		if d == "" {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`COMMENT ON %s %s IS %s`, t.kind, obj, quoteLiteral(d))); err != nil {
			return fmt.Errorf("publish snapshot: comment %s: %w", key, err)
		}
	}
	return nil
}

type table struct{ schema, name string }

func baseTables(ctx context.Context, q queryer, database string) ([]table, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT schema_name, table_name FROM duckdb_tables()
		WHERE database_name = ? AND NOT temporary AND NOT internal
		ORDER BY schema_name, table_name`, database)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.schema, &t.name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// excludedList is a VARCHAR[] parameter (never NULL, so readers get a list).
func excludedList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
