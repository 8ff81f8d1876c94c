package ingest

import (
	"bytes"
	"context"
	"database/sql"
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

	"github.com/xuri/excelize/v2"
)

// Fuzz targets: go test -tags duckdb_arrow ./ingest -run '^$' -fuzz FuzzCSV
// (one target at a time). Seeds are in testdata/fuzz/<Target>/; the seed
// corpus runs as part of go test.

// FuzzCSV: sniffing, the scan and both readers never panic, and on a file
// the scan calls plain, the plain reader hands over exactly the records of
// the Go CSV reader (lines, cells, too few or too many fields).
func FuzzCSV(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		sn, err := sniffCSV(data, true, "", "")
		if err != nil || len(sn.records) == 0 {
			return
		}
		path := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		header := int64(1)
		if len(sn.lines) > 0 {
			header = sn.lines[0]
		}
		lay := allColumns(len(sn.records[0]))
		lay.fid = true
		plain, goRecs, sc, goErr, err := readPlainAndGo(path, sn, header, len(sn.records[0]), lay, nil)
		if err != nil {
			t.Fatal(err)
		}
		if goErr != nil || !sc.plain {
			return // a malformed file: the Go reader says where
		}
		if len(plain) != len(goRecs) {
			t.Fatalf("plain reader: %d records, the Go reader %d", len(plain), len(goRecs))
		}
		for i := range plain {
			if fmt.Sprint(plain[i]) != fmt.Sprint(goRecs[i]) {
				t.Fatalf("record %d: plain %v, Go %v", i, plain[i], goRecs[i])
			}
		}
	})
}

var (
	fuzzDB     *sql.DB
	fuzzConn   *sql.Conn
	plainNumRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
)

func fuzzSQL(f *testing.F) *sql.Conn {
	if fuzzConn != nil {
		return fuzzConn
	}
	fuzzDB = openTestDB(f)
	ctx := context.Background()
	if err := LoadReference(ctx, fuzzDB); err != nil {
		f.Fatal(err)
	}
	c, err := fuzzDB.Conn(ctx)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, macrosSQL); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close(); fuzzConn = nil })
	fuzzConn = c
	return c
}

// frenchNumber is the reference reading of a number cell: spaces, U+00A0,
// U+202F, U+2009, ' and % dropped; with both "," and ".", "." groups
// thousands; else "," is the decimal mark.
func frenchNumber(s string) (float64, bool) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "\u2009", "", "%", "", "'", "").Replace(s)
	if strings.Contains(s, ",") && strings.Contains(s, ".") {
		s = strings.ReplaceAll(s, ".", "")
	}
	s = strings.ReplaceAll(s, ",", ".")
	if !plainNumRE.MatchString(s) || len(s) > 30 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// FuzzNumber: the SQL number parsing agrees with frenchNumber wherever the
// latter reads a number, and never fails on any text.
func FuzzNumber(f *testing.F) {
	conn := fuzzSQL(f)
	f.Fuzz(func(t *testing.T, s string) {
		var got sql.NullFloat64
		err := conn.QueryRowContext(context.Background(), "SELECT COALESCE(TRY_CAST($1::VARCHAR AS DOUBLE), ing_num_fr($1::VARCHAR))", s).Scan(&got)
		if err != nil {
			if strings.ContainsRune(s, 0) || !isValidUTF8(s) {
				return // not a string DuckDB accepts as a parameter
			}
			t.Fatalf("%q: %v", s, err)
		}
		want, ok := frenchNumber(s)
		if !ok {
			return
		}
		if !got.Valid || math.Abs(got.Float64-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%q: SQL reads %v, want %v", s, got, want)
		}
	})
}

var frDateRE = regexp.MustCompile(`^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$`)
var isoDateRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)

// frenchDate is the reference reading of a date cell: dd/mm/yyyy or
// yyyy-mm-dd, a real calendar day.
func frenchDate(s string) (time.Time, bool) {
	var y, m, d int
	if g := frDateRE.FindStringSubmatch(s); g != nil {
		d, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi(g[2])
		y, _ = strconv.Atoi(g[3])
	} else if g := isoDateRE.FindStringSubmatch(s); g != nil {
		y, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi(g[2])
		d, _ = strconv.Atoi(g[3])
	} else {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// FuzzDate: the SQL date parsing agrees with frenchDate wherever the latter
// reads a date, and never fails on any text.
func FuzzDate(f *testing.F) {
	conn := fuzzSQL(f)
	f.Fuzz(func(t *testing.T, s string) {
		var got sql.NullTime
		err := conn.QueryRowContext(context.Background(), "SELECT ing_date($1::VARCHAR)", s).Scan(&got)
		if err != nil {
			if strings.ContainsRune(s, 0) || !isValidUTF8(s) {
				return
			}
			t.Fatalf("%q: %v", s, err)
		}
		want, ok := frenchDate(s)
		if !ok {
			return
		}
		if !got.Valid || !got.Time.Equal(want) {
			t.Errorf("%q: SQL reads %v, want %v", s, got, want)
		}
	})
}

// FuzzXLSX: opening, the header search and the row reader never panic on
// any bytes.
func FuzzXLSX(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer x.Close()
		b := &xlsxBook{f: x, sheets: x.GetSheetList()}
		for _, sh := range b.sheets {
			if _, err := b.head(sh, maxHeaderRows); err != nil {
				continue
			}
			src, err := b.source(sh, 1)
			if err != nil {
				continue
			}
			for i := 0; i < 10000; i++ {
				if _, _, err := src.Next(); err != nil {
					break
				}
			}
			src.Close()
		}
	})
}

// FuzzJSON: the JSON and NDJSON readers never panic, and report lines
// within the document.
func FuzzJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := int64(bytes.Count(data, []byte("\n"))) + 1
		for _, nd := range []bool{false, true} {
			d := &jsonDoc{data: data, ndjson: nd}
			keys, err := d.keys("f.json", 100)
			if err != nil {
				continue
			}
			s, err := d.open("f.json")
			if err != nil {
				continue
			}
			s.keys = keys
			for i := 0; i < 10000; i++ {
				line, _, err := s.Next()
				if err == io.EOF || err != nil {
					break
				}
				if line < 1 || line > lines {
					t.Errorf("record on line %d of %d", line, lines)
				}
			}
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestWriteFuzzSeeds writes the seed corpus (INGEST_WRITE_SEEDS=1).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("INGEST_WRITE_SEEDS") == "" {
		t.Skip("set INGEST_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	write := func(target, name, value string) {
		dir := filepath.Join("testdata/fuzz", target)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+value+"\n"), 0o644)
	}
	b := func(s string) string { return fmt.Sprintf("[]byte(%q)", s) }
	s := func(v string) string { return fmt.Sprintf("string(%q)", v) }
	csvSeeds := map[string]string{
		"semicolon-crlf":  "code_commune;annee;enfants_0_2\r\n35238;2024;7 123,4\r\n35001;2024;12\r\n",
		"comma-bom":       "\xef\xbb\xbfa,b,c\n1,2,3\n4,5,6",
		"tab":             "a\tb\n1\t2\n",
		"title-total":     "Titre;;\r\na;b;c\r\n1;2;3\r\n;;\r\nTotal;2;3\r\n",
		"quotes":          "a;b\n\"x;y\";\"multi\nline\"\n\"ok\";2\n",
		"cp1252":          "a;b\n\xe9t\xe9;l\x92\xe9glise\n",
		"blank-lines":     "a;b\n1;2\n\n3;4\n\n",
		"ragged":          "a;b;c\n1;2\n1;2;3;4\n",
		"padded":          "a;b\n 1 ;2\n",
		"nnbsp-thousands": "a;b\n5\u202f707;1\u00a0000\n",
	}
	for k, v := range csvSeeds {
		write("FuzzCSV", k, b(v))
	}
	for i, v := range []string{"7 123,4", "1\u202f000", "1.234,5", "12,5 %", "-3", "4,0", "1e5", "nan", "inf", "", " ", "0x10", "1,2,3", "'1'000"} {
		write("FuzzNumber", fmt.Sprintf("seed%02d", i), s(v))
	}
	for i, v := range []string{"15/03/2025", "1/3/2025", "2025-03-15", "31/02/2025", "29/02/2024", "2025-3-5", "15-03-2025", "15.03.2025", "45000", "", "15/03/25", "2025-03-15 10:00:00", "2025-03-15T10:00:00"} {
		write("FuzzDate", fmt.Sprintf("seed%02d", i), s(v))
	}
	for i, v := range []string{`[{"a":"1","b":2},{"a":null,"c":[1,"x"]}]`, "{\"data\":[{\"a\":1}]}", "{\"a\":1}\n{\"a\":2}\n\n", "[", "{\"a\":", "[1,2]", "\xef\xbb\xbf[{\"a\":\"\xe9\"}]"} {
		write("FuzzJSON", fmt.Sprintf("seed%02d", i), b(v))
	}
	// a real small workbook, and a broken one
	tmp := filepath.Join(t.TempDir(), "s.xlsx")
	writeXLSX(t, xlsxSpec{Sheets: []struct {
		Name string  `json:"name"`
		Rows [][]any `json:"rows"`
	}{{Name: "RPE", Rows: [][]any{{"Titre"}, {}, {"a", "b"}, {"x", 1.5}, {"Total", 3}}}}}, tmp)
	x, _ := os.ReadFile(tmp)
	write("FuzzXLSX", "small", b(string(x)))
	write("FuzzXLSX", "truncated", b(string(x[:len(x)/2])))
	write("FuzzXLSX", "garbage", b("PK\x03\x04garbage"))
}
