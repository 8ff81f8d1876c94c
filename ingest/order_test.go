package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
// loaded line must be the generator's. The same for a batch of three large
// files, whose records also get their file's id.
func TestLineNumbersLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	t.Run("one file", func(t *testing.T) { testLineNumbers(t, 1, 320_000) })
	t.Run("batch of three", func(t *testing.T) { testLineNumbers(t, 3, 110_000) })
}

func testLineNumbers(t *testing.T, files, n int) {
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

	type bad struct{ col, val, reason string }
	type loaded struct {
		id, commune string
	}
	want := make([]map[int64][]bad, files)  // file -> line -> faults
	good := make([]map[int64]loaded, files) // file -> line -> loaded record
	var paths []string
	dir := t.TempDir()
	for k := 0; k < files; k++ {
		want[k], good[k] = map[int64][]bad{}, map[int64]loaded{}
		path := filepath.Join(dir, fmt.Sprintf("registre_am_35_2025-%02d.csv", k+1))
		paths = append(paths, path)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(strings.Join(benchHeader, ";") + "\n")
		for r := 0; r < n; r++ {
			i := r + k*n // the files differ
			rec := benchRecord(i)
			line := int64(r + 2)
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
				want[k][line] = faults
			} else {
				good[k][line] = loaded{rec[0], code}
			}
			w.WriteString(strings.Join(rec, ";") + "\n")
		}
		w.Flush()
		f.Close()
	}

	var batches []int
	testHookBatch = func(n int) { batches = append(batches, n) }
	defer func() { testHookBatch = nil }()
	res, err := Files(ctx, db, paths, Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(batches) != fmt.Sprint([]int{files}) {
		t.Errorf("batches %v: the files did not load by the one-pass path in one batch", batches)
	}
	errs := 0
	for k, fr := range res.Files {
		if fr.Read != int64(n) || fr.Rejected != int64(len(want[k])) || fr.Accepted != int64(len(good[k])) {
			t.Errorf("file %d: read %d, accepted %d, rejected %d; want %d, %d, %d", k, fr.Read, fr.Accepted, fr.Rejected, n, len(good[k]), len(want[k]))
		}

		// every quarantined cell
		rows, err := db.QueryContext(ctx, "SELECT line, column_name, value, reason FROM meta.quarantine WHERE file_id = ? ORDER BY line, column_name", fr.FileID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64][]bad{}
		for rows.Next() {
			var line int64
			var b bad
			if err := rows.Scan(&line, &b.col, &b.val, &b.reason); err != nil {
				t.Fatal(err)
			}
			got[line] = append(got[line], b)
		}
		rows.Close()
		var lines []int64
		for l := range want[k] {
			lines = append(lines, l)
		}
		sort.Slice(lines, func(a, b int) bool { return lines[a] < lines[b] })
		for _, l := range lines {
			w, g := want[k][l], got[l]
			sort.Slice(w, func(a, b int) bool { return w[a].col < w[b].col })
			ok := len(w) == len(g)
			for m := 0; ok && m < len(w); m++ {
				ok = w[m].col == g[m].col && w[m].val == g[m].val && strings.HasPrefix(g[m].reason, w[m].reason)
			}
			if !ok && errs < 10 {
				t.Errorf("file %d line %d: quarantine %v, want %v", k, l, g, w)
				errs++
			}
			delete(got, l)
		}
		for l, g := range got {
			if errs < 20 {
				t.Errorf("file %d line %d quarantined (%v), but it is valid", k, l, g)
				errs++
			}
		}

		// every loaded line: its pseudonym and commune are those of the
		// record the generator wrote on it
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
			g, ok := good[k][line]
			switch {
			case !ok:
				if errs < 30 {
					t.Errorf("file %d line %d loaded, want it rejected", k, line)
					errs++
				}
			case am != Pseudonym(testSecret, g.id) || com != g.commune:
				if errs < 30 {
					t.Errorf("file %d line %d: am_id %s commune %s, want %s (%s) and %s", k, line, am, com, Pseudonym(testSecret, g.id), g.id, g.commune)
					errs++
				}
			}
		}
		rows.Close()
		if seen != len(good[k]) {
			t.Errorf("file %d: %d rows loaded, want %d", k, seen, len(good[k]))
		}
		t.Logf("file %d: %d records, %d rejected", k, n, len(want[k]))
	}
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
