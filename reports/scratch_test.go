package reports

import (
	"database/sql"
	"os"
	"testing"
	"time"
)

func BenchmarkScratchMake(b *testing.B) {
	db := benchFixture(b)
	os.Remove("/tmp/bench.duckdb")
	if _, err := db.Exec(`ATTACH '/tmp/bench.duckdb' AS bench; COPY FROM DATABASE ` + "wh" + ` TO bench`); err != nil {
		b.Fatal(err)
	}
}

func TestScratchTime(t *testing.T) {
	db, _ := sql.Open("duckdb", "/tmp/bench.duckdb"+dsnOpts)
	m, _ := os.ReadFile("/tmp/macro.sql")
	if _, err := db.Exec(string(m)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM mart.indicator",
		"SELECT count(*) FROM mart.published_indicator(5)",
		"SELECT count(*) FROM (SELECT DISTINCT period_kind, period, period_start FROM mart.published_indicator(5) WHERE level = 'france')",
	} {
		s := time.Now()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, c string
			if rows.Scan(&a, &c) != nil {
				var n int
				rows.Scan(&n)
			} else {
				t.Log(c)
			}
		}
		rows.Close()
		t.Log(q, time.Since(s))
	}
}

func TestScratchBuild(t *testing.T) {
	db, _ := sql.Open("duckdb", "/tmp/bench.duckdb"+dsnOpts)
	m, _ := os.ReadFile("/tmp/macro.sql")
	if _, err := db.Exec(string(m)); err != nil {
		t.Fatal(err)
	}
	opt := Options{OutDir: t.TempDir() + "/site", MinCount: 5, MinCommunePopulation: 10000, Now: fixedNow, Standalone: "none", Workers: 2}
	s := time.Now()
	w, err := load(t.Context(), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("load", time.Since(s), len(w.blocks), "blocks")
	b := &builder{w: w, opt: opt}
	s = time.Now()
	res, err := b.write(t.Context(), t.TempDir())
	t.Log("write", time.Since(s), res.Pages, err)
}
