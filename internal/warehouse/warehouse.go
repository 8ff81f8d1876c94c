// Package warehouse opens the observatory's DuckDB file. It is the one place
// that knows the DSN and its settings, and it is shared by every stage:
// ingest, transform, reports and analyst access each receive a *sql.DB from
// here and never open DuckDB themselves.
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// Options are the DuckDB settings a warehouse is opened with.
type Options struct {
	Path        string // file path; ":memory:" or "" for an in-memory database (tests)
	MemoryLimit string // e.g. "2GB"; empty = DuckDB's default
	Threads     int    // 0 = DuckDB's default (one per core)
	TempDir     string // spill directory; empty = DuckDB's default
	ReadOnly    bool
}

// DSN builds the connection string. Extension auto-install and auto-load are
// always off: an INSTALL on an offline machine can hang for minutes and does
// not honour context deadlines, and everything we use (icu, json, parquet) is
// built in.
func DSN(o Options) string {
	q := url.Values{}
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	// DuckDB's jemalloc keeps freed pages until later allocations in the
	// same arena reuse them; a long transform, one model after another,
	// ratcheted RSS up to 1.3 GiB above memory_limit that way. Background
	// threads return them to the system as they age.
	q.Set("allocator_background_threads", "true")
	if o.MemoryLimit != "" {
		q.Set("memory_limit", o.MemoryLimit)
	}
	if o.Threads > 0 {
		q.Set("threads", strconv.Itoa(o.Threads))
	}
	if o.TempDir != "" {
		q.Set("temp_directory", o.TempDir)
	}
	if o.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	path := o.Path
	if path == ":memory:" {
		path = ""
	}
	return path + "?" + q.Encode()
}

// ErrLocked is returned (wrapped) when another process holds the file.
var ErrLocked = errors.New("warehouse is locked by another process")

var lockPID = regexp.MustCompile(`PID (\d+)`)

// Open opens (creating if needed) the warehouse and makes sure its schemas
// exist. A file held by another process gives an error that says who holds it
// and what to do. Writers go through OpenWriter, which takes the writer lock
// first; Open alone is for read-only access and in-memory tests.
func Open(ctx context.Context, o Options) (*sql.DB, error) {
	return open(ctx, o, nil)
}

// OpenWriter takes the writer lock of the warehouse file (see lock.go), then
// opens it for writing and closes the runs that a process which died left
// 'running' (they are recorded in the returned lock's AbandonedRuns). Closing
// the *sql.DB releases the lock, after DuckDB has closed the file. When
// another process holds the lock the error is a *LockedError saying who.
// An in-memory warehouse takes no lock.
func OpenWriter(ctx context.Context, o Options, h Holder) (*sql.DB, *WriterLock, error) {
	o.ReadOnly = false
	if o.Path == "" || o.Path == ":memory:" {
		db, err := open(ctx, o, nil)
		return db, &WriterLock{Holder: h}, err
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("warehouse %s: %w", o.Path, err)
	}
	lock, err := AcquireWriterLock(o.Path, h)
	if err != nil {
		return nil, nil, err
	}
	db, err := open(ctx, o, lock)
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	if lock.AbandonedRuns, err = CloseAbandonedRuns(ctx, db, lock.Stale); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, lock, nil
}

// lockedConnector releases the writer lock once DuckDB has closed the file:
// database/sql calls Close on a connector that has one when the DB closes.
type lockedConnector struct {
	*duckdb.Connector
	lock *WriterLock
}

func (c lockedConnector) Close() error {
	err := c.Connector.Close()
	if e := c.lock.Release(); err == nil {
		err = e
	}
	return err
}

func open(ctx context.Context, o Options, lock *WriterLock) (*sql.DB, error) {
	if o.Path != "" && o.Path != ":memory:" && !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
			return nil, fmt.Errorf("warehouse %s: %w", o.Path, err)
		}
	}
	conn, err := duckdb.NewConnector(DSN(o), nil)
	if err != nil {
		return nil, explainOpenError(o.Path, err)
	}
	var db *sql.DB
	if lock != nil {
		db = sql.OpenDB(lockedConnector{conn, lock})
	} else {
		db = sql.OpenDB(conn)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close() // releases the lock too, if any
		return nil, explainOpenError(o.Path, err)
	}
	if !o.ReadOnly {
		if err := ensureSchemas(ctx, db); err != nil {
			db.Close() // releases the lock too, if any
			return nil, err
		}
	}
	return db, nil
}

func explainOpenError(path string, err error) error {
	msg := err.Error()
	// "different configuration": this process has the file open for writing
	// (DuckDB shares one instance per file and process) and asked read-only.
	if strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock") ||
		strings.Contains(msg, "same database file with a different configuration") {
		// Our own writer lock names the holder best.
		if held, h, e := LockState(path); e == nil && held {
			return fmt.Errorf("%w: %v", &LockedError{Warehouse: path, Holder: h}, err)
		}
		who := "another process"
		if m := lockPID.FindStringSubmatch(msg); m != nil {
			who = "process " + m[1]
			if cmd, e := os.ReadFile("/proc/" + m[1] + "/cmdline"); e == nil {
				who += " (" + strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")) + ")"
			}
		}
		return fmt.Errorf("%w: %s holds %s. Wait for it to finish (see 'observatoire status'), "+
			"or query the read-only snapshot with 'observatoire sql'; if that process is hung, stop it: %v",
			ErrLocked, who, path, err)
	}
	return fmt.Errorf("open warehouse %s: %w", path, err)
}

// Schemas are created on open, in data-flow order.
var Schemas = []string{"ref", "raw", "meta", "staging", "mart"}

func ensureSchemas(ctx context.Context, db *sql.DB) error {
	for _, s := range Schemas {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+s); err != nil {
			return fmt.Errorf("create schema %s: %w", s, err)
		}
	}
	return ensureRunTable(ctx, db)
}
