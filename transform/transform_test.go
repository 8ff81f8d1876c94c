package transform

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadHand opens a warehouse with the hand-made fixture (both parts).
func loadHand(t testing.TB) *sql.DB {
	t.Helper()
	db := openDB(t)
	execFile(t, db, "testdata/hand/ref.sql")
	execFile(t, db, "testdata/hand/part1.sql")
	execFile(t, db, "testdata/hand/part2.sql")
	return db
}

func mustRun(t testing.TB, db *sql.DB, opt Options) Result {
	t.Helper()
	res, err := Run(context.Background(), db, opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

type expectation struct {
	line                           int
	level, code, period, indicator string
	cols                           map[string]string // column -> expected ("-" = NULL)
}

func readExpected(t *testing.T, path string) []expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		e := expectation{line: ln, cols: map[string]string{}}
		if fs[0] == "cmp" {
			if len(fs) < 6 {
				t.Fatalf("%s:%d: want cmp level code period indicator col=value...", path, ln)
			}
			e.level, e.code, e.period, e.indicator = fs[1], fs[2], fs[3], fs[4]
			for _, kv := range fs[5:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("%s:%d: %q is not col=value", path, ln, kv)
				}
				e.cols[k] = v
			}
		} else {
			if len(fs) != 6 {
				t.Fatalf("%s:%d: want level code period indicator value n", path, ln)
			}
			e.level, e.code, e.period, e.indicator = fs[0], fs[1], fs[2], fs[3]
			e.cols["value"], e.cols["n"] = fs[4], fs[5]
		}
		out = append(out, e)
	}
	return out
}

// TestHandFixture checks indicators against values computed by hand
// (testdata/hand/expected.txt), and that every indicator of
// docs/indicators.md is checked at commune and département level.
func TestHandFixture(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	res := mustRun(t, db, Options{FullRefresh: true, RunID: 1})
	if res.Failed > 0 {
		t.Fatalf("failed models: %+v", res.Models)
	}
	exp := readExpected(t, "testdata/hand/expected.txt")
	covered := map[string]map[string]bool{}
	for _, e := range exp {
		name := fmt.Sprintf("line %d %s/%s/%s/%s", e.line, e.level, e.code, e.period, e.indicator)
		var cols []string
		for c := range e.cols {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		q := fmt.Sprintf(`SELECT %s FROM mart.indicator WHERE level = ? AND code = ? AND period = ? AND indicator = ?`,
			"CAST("+strings.Join(cols, " AS VARCHAR), CAST(")+" AS VARCHAR)")
		got := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range got {
			ptrs[i] = &got[i]
		}
		if err := db.QueryRow(q, e.level, e.code, e.period, e.indicator).Scan(ptrs...); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i, c := range cols {
			if !sameValue(e.cols[c], got[i]) {
				t.Errorf("%s: %s = %v, want %s", name, c, fmtNull(got[i]), e.cols[c])
			}
		}
		if e.cols["value"] != "" && (e.level == "commune" || e.level == "departement") {
			if covered[e.indicator] == nil {
				covered[e.indicator] = map[string]bool{}
			}
			covered[e.indicator][e.level] = true
		}
	}
	for _, ind := range contractIndicators(t) {
		if !covered[ind]["commune"] && !strings.HasPrefix(ind, "official_coverage_rate_") {
			t.Errorf("indicator %s has no hand-computed value at commune level", ind)
		}
		if !covered[ind]["departement"] {
			t.Errorf("indicator %s has no hand-computed value at département level", ind)
		}
	}
}

func fmtNull(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

func sameValue(want string, got sql.NullString) bool {
	if want == "-" {
		return !got.Valid
	}
	if !got.Valid {
		return false
	}
	w, err1 := strconv.ParseFloat(want, 64)
	g, err2 := strconv.ParseFloat(got.String, 64)
	if err1 == nil && err2 == nil {
		return math.Abs(w-g) <= 1e-4
	}
	return want == got.String
}

// contractIndicators lists the indicator names of docs/indicators.md.
func contractIndicators(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/indicators.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	re := regexp.MustCompile("^[a-z0-9_]+$")
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cell := strings.TrimSpace(strings.Split(l, "|")[1])
		for _, name := range strings.Split(cell, ",") {
			name = strings.TrimSpace(name)
			if re.MatchString(name) && name != "indicator" {
				out = append(out, name)
			}
		}
	}
	if len(out) < 60 {
		t.Fatalf("read only %d indicators from docs/indicators.md", len(out))
	}
	return out
}

// TestCatalogCoversContract: every indicator of docs/indicators.md is in
// the catalog with a French label, and every catalog indicator appears in
// mart.indicator on the fixture.
func TestCatalogCoversContract(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	mustRun(t, db, Options{FullRefresh: true})
	cat := map[string]bool{}
	rows, err := db.Query(`SELECT indicator FROM mart.indicator_catalog WHERE label <> '' AND description <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		cat[s] = true
	}
	rows.Close()
	for _, ind := range contractIndicators(t) {
		if !cat[ind] {
			t.Errorf("%s is not in mart.indicator_catalog", ind)
		}
	}
	var missing []string
	rows, err = db.Query(`SELECT indicator FROM mart.indicator_catalog EXCEPT SELECT DISTINCT indicator FROM mart.indicator ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		missing = append(missing, s)
	}
	rows.Close()
	if len(missing) > 0 {
		t.Errorf("catalog indicators never computed on the fixture: %v", missing)
	}
	var levels, kinds int
	db.QueryRow(`SELECT count(DISTINCT level), count(DISTINCT period_kind) FROM mart.indicator`).Scan(&levels, &kinds)
	if levels != 6 || kinds != 3 {
		t.Errorf("mart.indicator has %d levels and %d period kinds, want 6 and 3", levels, kinds)
	}
}

// dumpTables returns the sorted content of every model table, as text.
func dumpTables(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	models, err := Models()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, m := range models {
		if m.Kind != "table" {
			continue
		}
		// Doubles are rounded: sums of fractional values (places x 0.81,
		// population estimates) may differ in the last bit with the order of
		// summation.
		var exprs []string
		crows, err := db.Query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, m.Schema, m.Table)
		if err != nil {
			t.Fatal(err)
		}
		for crows.Next() {
			var c, typ string
			crows.Scan(&c, &typ)
			if typ == "DOUBLE" {
				exprs = append(exprs, fmt.Sprintf("CAST(round(%q, 9) AS VARCHAR) AS %q", c, c))
			} else {
				exprs = append(exprs, fmt.Sprintf("CAST(%q AS VARCHAR) AS %q", c, c))
			}
		}
		crows.Close()
		q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(exprs, ", "), m.Name)
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				fmt.Fprintf(&b, "%s=%s|", cols[i], fmtNull(v))
			}
			out[m.Name] = append(out[m.Name], b.String())
		}
		rows.Close()
		sort.Strings(out[m.Name])
	}
	return out
}

// TestIncrementalEqualsFullRefresh loads January-March, runs, loads April
// and May (one file updates a March request), runs incrementally (months
// detected from the file ledger), and compares every table with a full
// refresh of the same data.
func TestIncrementalEqualsFullRefresh(t *testing.T) {
	t.Parallel()
	inc := openDB(t)
	execFile(t, inc, "testdata/hand/ref.sql")
	execFile(t, inc, "testdata/hand/part1.sql")
	mustRun(t, inc, Options{RunID: 1})
	execFile(t, inc, "testdata/hand/part2.sql")
	res := mustRun(t, inc, Options{RunID: 2})
	if res.FullRefresh {
		t.Fatal("second run was a full refresh, want incremental")
	}
	if got := res.Since.Format("2006-01"); got != "2025-03" {
		t.Errorf("since = %s, want 2025-03 (q8, received in March, came back in the April file)", got)
	}
	var incremental int
	for _, m := range res.Models {
		if m.Mode == "incremental" {
			incremental++
		}
	}
	if incremental < 10 {
		t.Errorf("only %d models ran incrementally: %+v", incremental, res.Models)
	}

	full := loadHand(t)
	mustRun(t, full, Options{FullRefresh: true})
	a, b := dumpTables(t, inc), dumpTables(t, full)
	for name := range b {
		if diff := cmp.Diff(b[name], a[name]); diff != "" {
			t.Errorf("%s: incremental differs from full refresh (-full +incremental):\n%s", name, diff)
		}
	}

	// A third run with nothing new does nothing to the incremental models.
	res = mustRun(t, inc, Options{RunID: 3})
	for _, m := range res.Models {
		if m.Status != "fresh" {
			t.Errorf("%s: status %s after a run with no new data, want fresh", m.Name, m.Status)
		}
	}
	// Months given by ingest (here the whole of May again) give the same tables.
	res = mustRun(t, inc, Options{RunID: 4, Months: []time.Time{time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}})
	if res.Since.Format("2006-01") != "2025-05" {
		t.Errorf("since = %s, want 2025-05", res.Since.Format("2006-01"))
	}
	a = dumpTables(t, inc)
	for name := range b {
		if diff := cmp.Diff(b[name], a[name]); diff != "" {
			t.Errorf("%s after re-running May: differs from full refresh:\n%s", name, diff)
		}
	}
}

// TestFailingModelKeepsPreviousTable: a register row breaking an error data
// test fails staging.am_register; its previous table stays, every model
// reading it (directly or not) is skipped and keeps its previous table,
// models that do not depend on it still run, and the failing rows are kept.
func TestFailingModelKeepsPreviousTable(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	mustRun(t, db, Options{FullRefresh: true, RunID: 1})
	count := func(table string) int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := map[string]int{}
	for _, tb := range []string{"staging.am_register", "int.am_month", "mart.indicator"} {
		before[tb] = count(tb)
	}
	// 9 places: above the legal maximum, breaks "range: places 0..6" (error).
	mustExec(t, db, `INSERT INTO raw.am_register VALUES (DATE '2025-03-01', 'amX', '35001', false, DATE '2020-01-01', NULL, 'active', 9, NULL, 1980, 18, 2)`)
	// A population row for an unknown commune breaks a warn test only.
	mustExec(t, db, `INSERT INTO raw.population VALUES ('99999', 2025, 3, 1, 19, 2)`)
	res, err := Run(context.Background(), db, Options{FullRefresh: true, RunID: 2})
	if err == nil {
		t.Fatal("Run succeeded, want a failed model")
	}
	status := map[string]string{}
	for _, m := range res.Models {
		status[m.Name] = m.Status
	}
	if status["staging.am_register"] != "failed" {
		t.Errorf("staging.am_register: %s, want failed", status["staging.am_register"])
	}
	for _, name := range []string{"int.am_month", "int.am_spell", "int.commune_month", "int.indicator_value", "mart.indicator"} {
		if status[name] != "skipped" {
			t.Errorf("%s: %s, want skipped", name, status[name])
		}
	}
	for _, name := range []string{"staging.population", "staging.family_request", "mart.indicator_catalog"} {
		if status[name] != "ok" {
			t.Errorf("%s: %s, want ok (does not read the failed model)", name, status[name])
		}
	}
	for tb, n := range before {
		if got := count(tb); got != n {
			t.Errorf("%s has %d rows after the failed run, want the previous %d", tb, got, n)
		}
	}
	if n := count("staging.am_register WHERE am_id = 'amX'"); n != 0 {
		t.Errorf("the failed build leaked %d rows", n)
	}
	var rowJSON string
	if err := db.QueryRow(`SELECT row_json FROM meta.test_failure WHERE run_id = 2 AND model = 'staging.am_register' AND test = 'range(places)' AND severity = 'error'`).Scan(&rowJSON); err != nil {
		t.Fatalf("failing row not recorded: %v", err)
	}
	if !strings.Contains(rowJSON, `"amX"`) {
		t.Errorf("row_json = %s, want the amX row", rowJSON)
	}
	var warned int
	db.QueryRow(`SELECT count(*) FROM meta.test_failure WHERE run_id = 2 AND model = 'staging.population' AND severity = 'warn' AND row_json LIKE '%99999%'`).Scan(&warned)
	if warned != 1 {
		t.Errorf("warn failure of staging.population recorded %d times, want 1", warned)
	}
	if res.TestsFailed < 2 || res.TestsWarned < 1 {
		t.Errorf("TestsFailed = %d, TestsWarned = %d", res.TestsFailed, res.TestsWarned)
	}
	var st, errMsg string
	db.QueryRow(`SELECT status, error FROM meta.model_state WHERE model = 'int.am_month'`).Scan(&st, &errMsg)
	if st != "skipped" || !strings.Contains(errMsg, "staging.am_register") {
		t.Errorf("model_state of int.am_month: %s %q", st, errMsg)
	}

	// Once the row is fixed, the next run (incremental, detected from the
	// ledger) rebuilds what was skipped.
	mustExec(t, db, `DELETE FROM raw.am_register WHERE am_id = 'amX'`)
	mustExec(t, db, `DELETE FROM raw.population WHERE commune = '99999'`)
	res = mustRun(t, db, Options{RunID: 3})
	for _, m := range res.Models {
		if m.Status != "ok" && m.Status != "fresh" {
			t.Errorf("%s: %s after the fix", m.Name, m.Status)
		}
	}

	// An incremental build tests its window before it joins the table: a
	// failing window leaves the table as it was, and no scratch table.
	for tb := range before {
		before[tb] = count(tb)
	}
	mustExec(t, db, `INSERT INTO raw.am_register VALUES (DATE '2025-03-01', 'amY', '35001', false, DATE '2020-01-01', NULL, 'active', 9, NULL, 1980, 18, 2)`)
	res, err = Run(context.Background(), db, Options{RunID: 4})
	if err == nil {
		t.Fatal("incremental run succeeded, want a failed model")
	}
	for _, m := range res.Models {
		if m.Name == "staging.am_register" && (m.Status != "failed" || m.Mode != "incremental") {
			t.Errorf("staging.am_register: %s %s, want failed incremental", m.Status, m.Mode)
		}
	}
	for tb, n := range before {
		if got := count(tb); got != n {
			t.Errorf("%s has %d rows after the failed incremental run, want the previous %d", tb, got, n)
		}
	}
	if n := count("duckdb_tables() WHERE table_name LIKE '%__window'"); n != 0 {
		t.Errorf("%d window tables left behind", n)
	}
	if err := db.QueryRow(`SELECT row_json FROM meta.test_failure WHERE run_id = 4 AND model = 'staging.am_register' AND test = 'range(places)'`).Scan(&rowJSON); err != nil || !strings.Contains(rowJSON, `"amY"`) {
		t.Errorf("failing row of the incremental run: %q, %v", rowJSON, err)
	}
}

// TestPublishedIndicatorMasking checks mart.published_indicator(k) on the
// fixture, then on hand-written rows of mart.indicator.
func TestPublishedIndicatorMasking(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	mustRun(t, db, Options{FullRefresh: true})
	masked := func(k int, where string) map[string]string {
		t.Helper()
		rows, err := db.Query(fmt.Sprintf(`SELECT level || '/' || code || '/' || period || '/' || indicator, masked,
			value IS NOT NULL OR n IS NOT NULL OR rank IS NOT NULL OR quartile IS NOT NULL, prev_value IS NOT NULL, parent_value IS NOT NULL
			FROM mart.published_indicator(%d) WHERE %s`, k, where))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var key string
			var m, figures, prev, parent bool
			if err := rows.Scan(&key, &m, &figures, &prev, &parent); err != nil {
				t.Fatal(err)
			}
			s := "visible"
			if m {
				s = "masked"
				if figures || prev || parent {
					s += " but leaks a figure"
				}
			}
			if !m && !prev {
				s += ", prev hidden"
			}
			if !m && !parent {
				s += ", parent hidden"
			}
			got[key] = s
		}
		return got
	}
	// k = 3, April: Beta has 2 AMs (masked), so Alpha (3) is masked too,
	// else EPCI 5 - Alpha 3 would give it; likewise département 22 (2) and
	// département 35 (5) under région 53 (7). March had 2 AMs in Alpha:
	// April's prev_value (2) is hidden even where April is shown.
	got := masked(3, `period = '2025-04' AND indicator = 'am_approved'`)
	want := map[string]string{
		"commune/35001/2025-04/am_approved":  "masked",
		"commune/35002/2025-04/am_approved":  "masked",
		"commune/22001/2025-04/am_approved":  "masked",
		"epci/200000001/2025-04/am_approved": "visible, parent hidden", // its département is masked
		"epci/200000002/2025-04/am_approved": "masked",
		"rpe/R1/2025-04/am_approved":         "visible, parent hidden",
		"rpe/R2/2025-04/am_approved":         "masked",
		"departement/35/2025-04/am_approved": "masked",
		"departement/22/2025-04/am_approved": "masked",
		"region/53/2025-04/am_approved":      "visible",
		"france/FR/2025-04/am_approved":      "visible, parent hidden", // France has no parent
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("am_approved, k = 3 (-want +got):\n%s", diff)
	}
	got = masked(3, `level = 'commune' AND code = '35001' AND period = '2025-04' AND indicator IN ('am_mean_age', 'official_coverage_rate')`)
	want = map[string]string{
		"commune/35001/2025-04/am_mean_age":            "visible, prev hidden",   // n = 3; March rests on 2 AMs
		"commune/35001/2025-04/official_coverage_rate": "visible, parent hidden", // n NULL: never masked; the EPCI has no official rate
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("k = 3 (-want +got):\n%s", diff)
	}

	// A breakdown with a single masked part (a hand-written row of
	// int.indicator_value): e-mail (2 < 5)
	// would be contacts - the other channels, so the smallest other channel
	// (appointment 5; tie with in person broken by name) is masked too.
	mustExec(t, db, `DELETE FROM int.indicator_value`)
	mustExec(t, db, `INSERT INTO int.indicator_value (level, code, period_kind, period, period_start, ind) VALUES
		('departement', '35', 'month', '2025-04', DATE '2025-04-01', [
			{indicator: 'contacts', value: 20, n: 20},
			{indicator: 'contacts_channel_phone', value: 8, n: 8},
			{indicator: 'contacts_channel_email', value: 2, n: 2},
			{indicator: 'contacts_channel_in_person', value: 5, n: 5},
			{indicator: 'contacts_channel_appointment', value: 5, n: 5}])`)
	if _, err := run(context.Background(), db, Options{FullRefresh: true}, func(m Model) bool {
		return m.Name == "int.mask_interval" || m.Name == "mart.indicator" || m.Name == "mart.published_indicator"
	}); err != nil {
		t.Fatal(err)
	}
	got = masked(5, "true")
	want = map[string]string{
		"departement/35/2025-04/contacts":                     "visible, prev hidden, parent hidden",
		"departement/35/2025-04/contacts_channel_phone":       "visible, prev hidden, parent hidden",
		"departement/35/2025-04/contacts_channel_email":       "masked",
		"departement/35/2025-04/contacts_channel_in_person":   "visible, prev hidden, parent hidden",
		"departement/35/2025-04/contacts_channel_appointment": "masked",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breakdown, k = 5 (-want +got):\n%s", diff)
	}
	// at k = 2 nothing is masked; at k = 6 three parts are: no complement needed
	for k, n := range map[int]int{2: 0, 6: 3} {
		var c int
		db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM mart.published_indicator(%d) WHERE masked`, k)).Scan(&c)
		if c != n {
			t.Errorf("k = %d: %d masked, want %d", k, c, n)
		}
	}
}

// TestUnder3Ratio: the ratio is a parameter; changing it rebuilds.
func TestUnder3Ratio(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	mustRun(t, db, Options{FullRefresh: true})
	res := mustRun(t, db, Options{AMUnder3Ratio: 0.5})
	for _, m := range res.Models {
		if m.Name == "int.am_month" && m.Mode != "full" {
			t.Errorf("int.am_month ran %s after the ratio changed, want full", m.Mode)
		}
	}
	var v float64
	db.QueryRow(`SELECT value FROM mart.indicator WHERE level = 'commune' AND code = '35001' AND period = '2025-04' AND indicator = 'am_places_under3'`).Scan(&v)
	if math.Abs(v-4.5) > 1e-9 { // am1 3 + am2 3 x 0.5
		t.Errorf("am_places_under3 with ratio 0.5 = %v, want 4.5", v)
	}
	if _, err := Run(context.Background(), db, Options{AMUnder3Ratio: 1.5}); err == nil {
		t.Error("ratio 1.5 accepted")
	}
}

// TestBackfillRange: --from/--to recompute only that range.
func TestBackfillRange(t *testing.T) {
	t.Parallel()
	db := loadHand(t)
	mustRun(t, db, Options{FullRefresh: true})
	res := mustRun(t, db, Options{From: "2025-02", To: "2025-03"})
	if res.Since.Format("2006-01") != "2025-02" || res.Until.Format("2006-01") != "2025-03" {
		t.Errorf("window %v..%v", res.Since, res.Until)
	}
	for _, m := range res.Models {
		// February: am1..am5 (January snapshot carried) + am6, am7; March: am1, am2, am4, am5 + am6, am7
		if m.Name == "int.am_month" && (m.Mode != "incremental" || m.Rows != 13) {
			t.Errorf("int.am_month: %s, %d rows recomputed, want incremental 13", m.Mode, m.Rows)
		}
	}
	if _, err := Run(context.Background(), db, Options{From: "2025-05", To: "2025-01"}); err == nil {
		t.Error("--to before --from accepted")
	}
}

// TestIncrementalEqualsFullSynthetic repeats the incremental = full refresh
// check on a small synthetic warehouse (the benchmark generator): expired
// and suspended approvals, under-3 places above places, many communes.
// The last two months arrive after a first build.
func TestIncrementalEqualsFullSynthetic(t *testing.T) {
	t.Parallel()
	gen := fmt.Sprintf(benchGenSQL, 30, 250, 4000, 600)
	hold := `CREATE TABLE hold_av AS SELECT * FROM raw.availability WHERE month >= DATE '2025-11-01';
		CREATE TABLE hold_reg AS SELECT * FROM raw.am_register WHERE snapshot_month >= DATE '2025-11-01';
		CREATE TABLE hold_req AS SELECT * FROM raw.family_request WHERE month >= DATE '2025-11-01';
		CREATE TABLE hold_act AS SELECT * FROM raw.rpe_activity WHERE month >= DATE '2025-11-01';
		DELETE FROM raw.availability WHERE month >= DATE '2025-11-01';
		DELETE FROM raw.am_register WHERE snapshot_month >= DATE '2025-11-01';
		DELETE FROM raw.family_request WHERE month >= DATE '2025-11-01';
		DELETE FROM raw.rpe_activity WHERE month >= DATE '2025-11-01';`
	back := `INSERT INTO raw.availability SELECT * FROM hold_av;
		INSERT INTO raw.am_register SELECT * FROM hold_reg;
		INSERT INTO raw.family_request SELECT * FROM hold_req;
		INSERT INTO raw.rpe_activity SELECT * FROM hold_act;`
	inc := openDB(t)
	mustExec(t, inc, gen)
	mustExec(t, inc, hold)
	mustRun(t, inc, Options{FullRefresh: true})
	mustExec(t, inc, back)
	res := mustRun(t, inc, Options{Months: []time.Time{time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}})
	if res.FullRefresh || res.Since.Format("2006-01") != "2025-11" {
		t.Fatalf("full=%v since=%v", res.FullRefresh, res.Since)
	}
	full := openDB(t)
	mustExec(t, full, gen)
	mustRun(t, full, Options{FullRefresh: true})
	a, b := dumpTables(t, inc), dumpTables(t, full)
	for name := range b {
		if len(a[name]) != len(b[name]) {
			t.Errorf("%s: %d rows incremental, %d full", name, len(a[name]), len(b[name]))
			continue
		}
		if diff := cmp.Diff(b[name], a[name]); diff != "" {
			if len(diff) > 3000 {
				diff = diff[:3000]
			}
			t.Errorf("%s: incremental differs from full refresh (-full +incremental):\n%s", name, diff)
		}
	}
}
