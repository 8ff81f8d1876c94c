package analyst

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// typesQuery covers the types analysts meet: text with accents, separators,
// quotes and line breaks, integers, doubles, decimals, dates, timestamps,
// booleans and NULLs.
const typesQuery = `
SELECT * FROM (VALUES
  ('Rennes Métropole', 243500139::BIGINT, 61.25::DOUBLE, 12.345::DECIMAL(10,3), DATE '2025-03-01', TIMESTAMP '2025-03-01 08:30:00', true, 3::INTEGER),
  ('Saint-Malo; "Agglo"' || chr(10) || 'ligne 2', 200039022, -0.5, 0.001, DATE '2024-12-31', TIMESTAMP '2024-12-31 23:59:59', false, NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) t(name, code, rate, amount, day, stamp, flag, n)`

// wantStrings is typesQuery as text, the way every format must give it back.
var wantStrings = [][]string{
	{"name", "code", "rate", "amount", "day", "stamp", "flag", "n"},
	{"Rennes Métropole", "243500139", "61.25", "12.345", "2025-03-01", "2025-03-01 08:30:00", "true", "3"},
	{"Saint-Malo; \"Agglo\"\nligne 2", "200039022", "-0.5", "0.001", "2024-12-31", "2024-12-31 23:59:59", "false", ""},
	{"", "", "", "", "", "", "", ""},
}

func runTo(t *testing.T, s *Session, query string, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Run(context.Background(), query, Output{Format: f, W: &buf}); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return buf.Bytes()
}

func TestCSVReadBack(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	got, err := csv.NewReader(bytes.NewReader(runTo(t, s, typesQuery, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantStrings, got); d != "" {
		t.Errorf("csv (-want +got):\n%s", d)
	}
}

func TestJSONReadBack(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	out := runTo(t, s, typesQuery, FormatJSON)
	var got []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []map[string]any{
		{"name": "Rennes Métropole", "code": json.Number("243500139"), "rate": json.Number("61.25"), "amount": json.Number("12.345"),
			"day": "2025-03-01", "stamp": "2025-03-01 08:30:00", "flag": true, "n": json.Number("3")},
		{"name": "Saint-Malo; \"Agglo\"\nligne 2", "code": json.Number("200039022"), "rate": json.Number("-0.5"), "amount": json.Number("0.001"),
			"day": "2024-12-31", "stamp": "2024-12-31 23:59:59", "flag": false, "n": nil},
		{"name": nil, "code": nil, "rate": nil, "amount": nil, "day": nil, "stamp": nil, "flag": nil, "n": nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("json (-want +got):\n%s", d)
	}
	// Keys keep the column order.
	if i, j := bytes.Index(out, []byte(`"name"`)), bytes.Index(out, []byte(`"n"`)); i < 0 || j < i {
		t.Errorf("column order lost:\n%s", out)
	}
	// An empty result is an empty array.
	if got := string(runTo(t, s, "SELECT 1 AS x WHERE false", FormatJSON)); got != "[]\n" {
		t.Errorf("empty result: %q", got)
	}
}

func TestParquetReadBack(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	// Written to a real file that the caller closes (the Parquet writer must
	// not close it behind the caller's back).
	path := filepath.Join(t.TempDir(), "out.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), typesQuery, Output{Format: FormatParquet, W: f}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("closing the parquet file: %v", err)
	}
	db := plainDB(t)
	got := queryStrings(t, db, `SELECT * FROM read_parquet(?)`, path)
	want := queryStrings(t, s.Conn(), typesQuery)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parquet values (-want +got):\n%s", d)
	}
	// Types survive: the same DuckDB types come back.
	types := queryStrings(t, db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	wantTypes := [][]string{{"name", "VARCHAR"}, {"code", "BIGINT"}, {"rate", "DOUBLE"}, {"amount", "DECIMAL(10,3)"},
		{"day", "DATE"}, {"stamp", "TIMESTAMP"}, {"flag", "BOOLEAN"}, {"n", "INTEGER"}}
	if d := cmp.Diff(wantTypes, types); d != "" {
		t.Errorf("parquet types (-want +got):\n%s", d)
	}
	// A larger result goes through several Arrow batches into row groups.
	if err := os.WriteFile(path, runTo(t, s, "SELECT * FROM mart.indicator ORDER BY ALL", FormatParquet), 0o644); err != nil {
		t.Fatal(err)
	}
	a := queryStrings(t, s.Conn(), "SELECT count(*), sum(value), count(DISTINCT code) FROM mart.indicator")
	b := queryStrings(t, db, "SELECT count(*), sum(value), count(DISTINCT code) FROM read_parquet(?)", path)
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("mart.indicator through parquet (-want +got):\n%s", d)
	}
}

func TestXLSXReadBack(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	f, err := excelize.OpenReader(bytes.NewReader(runTo(t, s, typesQuery, FormatXLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != SheetName {
		t.Fatalf("sheets: %v", sheets)
	}
	rows, err := f.GetRows(SheetName)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		wantStrings[0],
		{"Rennes Métropole", "243500139", "61.25", "12.345", "2025-03-01", "2025-03-01 08:30:00", "TRUE", "3"},
		{"Saint-Malo; \"Agglo\"\nligne 2", "200039022", "-0.5", "0.001", "2024-12-31", "2024-12-31 23:59:59", "FALSE"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("xlsx (-want +got):\n%s", d)
	}
	// Numbers are numbers and dates are dates, not text.
	for _, c := range []string{"B2", "C2", "D2", "H2"} {
		if ct, _ := f.GetCellType(SheetName, c); ct == excelize.CellTypeSharedString || ct == excelize.CellTypeInlineString {
			t.Errorf("%s is text", c)
		}
	}
	raw, _ := f.GetCellValue(SheetName, "E2", excelize.Options{RawCellValue: true})
	if raw != "45717" { // 2025-03-01 as an Excel serial date
		t.Errorf("E2 raw value %q, want the serial date 45717", raw)
	}
}

func TestTableOutput(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)

	got := string(runTo(t, s, "SELECT code, name, population FROM ref.territory WHERE level = 'commune' ORDER BY code", FormatTable))
	want := "" +
		" code  | name           | population\n" +
		"-------+----------------+-----------\n" +
		" 35047 | Bruz           |      19000\n" +
		" 35051 | Cesson-Sévigné |      18000\n" +
		" 35238 | Rennes         |     225000\n" +
		"(3 rows)\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}

	// Truncation is announced with the total.
	var buf bytes.Buffer
	err := s.Run(context.Background(), "SELECT range AS i FROM range(2500)", Output{Format: FormatTable, W: &buf, MaxRows: 10, More: "--max-rows N shows more"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2+10+1 {
		t.Fatalf("want header, rule, 10 rows and the notice, got %d lines:\n%s", len(lines), buf.String())
	}
	if last := lines[len(lines)-1]; last != "(10 of 2 500 rows shown: the output is truncated; --max-rows N shows more)" {
		t.Errorf("notice: %q", last)
	}
	// Exactly max rows: no notice.
	buf.Reset()
	if err := s.Run(context.Background(), "SELECT range AS i FROM range(10)", Output{Format: FormatTable, W: &buf, MaxRows: 10}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "(10 rows)\n") {
		t.Errorf("no truncation expected:\n%s", buf.String())
	}
	// Several statements: each result; NULL shown; long cells cut.
	buf.Reset()
	if err := s.Run(context.Background(), "SELECT NULL AS x; SELECT repeat('a', 200) AS long", Output{Format: FormatTable, W: &buf}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), " NULL\n(1 row)\n\n long") || !strings.Contains(buf.String(), strings.Repeat("a", maxCellWidth-1)+"…") {
		t.Errorf("two results:\n%s", buf.String())
	}
}

func TestFormatHelpers(t *testing.T) {
	for path, want := range map[string]Format{"a.csv": FormatCSV, "b.JSON": FormatJSON, "c.parquet": FormatParquet, "d.xlsx": FormatXLSX, "e": ""} {
		if got := FormatForPath(path); got != want {
			t.Errorf("%s: %q", path, got)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1 000", 1234567: "1 234 567", -4500: "-4 500"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q", n, got)
		}
	}
	for f, want := range map[float64]string{61.25: "61.25", 1e6: "1000000", 1e20: "1e+20", 0.00001: "1e-05", 0: "0"} {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%v) = %q", f, got)
		}
	}
}
