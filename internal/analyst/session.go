// Package analyst is the observatory's ad-hoc SQL access for analysts (CAF,
// département, EPCI observatories): a read-only snapshot of the warehouse
// published after each successful pipeline run, a sandboxed session on it, the
// result formats (table, CSV, JSON, Parquet, XLSX), the schema listing with
// its French descriptions, the interactive shell, and the Parquet export for
// other engines. See docs/analyst.md.
//
// Analysts never open the live warehouse: the pipeline holds it for writing
// while they read their own copy, so neither can block the other.
package analyst

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// Options configure an analyst session.
type Options struct {
	Snapshot     string        // snapshot file (config analyst.snapshot)
	MemoryLimit  string        // DuckDB memory_limit; empty = DuckDB's default
	Threads      int           // 0 = DuckDB's default
	QueryTimeout time.Duration // per statement; 0 = none
	MaxTempSize  string        // disk the session may spill to, e.g. "10GB"; empty = DuckDB's default (90 % of free space)
}

// ErrNoSnapshot is returned when no snapshot has been published yet.
var ErrNoSnapshot = errors.New("no analyst snapshot published yet")

// Session is a sandboxed, read-only connection to the snapshot. It holds a
// single DuckDB connection, so TEMP tables and variables last for the session.
type Session struct {
	opts    Options
	db      *sql.DB
	conn    *sql.Conn
	tempDir string
	Info    SnapshotInfo
}

// SnapshotInfo says what the snapshot is (from meta.analyst_snapshot).
type SnapshotInfo struct {
	Path        string
	PublishedAt time.Time // zero when the snapshot does not say
	Job         string
	Excluded    []string
}

// sandbox is run, in order, on the fresh read-only database before anything
// else; the last statement locks the configuration so nothing after it can
// undo the others.
var sandbox = []string{
	"SET autoinstall_known_extensions = false",
	"SET autoload_known_extensions = false",
	"SET allow_community_extensions = false",
	"SET enable_external_access = false",
	"SET lock_configuration = true",
}

// Open opens the snapshot read-only and sandboxes it: external access off (no
// files, no network, no ATTACH, no INSTALL/LOAD), then the configuration
// locked. DuckDB's spill directory is a private temporary folder, removed by
// Close (DuckDB always allows its own temp directory).
func Open(ctx context.Context, o Options) (*Session, error) {
	db, conn, tmp, err := openSnapshot(ctx, o.Snapshot, o.MemoryLimit, o.Threads)
	if err != nil {
		return nil, err
	}
	s := &Session{opts: o, db: db, conn: conn, tempDir: tmp}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// CatalogName is the name the snapshot is attached under: analysts may write
// snapshot.mart.indicator, and every session sees the same name whatever the
// file is called.
const CatalogName = "snapshot"

// openSnapshot opens a private in-memory DuckDB (settings from the one DSN of
// package warehouse) and attaches the snapshot file READ_ONLY as "snapshot",
// the default catalog of the single connection returned. A private instance,
// rather than opening the file as the main database, keeps each session's
// settings its own: the Go driver shares one DuckDB instance per file path
// within a process, so a sandboxed session and a later one (or a session
// opened after a new snapshot was renamed into place) would otherwise share
// an instance, its locked settings and its view of the old file.
func openSnapshot(ctx context.Context, path, memoryLimit string, threads int) (*sql.DB, *sql.Conn, string, error) {
	if err := snapshotExists(path); err != nil {
		return nil, nil, "", err
	}
	tmp, err := os.MkdirTemp("", "observatoire-sql-")
	if err != nil {
		return nil, nil, "", err
	}
	fail := func(err error, closers ...io.Closer) (*sql.DB, *sql.Conn, string, error) {
		for _, c := range closers {
			c.Close()
		}
		os.RemoveAll(tmp)
		return nil, nil, "", err
	}
	db, err := sql.Open("duckdb", warehouse.DSN(warehouse.Options{
		Path:        ":memory:",
		MemoryLimit: memoryLimit,
		Threads:     threads,
		TempDir:     tmp,
	}))
	if err != nil {
		return fail(err)
	}
	// One connection: USE, TEMP tables and variables are per connection.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fail(err, db)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ATTACH %s AS %s (READ_ONLY)`, quoteLiteral(path), CatalogName)); err != nil {
		return fail(fmt.Errorf("open the analyst snapshot %s: %w", path, err), conn, db)
	}
	if _, err := conn.ExecContext(ctx, `USE `+CatalogName); err != nil {
		return fail(err, conn, db)
	}
	return db, conn, tmp, nil
}

func snapshotExists(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w at %s: it is written after each successful 'observatoire transform' or 'observatoire run'; "+
			"'observatoire snapshot' publishes one now from the current warehouse", ErrNoSnapshot, path)
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("analyst snapshot %s is a directory, not a DuckDB file", path)
	}
	return nil
}

func (s *Session) init(ctx context.Context) error {
	conn := s.conn
	if s.opts.MaxTempSize != "" {
		if _, err := conn.ExecContext(ctx, `SET max_temp_directory_size = `+quoteLiteral(s.opts.MaxTempSize)); err != nil {
			return fmt.Errorf("analyst.max_temp_size: %w", err)
		}
	}
	for _, q := range sandbox {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sandbox the analyst session (%s): %w", q, err)
		}
	}
	// Fail closed: check the settings really took.
	var external, locked bool
	if err := conn.QueryRowContext(ctx,
		`SELECT current_setting('enable_external_access'), current_setting('lock_configuration')`).Scan(&external, &locked); err != nil {
		return err
	}
	if external || !locked {
		return errors.New("the analyst session could not be sandboxed (external access still on or configuration not locked)")
	}
	s.Info = readInfo(ctx, conn, s.opts.Snapshot)
	return nil
}

// readInfo reads meta.analyst_snapshot when the snapshot has it.
func readInfo(ctx context.Context, q queryer, path string) SnapshotInfo {
	info := SnapshotInfo{Path: path}
	var at sql.NullTime
	var job sql.NullString
	var excluded any
	err := q.QueryRowContext(ctx, `SELECT published_at, job, excluded FROM snapshot.meta.analyst_snapshot ORDER BY published_at DESC LIMIT 1`).
		Scan(&at, &job, &excluded)
	if err != nil {
		return info
	}
	info.PublishedAt, info.Job = at.Time, job.String
	list, _ := excluded.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			info.Excluded = append(info.Excluded, s)
		}
	}
	return info
}

// Conn is the session's connection (read-only and sandboxed).
func (s *Session) Conn() *sql.Conn { return s.conn }

// Timeout is the per-statement timeout.
func (s *Session) Timeout() time.Duration { return s.opts.QueryTimeout }

// SetTimeout changes the per-statement timeout (0 = none).
func (s *Session) SetTimeout(d time.Duration) { s.opts.QueryTimeout = d }

// Close closes the connection and removes the private temp folder.
func (s *Session) Close() error {
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.tempDir != "" {
		errs = append(errs, os.RemoveAll(s.tempDir))
	}
	return errors.Join(errs...)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
