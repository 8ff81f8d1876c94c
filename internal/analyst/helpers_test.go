package analyst

import (
	"context"
	"database/sql"
	_ "embed"
	"path/filepath"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

//go:embed testdata/fixture.sql
var fixtureSQL string

// newWarehouse builds the fixture warehouse in a file and returns its writer
// connection.
func newWarehouse(t *testing.T, dir string) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(dir, "warehouse.duckdb")
	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: path, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, st := range Statements(fixtureSQL) {
		if _, err := conn.ExecContext(context.Background(), st); err != nil {
			t.Fatalf("fixture: %v\n%s", err, st)
		}
	}
	return db, path
}

// fixtureSnapshot publishes the fixture warehouse and returns the snapshot
// path (and the writer, still open).
func fixtureSnapshot(t *testing.T) (string, *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	excl, _ := ParsePatterns(DefaultExclude)
	if _, err := Publish(context.Background(), db, PublishOptions{Path: snap, Exclude: excl, Job: "test"}); err != nil {
		t.Fatal(err)
	}
	return snap, db
}

func openSession(t *testing.T, snap string, timeout time.Duration) *Session {
	t.Helper()
	s, err := Open(context.Background(), Options{Snapshot: snap, QueryTimeout: timeout, Threads: 2, MaxTempSize: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// plainDB is an ordinary in-memory DuckDB to read files back.
func plainDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryStrings runs a query and returns every value as text (NULL = "NULL").
func queryStrings(t *testing.T, q queryer, query string, args ...any) [][]string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	res, err := newResult(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for {
		ok, err := res.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		line := make([]string, len(res.vals))
		for i, v := range res.vals {
			if v == nil {
				line[i] = "NULL"
			} else {
				line[i] = text(v, res.types[i])
			}
		}
		out = append(out, line)
	}
	return out
}
