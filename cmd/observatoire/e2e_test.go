package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/demo"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// runCLI runs the observatoire command in-process, as a user would.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("observatoire %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestEndToEnd generates a small real département (Lozère), runs the whole
// pipeline through the CLI, and checks indicators against values this test
// computes itself from the generated files.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end pipeline")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "demo")
	opt := demo.DefaultOptions(src)
	opt.Departements = []string{"48"}
	opt.BadRows = false // expected values below are computed from every row
	if _, err := demo.Generate(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(dir, "warehouse.duckdb")
	site := filepath.Join(dir, "site")
	t.Setenv("OBSERVATOIRE_REPORTS", site)
	t.Setenv("OBSERVATOIRE_SNAPSHOT", filepath.Join(dir, "snapshot.duckdb"))
	t.Setenv("OBSERVATOIRE_SECRET", "")
	out := runCLI(t, "run", "--demo", "--warehouse", wh, src)
	if !strings.Contains(out, "report index: ") {
		t.Fatalf("run did not print the report index:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(site, "index.html")); err != nil {
		t.Fatalf("report index missing: %v", err)
	}

	want := expectedFromFiles(t, src, "48", "2026-10")

	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: wh, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	got := func(level, code, indicator string) float64 {
		t.Helper()
		var v sql.NullFloat64
		err := db.QueryRow(`SELECT value FROM mart.indicator WHERE level = ? AND code = ? AND period_kind = 'month'
			AND period = '2026-10' AND indicator = ?`, level, code, indicator).Scan(&v)
		if err != nil {
			t.Fatalf("%s %s %s: %v", level, code, indicator, err)
		}
		return v.Float64
	}
	check := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, computed from the files %.4f", name, got, want)
		}
	}
	check("children_under3", got("departement", "48", "children_under3"), want.children, 0.01)
	check("am_approved", got("departement", "48", "am_approved"), want.approved, 0)
	check("am_active", got("departement", "48", "am_active"), want.active, 0)
	check("am_places_under3", got("departement", "48", "am_places_under3"), want.amPlacesUnder3, 0)
	check("coverage_rate", got("departement", "48", "coverage_rate"), want.coverage(), 1e-6)
	check("coverage_rate_am", got("departement", "48", "coverage_rate_am"), 100*want.amPlacesUnder3/want.children, 1e-6)
	check("requests_received", got("departement", "48", "requests_received"), want.requests, 0)

	// Every level carries the coverage rate, and the commune figures add up
	// to the département's numerator.
	for _, level := range []string{"commune", "epci", "rpe", "departement", "region", "france"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM mart.indicator WHERE level = ? AND indicator = 'coverage_rate' AND period = '2026-10'`, level).Scan(&n); err != nil || n == 0 {
			t.Errorf("no coverage_rate at level %s (n=%d, err=%v)", level, n, err)
		}
	}
	// The commune with the most children: its own coverage from the files.
	var top string
	var topChildren float64
	for c, v := range want.childrenBy {
		if v > topChildren || (v == topChildren && c < top) {
			top, topChildren = c, v
		}
	}
	check("coverage_rate "+top, got("commune", top, "coverage_rate"), want.communeCoverage(top), 1e-6)
	db.Close()

	// One new month (the monthly job): its files only, a run that
	// recomputes its window, and the analyst snapshot published
	// incrementally, equal to a full publication of the same warehouse.
	nextAll, next := filepath.Join(dir, "demo-next-all"), filepath.Join(dir, "demo-next")
	no := opt
	no.Dir, no.To, no.Months = nextAll, "2026-11", opt.Months+1
	ns, err := demo.Generate(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	newFiles := 0
	for _, rel := range ns.Files {
		if !strings.Contains(rel, "_2026-11.") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(nextAll, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(next, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		newFiles++
	}
	if newFiles < 3 {
		t.Fatalf("only %d files for 2026-11", newFiles)
	}
	logs := captureStderr(t, func() { runCLI(t, "run", "--demo", "--warehouse", wh, "--log-level", "debug", next) })
	line := logLine(logs, "analyst snapshot published")
	if !strings.Contains(line, " mode=incremental ") || strings.Contains(line, " windowed=0 ") {
		t.Errorf("the new month's snapshot was not published incrementally:\n%s", logs)
	}
	// It started from the copy of the previous snapshot made while the
	// models ran, and left no copy behind.
	if !regexp.MustCompile(`step="copy the previous snapshot" .*early=true`).MatchString(logs) {
		t.Errorf("the new month's snapshot did not start from the early copy:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshot.duckdb.next")); err == nil {
		t.Error("the early copy of the snapshot was left behind")
	}
	if !strings.Contains(logs, `msg=model model=mart.indicator mode=incremental`) {
		t.Errorf("the new month's transform did not build mart.indicator incrementally:\n%s", logs)
	}
	t.Logf("%s", line)
	full := filepath.Join(dir, "snapshot-full.duckdb")
	t.Setenv("OBSERVATOIRE_SNAPSHOT", full)
	runCLI(t, "snapshot", "--warehouse", wh)
	// meta.run differs by construction: the run's own row is 'running' in
	// the snapshot it published, and 'snapshot' recorded one more run.
	for _, d := range compareSnapshots(t, filepath.Join(dir, "snapshot.duckdb"), full, "meta.analyst_snapshot", "meta.run") {
		t.Error("incremental snapshot vs full: " + d)
	}
}

// captureStderr runs fn with os.Stderr (where the commands log) sent to a
// file, and returns what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stderr
	os.Stderr = f
	defer func() { os.Stderr = saved }()
	fn()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logLine returns the log line with that message ("" when none).
func logLine(logs, msg string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `msg="`+msg+`"`) {
			return l + " "
		}
	}
	return ""
}

// compareSnapshots compares every table of two snapshot files (but skip):
// EXCEPT ALL both ways and row counts.
func compareSnapshots(t *testing.T, a, b string, skip ...string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(fmt.Sprintf(`ATTACH '%s' AS sa (READ_ONLY); ATTACH '%s' AS sb (READ_ONLY)`, a, b)); err != nil {
		t.Fatal(err)
	}
	listTables := func(cat string) []string {
		rows, err := db.Query(`SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1`, cat)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			out = append(out, n)
		}
		return out
	}
	ta, tb := listTables("sa"), listTables("sb")
	var diffs []string
	if strings.Join(ta, ",") != strings.Join(tb, ",") {
		diffs = append(diffs, fmt.Sprintf("tables differ: %v vs %v", ta, tb))
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	compared := 0
	for _, name := range ta {
		if skipped[name] {
			continue
		}
		var onlyA, onlyB, na, nb int64
		q := fmt.Sprintf(`SELECT (SELECT count(*) FROM (FROM sa.%[1]s EXCEPT ALL FROM sb.%[1]s)), (SELECT count(*) FROM (FROM sb.%[1]s EXCEPT ALL FROM sa.%[1]s)),
			(SELECT count(*) FROM sa.%[1]s), (SELECT count(*) FROM sb.%[1]s)`, name)
		if err := db.QueryRow(q).Scan(&onlyA, &onlyB, &na, &nb); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if onlyA != 0 || onlyB != 0 || na != nb {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows only in the first, %d only in the second, %d vs %d rows", name, onlyA, onlyB, na, nb))
		}
		compared++
	}
	if compared < 10 {
		diffs = append(diffs, fmt.Sprintf("only %d tables compared", compared))
	}
	return diffs
}

// TestEndToEndBadRows checks the accounting: every row read is either loaded
// or quarantined, and the quarantine holds exactly the generator's bad rows.
func TestEndToEndBadRows(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end pipeline")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "demo")
	opt := demo.DefaultOptions(src)
	opt.Departements = []string{"48"}
	sum, err := demo.Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(dir, "warehouse.duckdb")
	t.Setenv("OBSERVATOIRE_SECRET", "")
	// Lozère's files are small: one bad row in a 12-row RPE register is 8 %,
	// above the default refusal threshold; this test is about accounting.
	t.Setenv("OBSERVATOIRE_MAX_REJECT_SHARE", "0.25")
	runCLI(t, "ingest", "--demo", "--warehouse", wh, src)
	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: wh, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var read, loaded, rejected, files int64
	if err := db.QueryRow(`SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected), count(*) FROM meta.file_ledger`).Scan(&read, &loaded, &rejected, &files); err != nil {
		t.Fatal(err)
	}
	if files != int64(len(sum.Files)) {
		t.Errorf("ledger has %d files, generator wrote %d", files, len(sum.Files))
	}
	if read != loaded+rejected {
		t.Errorf("read %d != loaded %d + rejected %d", read, loaded, rejected)
	}
	var genRows int64
	for _, n := range sum.Rows {
		genRows += n
	}
	if read != genRows {
		t.Errorf("ingest read %d rows, generator wrote %d", read, genRows)
	}
	if want := demo.BadRowCount(sum); rejected != want {
		t.Errorf("quarantined rows %d, generator wrote %d bad rows", rejected, want)
	}
	var quarantine int64
	if err := db.QueryRow(`SELECT count(DISTINCT (file_id, line)) FROM meta.quarantine`).Scan(&quarantine); err != nil {
		t.Fatal(err)
	}
	if quarantine != rejected {
		t.Errorf("meta.quarantine has %d rejected rows, ledger says %d", quarantine, rejected)
	}

	db.Close()

	// The same files again change nothing.
	out := runCLI(t, "ingest", "--demo", "--warehouse", wh, src)
	if n := strings.Count(out, " unchanged "); n != len(sum.Files) {
		t.Errorf("second ingest: %d files unchanged, want %d:\n%s", n, len(sum.Files), out)
	}
}

// expected holds the figures of one month computed directly from the files.
type expected struct {
	children, approved, active, amPlacesUnder3, requests float64
	collective                                           float64
	childrenBy, amBy, collectiveBy                       map[string]float64
}

func (e expected) coverage() float64 {
	return 100 * (e.collective + e.amPlacesUnder3) / e.children
}

func (e expected) communeCoverage(c string) float64 {
	return 100 * (e.collectiveBy[c] + e.amBy[c]) / e.childrenBy[c]
}

func expectedFromFiles(t *testing.T, dir, dep, month string) expected {
	t.Helper()
	e := expected{childrenBy: map[string]float64{}, amBy: map[string]float64{}, collectiveBy: map[string]float64{}}
	year := month[:4]
	monthEnd, _ := time.Parse("2006-01", month)
	monthEnd = monthEnd.AddDate(0, 1, -1)

	for _, r := range readSemicolon(t, filepath.Join(dir, "population", "population_"+dep+"_"+year+".csv")) {
		v := frNumber(t, r["enfants_0_2"])
		e.children += v
		e.childrenBy[r["code_commune"]] += v
	}
	for _, r := range readSemicolon(t, filepath.Join(dir, "caf", "nbpla_pe_com_"+dep+"_"+year+".csv")) {
		v := frNumber(t, r["places_EAJE_PSU"]) + frNumber(t, r["places_hors_EAJE_PSU"]) +
			frNumber(t, r["places_prescolarisation"]) + frNumber(t, r["places_salariee_domicile"])
		e.collective += v
		e.collectiveBy[r["num_commune"]] += v
	}
	// Children cared for this month, per AM.
	cared := map[string]float64{}
	for _, r := range readSemicolon(t, filepath.Join(dir, "disponibilites", "disponibilites_"+dep+"_"+month+".csv")) {
		cared[r["numero_agrement"]] = frNumber(t, r["enfants_accueillis"])
	}
	// The register snapshot of the month: approved = active status, started,
	// not ended at month end.
	for _, r := range readSemicolon(t, filepath.Join(dir, "pmi", "registre_am_"+dep+"_"+month+".csv")) {
		if r["statut"] != "en activité" {
			continue
		}
		start := frDate(t, r["date_agrement"])
		if start.After(monthEnd) {
			continue
		}
		if r["date_fin"] != "" && frDate(t, r["date_fin"]).Before(monthEnd) {
			continue
		}
		e.approved++
		if cared[r["numero_agrement"]] > 0 {
			e.active++
			p := frNumber(t, r["places_moins_3_ans"])
			e.amPlacesUnder3 += p
			e.amBy[r["commune_exercice"]] += p
		}
	}
	e.requests = float64(len(readSemicolon(t, filepath.Join(dir, "demandes", "demandes_"+dep+"_"+month+".csv"))))
	return e
}

func readSemicolon(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := make(map[string]string, len(header))
		for i, h := range header {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
}

func frNumber(t *testing.T, s string) float64 {
	t.Helper()
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

func frDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("02/01/2006", s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}
