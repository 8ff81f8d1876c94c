package reports

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchFixture loads testdata/fixture.sql, then replaces its territories by
// a generated set of a few hundred (1 France, 4 régions, 12 départements,
// 72 EPCI of 10 communes, 2 of them above 10,000 inhabitants, 24 RPE
// areas) and re-runs the fixture's generation blocks on them.
func benchFixture(b *testing.B) *sql.DB {
	b.Helper()
	db := openFixture(b)
	src, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		b.Fatal(err)
	}
	block := func(name string) string {
		s := string(src)
		i := strings.Index(s, "\n-- BEGIN "+name+"\n")
		j := strings.Index(s, "\n-- END "+name+"\n")
		if i < 0 || j < 0 {
			b.Fatalf("fixture.sql: no %s block", name)
		}
		body := s[i:j]
		return body[:strings.LastIndex(body, ";")+1] // no trailing comment-only statement
	}
	var q strings.Builder
	q.WriteString("DELETE FROM ref.territory; DELETE FROM ref.commune_territory; DELETE FROM meta.file_ledger;\n")
	q.WriteString("INSERT INTO ref.territory VALUES ('france', 'FR', 'France', NULL, NULL, 20000000)")
	for r := 0; r < 4; r++ {
		rc := fmt.Sprintf("g%02d", r)
		fmt.Fprintf(&q, ",\n('region', '%s', 'Région %d', 'france', 'FR', 5000000)", rc, r)
		for d := 0; d < 3; d++ {
			dc := fmt.Sprintf("g%d%d", r, d)
			fmt.Fprintf(&q, ",\n('departement', '%s', 'Département %s', 'region', '%s', 1500000)", dc, dc, rc)
			for rp := 0; rp < 2; rp++ {
				fmt.Fprintf(&q, ",\n('rpe', 'g%s-rpe%d', 'RPE %s-%d', 'departement', '%s', 40000)", dc, rp, dc, rp, dc)
			}
			for e := 0; e < 6; e++ {
				ec := fmt.Sprintf("g%s%06d", dc, e)
				fmt.Fprintf(&q, ",\n('epci', '%s', 'Intercommunalité %s-%d', 'departement', '%s', 100000)", ec, dc, e, dc)
				for c := 0; c < 10; c++ {
					pop := 800 + 450*c
					if c < 2 {
						pop = 12000 + 9000*c
					}
					fmt.Fprintf(&q, ",\n('commune', '%s%02d', 'Commune %s-%d-%d', 'epci', '%s', %d)", ec, c, dc, e, c, ec, pop)
				}
			}
		}
	}
	q.WriteString(";\n")
	q.WriteString(`INSERT INTO ref.commune_territory
WITH RECURSIVE up(commune, level, code, parent_level, parent_code) AS (
    SELECT code, level, code, parent_level, parent_code FROM ref.territory WHERE level = 'commune'
    UNION ALL
    SELECT up.commune, t.level, t.code, t.parent_level, t.parent_code
    FROM up JOIN ref.territory t ON t.level = up.parent_level AND t.code = up.parent_code)
SELECT commune, level, code FROM up;
INSERT INTO ref.commune_territory
SELECT c.code, 'rpe', r.code FROM ref.territory c JOIN ref.territory e ON e.level = 'epci' AND e.code = c.parent_code
JOIN ref.territory r ON r.level = 'rpe' AND r.parent_code = e.parent_code
WHERE c.level = 'commune' AND right(r.code, 1) = CAST(CAST(right(e.code, 1) AS INTEGER) % 2 AS VARCHAR);
`)
	start := time.Now()
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{q.String(), block("GENERATE"), block("COMPARE")} {
		if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
			b.Fatalf("generate the benchmark warehouse: %v\n%.300s", err, stmt)
		}
	}
	var terr, rows int
	db.QueryRow(`SELECT count(*) FROM ref.territory`).Scan(&terr)
	db.QueryRow(`SELECT count(*) FROM mart.indicator`).Scan(&rows)
	b.Logf("benchmark warehouse: %d territories, %d indicator rows, generated in %v", terr, rows, time.Since(start).Round(time.Millisecond))
	return db
}

// BenchmarkBuildSite measures pages per second of the site on a generated
// warehouse of a few hundred territories, against a bare baseline: the time
// to read every published row from DuckDB.
func BenchmarkBuildSite(b *testing.B) {
	db := benchFixture(b)
	ctx := context.Background()
	b.Run("baseline_select_published", func(b *testing.B) {
		var rows int64
		cpu0 := cpuTime()
		for b.Loop() {
			rs, err := db.QueryContext(ctx, `SELECT level, code, period, indicator, value, parent_value, diff_parent, rank, peers, quartile, prev_value, prev_year_value, masked FROM mart.published_indicator(5)`)
			if err != nil {
				b.Fatal(err)
			}
			var level, code, period, ind string
			var v, pv, dp, prev, prevY sql.NullFloat64
			var rank, peers, quart sql.NullInt64
			var masked bool
			n := int64(0)
			for rs.Next() {
				if err := rs.Scan(&level, &code, &period, &ind, &v, &pv, &dp, &rank, &peers, &quart, &prev, &prevY, &masked); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rs.Close()
			rows = n
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/select")
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/select")
	})
	// The reports' own work, without the warehouse read: load once, render
	// the site again and again.
	b.Run("render_only", func(b *testing.B) {
		opt := Options{MinCount: 5, MinCommunePopulation: 10000, Now: fixedNow, Standalone: "none", Workers: runtime.GOMAXPROCS(0)}
		w, err := load(ctx, db, opt)
		if err != nil {
			b.Fatal(err)
		}
		bl := &builder{w: w, opt: opt}
		var res Result
		cpu0 := cpuTime()
		for b.Loop() {
			res, err = bl.write(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(res.Pages)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64(res.Pages)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "pages/cpu-s")
	})
	for _, c := range []struct {
		name       string
		standalone string
	}{{"site", "none"}, {"site_and_standalone", "latest"}} {
		b.Run(c.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "site")
			var res Result
			cpu0 := cpuTime()
			for b.Loop() {
				var err error
				res, err = Build(ctx, db, Options{OutDir: out, Now: fixedNow, Standalone: c.standalone})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Pages)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
			// The machine may be shared: pages per CPU-second (Go and DuckDB
			// threads of this process) does not depend on the other load.
			b.ReportMetric(float64(res.Pages)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "pages/cpu-s")
			b.ReportMetric(float64(res.Pages), "pages")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/build")
			b.ReportMetric(float64(res.Standalone), "standalone")
			b.ReportMetric(float64(res.Bytes)/float64(res.Pages+res.Standalone)/1024, "KiB/page")
		})
	}
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
