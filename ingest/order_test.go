package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/go-cmp/cmp"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// TestLineNumbersLargeFile: a plain CSV file is read by the plain reader on
// several goroutines and validated in one pass by several DuckDB threads,
// the rejected records captured on the way (reject.go). On a file spanning
// many chunks, with rejected records scattered through it (unknown commune
// codes, placeholders, bad dates, unknown labels), every quarantined line
// and every loaded line must be the generator's. The same for a batch of
// three large files, whose records also get their file's id.
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

// TestCheckArrowScan: the guard against DuckDB's Arrow scan reading a
// subset of a stream's columns (which misplaces them) accepts a query
// reading every column and refuses one that reads some.
func TestCheckArrowScan(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lay := &srcLayout{fid: true, cols: []int{0, 2}, pseudo: []pseudoKind{pseudoNone, pseudoNone}}
	rd := newTextReader(&sliceSource{rows: [][]string{{"a", "b", "c"}}}, 3, lay, nil)
	defer rd.Release()
	err = withArrowView(ctx, conn, rd, "_v", func() error {
		if err := checkArrowScan(ctx, conn, "SELECT line, _fid, _extra, c0, c2 FROM _v", 5); err != nil {
			t.Errorf("every column: %v", err)
		}
		if err := checkArrowScan(ctx, conn, "SELECT c0 || c2 AS x, line + _fid AS y FROM _v WHERE _extra IS NULL", 5); err != nil {
			t.Errorf("every column in expressions: %v", err)
		}
		if err := checkArrowScan(ctx, conn, "SELECT line, c2 FROM _v", 5); err == nil {
			t.Error("a subset of the columns accepted")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// record is a record as a reader hands it over: line, _extra and cells.
type record struct {
	line  int64
	extra string
	cells []string
}

// collectRecords reads every record of rd, in line order ("\x00" for NULL).
func collectRecords(rd array.RecordReader) ([]record, error) {
	var out []record
	for rd.Next() {
		rec := rd.RecordBatch()
		lines := rec.Column(0).(*array.Int64)
		first := 1
		for rec.ColumnName(first) != "_extra" {
			first++
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			r := record{line: lines.Value(i)}
			str := func(c int) string {
				a := rec.Column(c).(*array.String)
				if a.IsNull(i) {
					return "\x00"
				}
				return a.Value(i)
			}
			r.extra = str(first)
			for c := first + 1; c < int(rec.NumCols()); c++ {
				r.cells = append(r.cells, str(c))
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].line < out[b].line })
	return out, rd.Err()
}

// plainAndGoReaders reads path (a CSV file the scan calls plain) with the
// plain reader and with the Go CSV reader, in layout lay.
func plainAndGoReaders(t *testing.T, path string, header int64, lay *srcLayout) (plain, goReader []record, sc *csvScan) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := min(len(b), sniffBytes)
	sn, err := sniffCSV(b[:n], n == len(b), "", "")
	if err != nil {
		t.Fatal(err)
	}
	plain, goReader, sc, goErr, err := readPlainAndGo(path, sn, header, len(sn.records[header-1]), lay, newPseudonymizer(testSecret))
	if err != nil || goErr != nil {
		t.Fatal(errors.Join(err, goErr))
	}
	return plain, goReader, sc
}

// readPlainAndGo scans the CSV file path and reads it with the Go CSV
// reader, then, when the Go reader took it and the scan calls it plain,
// with the plain reader (plain is nil otherwise). goErr is the Go reader's
// error (a malformed file), err any other.
func readPlainAndGo(path string, sn *csvSniff, header int64, ncols int, lay *srcLayout, ps *pseudonymizer) (plain, goRecs []record, sc *csvScan, goErr, err error) {
	if sc, err = scanCSV(path, sn, header, nil); err != nil {
		return nil, nil, nil, nil, err
	}
	src, err := openCSVSource(path, sn, header, sc.lastDataLine)
	if err != nil {
		return nil, nil, sc, nil, err
	}
	defer src.Close()
	tr := newTextReader(src, ncols, lay, ps)
	tr.strict = true
	defer tr.Release()
	if goRecs, goErr = collectRecords(tr); goErr != nil || !sc.plain {
		return nil, goRecs, sc, goErr, nil
	}
	pr := newPlainReader(context.Background(), []*plainFile{{path: path, fid: 7, headerLine: header, lastDataLine: sc.lastDataLine}}, sn.delim, ncols, lay, ps, nil)
	defer pr.Close()
	plain, err = collectRecords(pr)
	return plain, goRecs, sc, nil, err
}

// TestPlainReader: on a file spanning many read chunks, with blank lines,
// lines of delimiters only, lines with too few or too many fields, padded
// cells, identifiers and lists of identifiers, CRLF and LF, trailing totals,
// the plain reader hands over exactly the records of the Go CSV reader,
// with the same lines (a region boundary falls in the middle of the file).
func TestPlainReader(t *testing.T) {
	const n = 300_000
	path := filepath.Join(t.TempDir(), "f.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("Titre du fichier;;;\r\n;;;\r\nid;liste;b;c\r\n")
	for i := 4; i <= n+3; i++ {
		switch {
		case i == 75_000:
			w.WriteString(";;;\n")
		case i == 75_001:
			w.WriteString("\r\n")
		case i == 175_000:
			w.WriteString("  \t \n")
		case i == 180_000:
			w.WriteString("x;  padded ;z\n") // three fields
		case i == 180_001:
			w.WriteString("x;y;z;w;more\n")
		case i == 180_002:
			w.WriteString("x;y;z;w;;;\n") // empty extra fields: fine
		case i%3 == 0:
			fmt.Fprintf(w, " 035-%06d ;a1| b2 ;;c%d\r\n", i, i)
		default:
			fmt.Fprintf(w, "%035d;;b;c\n", i)
		}
	}
	w.WriteString("Total;;;\n\n")
	w.Flush()
	f.Close()
	lay := &srcLayout{fid: true, cols: []int{0, 1, 3}, pseudo: []pseudoKind{pseudoID, pseudoList, pseudoNone}}
	plain, goRecs, sc := plainAndGoReaders(t, path, 3, lay)
	if !sc.plain || sc.lastDataLine != n+3 {
		t.Fatalf("scan: plain %t, last data line %d", sc.plain, sc.lastDataLine)
	}
	if len(plain) != n-3 {
		t.Errorf("%d records, want %d", len(plain), n-3)
	}
	if diff := cmp.Diff(goRecs, plain, cmp.AllowUnexported(record{})); diff != "" {
		t.Errorf("plain reader vs Go reader (-go +plain):\n%.3000s", diff)
	}
	ps := newPseudonymizer(testSecret)
	for _, r := range plain {
		switch r.line {
		case 180_000:
			if r.extra != "3 fields, the header has 4" || r.cells[0] != ps.of("x") || r.cells[2] != "\x00" {
				t.Errorf("line 180000: %+v", r)
			}
		case 180_001:
			if r.extra != "5 fields, the header has 4" {
				t.Errorf("line 180001: %+v", r)
			}
		case 99:
			if r.extra != "\x00" || r.cells[0] != Pseudonym(testSecret, "035-000099") || r.cells[1] != Pseudonym(testSecret, "a1")+"|"+Pseudonym(testSecret, "b2") || r.cells[2] != "c99" {
				t.Errorf("line 99: %+v", r)
			}
		}
	}
}

// TestPseudoState: the readers' HMAC (saved key-block states) is
// Pseudonym, short and long secrets alike; a list gives the pseudonyms of
// its items joined by |.
func TestPseudoState(t *testing.T) {
	for _, secret := range []string{"", "s", testSecret, strings.Repeat("k", 64), strings.Repeat("long key ", 20)} {
		st := newPseudonymizer(secret).state()
		for _, id := range []string{"035-2001-000123", " 35 a 12 ", "é-ü 1", ""} {
			if got, want := st.pseudo(id), Pseudonym(secret, id); got != want {
				t.Errorf("secret %q id %q: %s, want %s", secret, id, got, want)
			}
		}
		got := string(st.appendPseudoList(nil, " a1 |b 2;; c3 , "))
		if want := Pseudonym(secret, "a1") + "|" + Pseudonym(secret, "b2") + "|" + Pseudonym(secret, "c3"); got != want {
			t.Errorf("secret %q list: %s, want %s", secret, got, want)
		}
	}
}
