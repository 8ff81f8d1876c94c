package analyst

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// windowSetup defines what the test windows use, as transform's session
// does for the models' incremental predicates.
func windowSetup(since string) string {
	return fmt.Sprintf(`SET VARIABLE since = DATE '%s';
CREATE OR REPLACE TEMP MACRO in_win(kind, start) AS start >= getvariable('since')`, since)
}

const testWindow = "in_win(period_kind, period_start)"

// rewriteWindow does what an incremental build does to mart.indicator: the
// rows of the window from since are deleted and recomputed (here: their
// values moved by delta, and one more row).
func rewriteWindow(t *testing.T, db *sql.DB, since string, delta int) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		windowSetup(since),
		`CREATE OR REPLACE TEMP TABLE win AS SELECT * FROM mart.indicator WHERE ` + testWindow,
		`DELETE FROM mart.indicator WHERE ` + testWindow,
		fmt.Sprintf(`INSERT INTO mart.indicator SELECT * REPLACE (value + %d AS value) FROM win`, delta),
		fmt.Sprintf(`INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n)
			VALUES ('france', 'FR', 'month', 'extra-%d', DATE '2026-06-01', 'am_active', %d, 100)`, delta, delta),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// snapshotDiff compares two snapshot files: the same tables with the same
// rows (EXCEPT ALL both ways, and row counts), the same views, macros and
// comments. meta.analyst_snapshot (when and how each was published) is left
// out.
func snapshotDiff(t *testing.T, a, b string) []string {
	t.Helper()
	db := plainDB(t)
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		fmt.Sprintf(`ATTACH %s AS sa (READ_ONLY)`, quoteLiteral(a)),
		fmt.Sprintf(`ATTACH %s AS sb (READ_ONLY)`, quoteLiteral(b)),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	defer db.Exec(`DETACH sa; DETACH sb`)
	var diffs []string
	catalog := func(name string) []string {
		var out []string
		for _, r := range queryStrings(t, db, `
			SELECT 'table ' || schema_name || '.' || table_name || ' ' || sql || ' ' || coalesce(comment, '') FROM duckdb_tables() WHERE database_name = $1
			UNION ALL SELECT 'column ' || schema_name || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(comment, '') FROM duckdb_columns() WHERE database_name = $1
			UNION ALL SELECT 'view ' || schema_name || '.' || view_name || ' ' || sql || ' ' || coalesce(comment, '') FROM duckdb_views() WHERE database_name = $1
			UNION ALL SELECT 'macro ' || schema_name || '.' || function_name || ' ' || coalesce(macro_definition, '') || ' ' || coalesce(comment, '') FROM duckdb_functions() WHERE database_name = $1
			ORDER BY 1`, name) {
			out = append(out, r[0])
		}
		return out
	}
	if ca, cb := catalog("sa"), catalog("sb"); strings.Join(ca, "\n") != strings.Join(cb, "\n") {
		diffs = append(diffs, fmt.Sprintf("catalogs differ:\n%s\n----\n%s", strings.Join(ca, "\n"), strings.Join(cb, "\n")))
	}
	tables := queryStrings(t, db, `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'sa' ORDER BY ALL`)
	if len(tables) < 5 {
		t.Fatalf("only %d tables in %s", len(tables), a)
	}
	for _, tb := range tables {
		if tb[0] == "meta" && tb[1] == "analyst_snapshot" {
			continue
		}
		ta := fmt.Sprintf("sa.%s.%s", quoteIdent(tb[0]), quoteIdent(tb[1]))
		tbb := fmt.Sprintf("sb.%s.%s", quoteIdent(tb[0]), quoteIdent(tb[1]))
		got := queryStrings(t, db, fmt.Sprintf(`SELECT (SELECT count(*) FROM (FROM %[1]s EXCEPT ALL FROM %[2]s)), (SELECT count(*) FROM (FROM %[2]s EXCEPT ALL FROM %[1]s)),
			(SELECT count(*) FROM %[1]s), (SELECT count(*) FROM %[2]s)`, ta, tbb))[0]
		if got[0] != "0" || got[1] != "0" || got[2] != got[3] {
			diffs = append(diffs, fmt.Sprintf("%s.%s: %s rows only in the first, %s only in the second, %s vs %s rows", tb[0], tb[1], got[0], got[1], got[2], got[3]))
		}
	}
	return diffs
}

// checkSameAsFull publishes the warehouse in full beside snap and compares.
func checkSameAsFull(t *testing.T, db *sql.DB, snap string, o PublishOptions) {
	t.Helper()
	o.Path = filepath.Join(filepath.Dir(snap), "full.duckdb")
	o.Full = true
	if _, err := Publish(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
	for _, d := range snapshotDiff(t, snap, o.Path) {
		t.Error("incremental vs full: " + d)
	}
	for _, w := range []string{"p:8f3a", "Jeanne Martin"} { // raw.am_register, meta.quarantine
		b, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(w)) {
			t.Errorf("the excluded value %q is in the snapshot file", w)
		}
	}
}

func fileHash(t *testing.T, name string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestPublishIncremental follows a snapshot through a sequence of pipeline
// runs and checks, after each, which mode ran, what became of each table,
// and that the snapshot holds exactly what a full publication of the same
// warehouse holds: as published (small tables with a primary key rewritten
// whole are first compared with the previous snapshot's), and with every
// table too big to be compared.
func TestPublishIncremental(t *testing.T) {
	for _, compare := range []bool{true, false} {
		t.Run(fmt.Sprintf("compare=%v", compare), func(t *testing.T) {
			if !compare {
				saved, savedShare := compareLimit, maxWholeShare
				compareLimit, maxWholeShare = -1, 2
				t.Cleanup(func() { compareLimit, maxWholeShare = saved, savedShare })
			}
			testPublishIncremental(t, compare)
		})
	}
}

func testPublishIncremental(t *testing.T, compare bool) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	ctx := context.Background()
	snap := filepath.Join(dir, "snapshot.duckdb")
	excl, _ := ParsePatterns(DefaultExclude)
	desc := map[string]string{"mart.indicator.code": "code du territoire"}
	// Two "model" tables have versions; ref, meta and raw tables have none.
	type version struct {
		indicator, indicatorBase, window, setup string
		catalog, catalogBase                    string
	}
	opts := func(v version) PublishOptions {
		return PublishOptions{Path: snap, Exclude: excl, Job: "transform", Descriptions: desc, Changes: []TableChange{
			{Table: "mart.indicator", Version: v.indicator, Base: v.indicatorBase, Window: v.window, Setup: v.setup},
			{Table: "mart.indicator_catalog", Version: v.catalog, Base: v.catalogBase},
		}}
	}
	publish := func(name string, o PublishOptions, mode string) PublishResult {
		t.Helper()
		res, err := Publish(ctx, db, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Mode != mode {
			t.Errorf("%s: mode %s (%s), want %s", name, res.Mode, res.Reason, mode)
		}
		if res.Fallback != nil {
			t.Errorf("%s: the incremental publication failed: %v", name, res.Fallback)
		}
		if got := queryStrings(t, db, `SELECT current_setting('max_vacuum_tasks')`); got[0][0] != "100" {
			t.Errorf("%s: max_vacuum_tasks left at %v", name, got)
		}
		for _, leftover := range []string{snap + ".tmp", snap + ".tmp.wal", snap + ".wal"} {
			if _, err := os.Stat(leftover); err == nil {
				t.Errorf("%s: %s left behind", name, leftover)
			}
		}
		checkSameAsFull(t, db, snap, o)
		return res
	}
	// expect checks what became of the 5 tables (mart.indicator,
	// mart.indicator_catalog, meta.run, ref.territory,
	// ref.commune_territory), without and with the comparison (of the
	// tables with a primary key: mart.indicator_catalog and meta.run).
	type tally struct{ copied, windowed, kept int }
	expect := func(name string, res PublishResult, without, with tally) {
		t.Helper()
		want := without
		if compare {
			want = with
		}
		if got := (tally{res.Copied, res.Windowed, res.Kept}); got != want || res.Copied+res.Windowed+res.Kept != res.Tables {
			t.Errorf("%s: copied, windowed, kept = %v, want %v: %+v", name, got, want, res)
		}
	}
	count := func(s *Session, q string) string {
		t.Helper()
		return queryStrings(t, s.Conn(), q)[0][0]
	}

	// 1. The first publication is full.
	v := version{indicator: "i1", catalog: "c1"}
	res := publish("first", opts(v), ModeFull)
	if res.Reason != "no previous snapshot" || res.Copied != res.Tables || res.Emptied != 2 {
		t.Errorf("first: %+v", res)
	}
	old := openSession(t, snap, 10*time.Second)
	const extra = "SELECT count(*) FROM mart.indicator WHERE period LIKE 'extra-%'"

	// 2. An incremental build of mart.indicator; the run adds a meta.run row.
	rewriteWindow(t, db, "2025-07-01", 1)
	if _, err := db.Exec(`INSERT INTO meta.run (job, started_at, status) VALUES ('transform', now(), 'ok')`); err != nil {
		t.Fatal(err)
	}
	v = version{indicator: "i2", indicatorBase: "i1", window: testWindow, setup: windowSetup("2025-07-01"), catalog: "c1"}
	res = publish("window", opts(v), ModeIncremental)
	expect("window", res, tally{3, 1, 1}, tally{3, 1, 1}) // meta.run has a new row
	if res.Emptied != 2 || len(res.Repaired) != 0 {
		t.Errorf("window: %+v", res)
	}
	// A session open on the previous snapshot keeps reading it; a new one
	// reads the new one.
	if got := count(old, extra); got != "0" {
		t.Errorf("the open session sees the new rows: %s", got)
	}
	fresh := openSession(t, snap, 10*time.Second)
	if got := count(fresh, extra); got != "1" {
		t.Errorf("the new session does not see the new rows: %s", got)
	}
	if fresh.Info.Job != "transform" || strings.Join(fresh.Info.Excluded, ",") != "meta.quarantine,raw.am_register" {
		t.Errorf("info: %+v", fresh.Info)
	}
	if got := count(fresh, "SELECT mode FROM meta.analyst_snapshot"); got != ModeIncremental {
		t.Errorf("meta.analyst_snapshot.mode = %s", got)
	}
	if got := queryStrings(t, fresh.Conn(), "SELECT table_name, version FROM meta.analyst_snapshot_table ORDER BY 1"); fmt.Sprint(got) != "[[mart.indicator i2] [mart.indicator_catalog c1]]" {
		t.Errorf("versions: %v", got)
	}

	// 3. A run with nothing new: every versioned table is left as it was.
	res = publish("nothing new", opts(v), ModeIncremental)
	expect("nothing new", res, tally{3, 0, 2}, tally{2, 0, 3}) // meta.run compared: the same

	// 4. The catalog table rebuilt whole, mart.indicator fresh.
	if _, err := db.Exec(`UPDATE mart.indicator_catalog SET label = label || ' (révisé)' WHERE indicator = 'am_active'`); err != nil {
		t.Fatal(err)
	}
	v = version{indicator: "i2", indicatorBase: "i1", catalog: "c2", catalogBase: "c1"} // i2's window is not given again: kept anyway
	res = publish("rebuilt whole", opts(v), ModeIncremental)
	expect("rebuilt whole", res, tally{4, 0, 1}, tally{3, 0, 2})

	// 5. A run that was not published (its report failed, say) rebuilt a
	// window from 2024; the next one rebuilds a window from 2025-07. The
	// snapshot has i2, the last build applies on i3: mart.indicator is
	// copied whole (its last window alone would miss the 2024 changes).
	rewriteWindow(t, db, "2024-01-01", 10)
	rewriteWindow(t, db, "2025-07-01", 100)
	v = version{indicator: "i4", indicatorBase: "i3", window: testWindow, setup: windowSetup("2025-07-01"), catalog: "c2", catalogBase: "c1"}
	res = publish("unpublished run in between", opts(v), ModeIncremental)
	expect("unpublished run in between", res, tally{4, 0, 1}, tally{3, 0, 2})

	// 6. A table changed behind its version's back: its row count gives it
	// away, and it is copied whole.
	if _, err := db.Exec(`DELETE FROM mart.indicator_catalog WHERE indicator = 'am_active'`); err != nil {
		t.Fatal(err)
	}
	res = publish("changed outside its version", opts(v), ModeIncremental)
	if strings.Join(res.Repaired, ",") != "mart.indicator_catalog" {
		t.Errorf("changed outside its version: %+v", res)
	}

	// 7. The exclusions change: full, and back to incremental after.
	o := opts(v)
	o.Exclude = append(append([]string{}, excl...), "ref.commune*")
	res = publish("exclusions changed", o, ModeFull)
	if !strings.Contains(res.Reason, "excluded tables changed") || res.Emptied != 3 {
		t.Errorf("exclusions changed: %+v", res)
	}
	res = publish("same exclusions", o, ModeIncremental)
	expect("same exclusions", res, tally{2, 0, 2}, tally{1, 0, 3})
	if res.Emptied != 3 {
		t.Errorf("same exclusions: %+v", res)
	}
	res = publish("exclusions back", opts(v), ModeFull)
	if !strings.Contains(res.Reason, "excluded tables changed") {
		t.Errorf("exclusions back: %+v", res)
	}

	// 8. The catalog changes (a column, a comment, a view, a description):
	// full each time.
	for i, q := range []string{
		`ALTER TABLE mart.indicator_catalog ADD COLUMN note VARCHAR`,
		`COMMENT ON TABLE ref.territory IS 'Territoires'`,
		`CREATE OR REPLACE VIEW mart.indicator_year AS SELECT level, code, period, indicator, value FROM mart.indicator WHERE period_kind = 'year'`,
		``,
	} {
		o := opts(v)
		if q != "" {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		} else {
			o.Descriptions = map[string]string{"mart.indicator.code": "code INSEE ou SIREN du territoire"}
			desc = o.Descriptions
		}
		res = publish(fmt.Sprintf("catalog change %d", i), o, ModeFull)
		if !strings.Contains(res.Reason, "catalog") {
			t.Errorf("catalog change %d: %+v", i, res)
		}
		publish(fmt.Sprintf("after catalog change %d", i), opts(v), ModeIncremental)
	}

	// 9. Full when asked, or without versions; a snapshot without versions
	// has every table copied whole by the next publication.
	o = opts(v)
	o.Full = true
	if res = publish("full asked", o, ModeFull); res.Reason != "full publication asked" {
		t.Errorf("full asked: %+v", res)
	}
	o.Full, o.Changes = false, nil
	if res = publish("no versions", o, ModeFull); res.Reason != "no table versions given" {
		t.Errorf("no versions: %+v", res)
	}
	res = publish("after no versions", opts(v), ModeIncremental)
	expect("after a snapshot without versions", res, tally{5, 0, 0}, tally{3, 0, 2}) // the tables with a primary key compared

	// 10. A snapshot of the previous format (no fingerprint): full.
	if _, err := db.Exec(fmt.Sprintf(`ATTACH %s AS old_snap; ALTER TABLE old_snap.meta.analyst_snapshot DROP COLUMN catalog; DETACH old_snap`, quoteLiteral(snap))); err != nil {
		t.Fatal(err)
	}
	if res = publish("previous format", opts(v), ModeFull); !strings.Contains(res.Reason, "older format") {
		t.Errorf("previous format: %+v", res)
	}

	// 11. Anything unexpected in the incremental path: full, and why.
	rewriteWindow(t, db, "2025-07-01", 1000)
	v = version{indicator: "i5", indicatorBase: "i4", window: "no_such_column > 0", catalog: "c2"}
	res, err := Publish(ctx, db, opts(v))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeFull || res.Fallback == nil || !strings.Contains(res.Reason, "no_such_column") {
		t.Errorf("failed window: %+v", res)
	}
	checkSameAsFull(t, db, snap, opts(v))
}

// A publication cancelled halfway leaves the previous snapshot as it was
// and no temporary file.
func TestPublishCancelled(t *testing.T) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	excl, _ := ParsePatterns(DefaultExclude)
	o := PublishOptions{Path: snap, Exclude: excl, Job: "run", Changes: []TableChange{{Table: "mart.indicator", Version: "i1"}}}
	if _, err := Publish(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, snap)
	vacuumTasks := queryStrings(t, db, `SELECT current_setting('max_vacuum_tasks')`)[0][0]
	rewriteWindow(t, db, "2025-07-01", 1)
	// The window's setup runs once the previous snapshot is copied and
	// attached; this one takes minutes.
	o.Changes = []TableChange{{Table: "mart.indicator", Version: "i2", Base: "i1", Window: testWindow,
		Setup: windowSetup("2025-07-01") + ";\nSELECT count(*) FROM range(1000000000000) a(i) WHERE i % 7 = 3"}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	res, err := Publish(ctx, db, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %+v, %v; want the cancellation", res, err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the cancellation took %s", d)
	}
	for _, leftover := range []string{snap + ".tmp", snap + ".tmp.wal"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s left behind", leftover)
		}
	}
	if fileHash(t, snap) != before {
		t.Error("the previous snapshot changed")
	}
	if got := queryStrings(t, db, `SELECT current_setting('max_vacuum_tasks')`); got[0][0] != vacuumTasks {
		t.Errorf("max_vacuum_tasks left at %v, was %s", got, vacuumTasks)
	}
	s := openSession(t, snap, 10*time.Second)
	if got := queryStrings(t, s.Conn(), "SELECT count(*) FROM mart.indicator WHERE period LIKE 'extra-%'"); got[0][0] != "0" {
		t.Errorf("the previous snapshot has the new rows: %v", got)
	}
	// The next publication goes through, incrementally.
	o.Changes[0].Setup = windowSetup("2025-07-01")
	if res, err = Publish(context.Background(), db, o); err != nil || res.Mode != ModeIncremental || res.Windowed != 1 {
		t.Errorf("after the cancellation: %+v %v", res, err)
	}
}

// A small table with a primary key to be copied whole is first compared
// with the previous snapshot's: kept when it has the same rows, copied when
// anything differs; either way the snapshot is what a full publication
// would be.
func TestPublishComparesIndexedTables(t *testing.T) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	if _, err := db.Exec(`CREATE TABLE ref.keyed (id INTEGER PRIMARY KEY, x DOUBLE, s VARCHAR); INSERT INTO ref.keyed VALUES (1, 1.5, 'a'), (2, NULL, 'b')`); err != nil {
		t.Fatal(err)
	}
	excl, _ := ParsePatterns(DefaultExclude)
	o := PublishOptions{Path: snap, Exclude: excl, Job: "run", Changes: []TableChange{}}
	if _, err := Publish(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change       string
		copied, kept int // of ref.keyed, mart.indicator_catalog, meta.run (with a primary key) and 3 other tables
	}{
		{`SELECT 1`, 3, 3}, // nothing changed: the 3 tables with a key are kept
		{`UPDATE ref.keyed SET s = 'c' WHERE id = 2`, 4, 2},
		{`DELETE FROM ref.keyed WHERE id = 1; INSERT INTO ref.keyed VALUES (1, 1.5, 'a')`, 3, 3}, // the same rows again
		{`INSERT INTO ref.keyed VALUES (3, NULL, NULL)`, 4, 2},
	} {
		if _, err := db.Exec(c.change); err != nil {
			t.Fatal(err)
		}
		res, err := Publish(context.Background(), db, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Mode != ModeIncremental || res.Copied != c.copied || res.Kept != c.kept {
			t.Errorf("%s: %+v", c.change, res)
		}
		checkSameAsFull(t, db, snap, o)
	}
}

// The file grows with the room deleted rows leave: past maxGrowth times its
// size after the last full publication, the next one is full.
func TestPublishGrowthBound(t *testing.T) {
	saved, savedMin := maxGrowth, minGrowth
	maxGrowth, minGrowth = 1.2, 0
	t.Cleanup(func() { maxGrowth, minGrowth = saved, savedMin })
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	excl, _ := ParsePatterns(DefaultExclude)
	change := func(v, base string) PublishOptions {
		return PublishOptions{Path: snap, Exclude: excl, Job: "transform", Changes: []TableChange{
			{Table: "mart.indicator", Version: v, Base: base, Window: testWindow, Setup: windowSetup("2025-07-01")}}}
	}
	publish := func(o PublishOptions, mode string) PublishResult {
		t.Helper()
		res, err := Publish(context.Background(), db, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Mode != mode {
			t.Fatalf("mode %s (%s), want %s", res.Mode, res.Reason, mode)
		}
		return res
	}
	full := publish(change("i1", ""), ModeFull)
	// A window much bigger than the table was.
	if _, err := db.Exec(`INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n)
		SELECT 'commune', 'C' || i, 'month', '2025-12', DATE '2025-12-01', 'am_active', i, i FROM range(300000) r(i)`); err != nil {
		t.Fatal(err)
	}
	inc := publish(change("i2", "i1"), ModeIncremental)
	if inc.Windowed != 1 || float64(inc.Bytes) <= 1.2*float64(full.Bytes) {
		t.Fatalf("the test needs the file to grow: %d -> %d bytes", full.Bytes, inc.Bytes)
	}
	s := openSession(t, snap, 10*time.Second)
	if got := queryStrings(t, s.Conn(), `SELECT full_bytes FROM meta.analyst_snapshot`); got[0][0] != fmt.Sprint(full.Bytes) {
		t.Errorf("full_bytes = %v, want %d", got, full.Bytes)
	}
	res := publish(change("i2", "i1"), ModeFull)
	if !strings.Contains(res.Reason, "grew") {
		t.Errorf("reason: %s", res.Reason)
	}
	checkSameAsFull(t, db, snap, change("i2", "i1"))
	publish(change("i2", "i1"), ModeIncremental)
}

// When most rows are to be copied whole (a full refresh), a new file is
// written instead of rewriting most of a copy.
func TestPublishMostlyWhole(t *testing.T) {
	saved := compareLimit
	compareLimit = 100 // mart.indicator (2,433 rows) counts as big
	t.Cleanup(func() { compareLimit = saved })
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	excl, _ := ParsePatterns(DefaultExclude)
	o := func(c TableChange) PublishOptions {
		return PublishOptions{Path: snap, Exclude: excl, Job: "transform", Changes: []TableChange{c}}
	}
	for i, c := range []struct {
		change TableChange
		mode   string
	}{
		{TableChange{Table: "mart.indicator", Version: "i1"}, ModeFull},                                                                          // first
		{TableChange{Table: "mart.indicator", Version: "i2", Base: "i1", Window: testWindow, Setup: windowSetup("2025-07-01")}, ModeIncremental}, // a window
		{TableChange{Table: "mart.indicator", Version: "i3", Base: "i2"}, ModeFull},                                                              // rebuilt whole
	} {
		rewriteWindow(t, db, "2025-07-01", i)
		res, err := Publish(context.Background(), db, o(c.change))
		if err != nil {
			t.Fatal(err)
		}
		if res.Mode != c.mode || (c.mode == ModeFull && i > 0 && !strings.Contains(res.Reason, "most rows")) {
			t.Errorf("%d: %+v", i, res)
		}
		checkSameAsFull(t, db, snap, o(c.change))
	}
}
