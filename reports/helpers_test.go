package reports

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

const dsnOpts = "?autoinstall_known_extensions=false&autoload_known_extensions=false"

// openFixture opens a DuckDB database (in a temp dir) loaded with
// testdata/fixture.sql.
func openFixture(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", filepath.Join(tb.TempDir(), "wh.duckdb")+dsnOpts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	src, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(string(src)); err != nil {
		tb.Fatalf("fixture.sql: %v", err)
	}
	return db
}

var fixedNow = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

func buildFixture(tb testing.TB, db *sql.DB, opt Options) (Result, string) {
	tb.Helper()
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join(tb.TempDir(), "site")
	}
	if opt.Now.IsZero() {
		opt.Now = fixedNow
	}
	res, err := Build(context.Background(), db, opt)
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return res, opt.OutDir
}

// walkFiles returns the files under dir (slash paths, relative).
func walkFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func isHTML(p string) bool { return strings.HasSuffix(p, ".html") }
