package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// TestLineNumbersLargeFile: a plain CSV file is validated in one pass
// straight from read_csv, and a record's line number comes from the order of
// the validation's output (batch.go). On a file spanning many DuckDB chunks,
// read by several threads, with rejected records scattered through it
// (unknown commune codes among them: they were the unmatched rows of a hash
// join, which a join emits out of order), every quarantined line and every
// loaded line must be the generator's.
func TestLineNumbersLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: ":memory:", Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	var oldCode, newCode string
	if err := db.QueryRowContext(ctx, `SELECT m.old_code, m.code FROM ref.commune_merge m
		WHERE m.old_code NOT IN (SELECT code FROM ref.territory WHERE level = 'commune')
		  AND m.code IN (SELECT code FROM ref.territory WHERE level = 'commune') ORDER BY m.old_code LIMIT 1`).Scan(&oldCode, &newCode); err != nil {
		t.Fatal(err)
	}

	const n = 320_000
	type bad struct{ col, val, reason string }
	want := map[int64][]bad{}     // line -> faults
	commune := map[int64]string{} // line -> expected code, loaded lines
	path := filepath.Join(t.TempDir(), "registre_am_35_2025-03.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(benchHeader, ";") + "\n")
	for i := 0; i < n; i++ {
		rec := benchRecord(i)
		line := int64(i + 2)
		var faults []bad
		code := rec[6]
		if i%1000 == 999 { // the generator's own fault
			faults = append(faults, bad{"places_agreees", rec[11], "out of range (1 to 4)"}, bad{"places_moins_3_ans", rec[12], "out of range (0 to 4)"})
		}
		if h := (i * 7919) % 211; h == 5 || h == 77 {
			switch (i / 211) % 6 {
			case 0, 1:
				rec[6] = fmt.Sprintf("00%03d", i%1000) // no département 00
				faults = append(faults, bad{"commune_exercice", rec[6], "unknown commune code (not in the COG 2026 nor in its merges)"})
			case 2:
				rec[6] = "XX"
				faults = append(faults, bad{"commune_exercice", "XX", "placeholder, not a commune code"})
			case 3:
				rec[8] = "31/02/2020"
				faults = append(faults, bad{"date_agrement", rec[8], "not a date (dd/mm/yyyy or yyyy-mm-dd)"})
			case 4:
				rec[10] = "inconnu"
				faults = append(faults, bad{"statut", "inconnu", "unknown value"})
			case 5: // a merged commune: loads with its current code
				rec[6] = oldCode
				code = newCode
			}
		}
		if len(faults) > 0 {
			want[line] = faults
		} else {
			commune[line] = code
		}
		w.WriteString(strings.Join(rec, ";") + "\n")
	}
	w.Flush()
	f.Close()

	var batches []int
	testHookBatch = func(n int) { batches = append(batches, n) }
	defer func() { testHookBatch = nil }()
	res, err := Files(ctx, db, []string{path}, Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 {
		t.Errorf("batches %v: the file did not load by the one-pass path", batches)
	}
	fr := res.Files[0]
	if fr.Read != n || fr.Rejected != int64(len(want)) || fr.Accepted != int64(len(commune)) {
		t.Errorf("read %d, accepted %d, rejected %d; want %d, %d, %d", fr.Read, fr.Accepted, fr.Rejected, n, len(commune), len(want))
	}

	// every quarantined cell
	rows, err := db.QueryContext(ctx, "SELECT line, column_name, value, reason FROM meta.quarantine WHERE file_id = ? ORDER BY line, column_name", fr.FileID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]bad{}
	dbg := 0
	for rows.Next() {
		var line int64
		var b bad
		if err := rows.Scan(&line, &b.col, &b.val, &b.reason); err != nil {
			t.Fatal(err)
		}
		got[line] = append(got[line], b)
		if dbg < 15 && os.Getenv("DBG") != "" {
			t.Logf("q %d %v", line, b)
			dbg++
		}
	}
	rows.Close()
	var lines []int64
	for l := range want {
		lines = append(lines, l)
	}
	sort.Slice(lines, func(a, b int) bool { return lines[a] < lines[b] })
	errs := 0
	for _, l := range lines {
		w, g := want[l], got[l]
		sort.Slice(w, func(a, b int) bool { return w[a].col < w[b].col })
		ok := len(w) == len(g)
		for k := 0; ok && k < len(w); k++ {
			ok = w[k].col == g[k].col && w[k].val == g[k].val && strings.HasPrefix(g[k].reason, w[k].reason)
		}
		if !ok && errs < 10 {
			t.Errorf("line %d: quarantine %v, want %v", l, g, w)
			errs++
		}
		delete(got, l)
	}
	for l, g := range got {
		if errs < 20 {
			t.Errorf("line %d quarantined (%v), but it is valid", l, g)
			errs++
		}
	}

	// every loaded line: its pseudonym and commune are those of the record
	// the generator wrote on it
	rows, err = db.QueryContext(ctx, "SELECT line, am_id, commune FROM raw.am_register WHERE file_id = ?", fr.FileID)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var line int64
		var am, com string
		if err := rows.Scan(&line, &am, &com); err != nil {
			t.Fatal(err)
		}
		seen++
		i := int(line - 2)
		wantCode, ok := commune[line]
		if !ok {
			if errs < 30 {
				t.Errorf("line %d loaded, want it rejected", line)
				errs++
			}
			continue
		}
		id := benchRecord(i)[0]
		if am != Pseudonym(testSecret, id) || com != wantCode {
			if errs < 30 {
				t.Errorf("line %d: am_id %s commune %s, want %s (%s) and %s", line, am, com, Pseudonym(testSecret, id), id, wantCode)
				errs++
			}
		}
	}
	rows.Close()
	if seen != len(commune) {
		t.Errorf("%d rows loaded, want %d", seen, len(commune))
	}
	t.Logf("%d records, %d rejected (%s)", n, len(want), strconv.Itoa(len(want)*100/n)+" %")
}

// TestInOrderPlan: the plan check refuses any operator but projections
// over read_csv (a join once reordered the records of a chunk).
func TestInOrderPlan(t *testing.T) {
	ok := `[{"name": "BATCH_CREATE_TABLE_AS", "children": [{"name": "PROJECTION", "children": [{"name": "READ_CSV", "children": []}]}]}]`
	if err := checkInOrderPlan(ok); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		`[{"name": "CREATE_TABLE_AS", "children": [{"name": "PROJECTION", "children": [{"name": "HASH_JOIN", "children": [{"name": "READ_CSV", "children": []}, {"name": "COLUMN_DATA_SCAN", "children": []}]}]}]}]`,
		`[{"name": "CREATE_TABLE_AS", "children": [{"name": "PROJECTION", "children": [{"name": "READ_CSV", "children": []}]}]}]`,
		`[{"name": "BATCH_CREATE_TABLE_AS", "children": [{"name": "FILTER", "children": [{"name": "READ_CSV", "children": []}]}]}]`,
		`[{"name": "CREATE_TABLE_AS", "children": [{"name": "PROJECTION", "children": [{"name": "TABLE_SCAN", "children": []}]}]}]`,
	} {
		if err := checkInOrderPlan(bad); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestScanHalves: the scan checks a large region in two halves on two
// goroutines; the line numbers of what it finds in either are the file's.
func TestScanHalves(t *testing.T) {
	const n = 200_000
	path := filepath.Join(t.TempDir(), "f.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("a;b;c\n")
	for i := 2; i <= n+1; i++ {
		switch i {
		case 75_000, 175_000, 199_999:
			w.WriteString(";;\n")
		case 180_000:
			w.WriteString("x; padded ;z\n")
		default:
			fmt.Fprintf(w, "%035d;b;c\n", i)
		}
	}
	w.Flush()
	f.Close()
	sc, err := scanCSV(path, &csvSniff{delim: ';'}, 1, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sc.plain || !sc.padded || sc.lines != n+1 || fmt.Sprint(sc.emptyLines) != "[75000 175000 199999]" || sc.records != n-3 {
		t.Errorf("plain %t padded %t lines %d empty %v records %d", sc.plain, sc.padded, sc.lines, sc.emptyLines, sc.records)
	}
}

// TestPseudoState: the UDF's HMAC (saved key-block states) is Pseudonym,
// short and long secrets alike.
func TestPseudoState(t *testing.T) {
	for _, secret := range []string{"", "s", testSecret, strings.Repeat("k", 64), strings.Repeat("long key ", 20)} {
		st := newPseudoUDF(secret).pool.Get().(*pseudoState)
		for _, id := range []string{"035-2001-000123", " 35 a 12 ", "é-ü 1", ""} {
			if got, want := st.pseudo(id), Pseudonym(secret, id); got != want {
				t.Errorf("secret %q id %q: %s, want %s", secret, id, got, want)
			}
		}
	}
}
