package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Benchmarks: go test -tags duckdb_arrow -run '^$' -bench . -benchtime 3x ./ingest/
// Rows: INGEST_BENCH_ROWS (default 1,000,000) for CSV, JSON and bare DuckDB;
// INGEST_BENCH_XLSX_ROWS (default 100,000) for XLSX, whose reader is much slower.

func benchRows(env string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return def
}

var benchHeader = []string{"numero_agrement", "nom", "prenom", "adresse", "telephone", "courriel", "commune_exercice", "exercice_mam",
	"date_agrement", "date_fin", "statut", "places_agreees", "places_moins_3_ans", "annee_naissance"}

var benchCommunes = []string{"35238", "35001", "35047", "35051", "35055", "35066", "35081", "35093", "35115", "35127", "35143", "35184", "35206", "35240", "35281", "35288"}

// benchRecord is row i of the generated AM register: deterministic, valid
// except one row in 1,000 (places 6).
func benchRecord(i int) []string {
	places := 1 + i%4
	if i%1000 == 999 {
		places = 6
	}
	under3 := places - i%2
	if under3 < 0 {
		under3 = 0
	}
	status := "en activité"
	end := ""
	if i%17 == 0 {
		status, end = "cessation", fmt.Sprintf("%02d/%02d/2024", 1+i%28, 1+i%12)
	}
	mam := "non"
	if i%9 == 0 {
		mam = "oui"
	}
	return []string{
		fmt.Sprintf("035-%04d-%06d", 1990+i%30, i), "Nom" + strconv.Itoa(i%5000), "Prénom" + strconv.Itoa(i%300),
		strconv.Itoa(1+i%200) + " rue de la Paix", fmt.Sprintf("06%08d", i), fmt.Sprintf("am%d@exemple.fr", i),
		benchCommunes[i%len(benchCommunes)], mam, fmt.Sprintf("%02d/%02d/%04d", 1+i%28, 1+i%12, 1995+i%25), end, status,
		strconv.Itoa(places), strconv.Itoa(under3), strconv.Itoa(1995 + i%25 - 25 - i%20),
	}
}

var benchFiles struct {
	once sync.Once
	dir  string
	csv  string
	json string
	xlsx string
	err  error
}

// benchInputs writes the generated files once per process.
func benchInputs(b *testing.B) (csvPath, jsonPath, xlsxPath string) {
	benchFiles.once.Do(func() {
		dir, err := os.MkdirTemp("", "ingest-bench-")
		if err != nil {
			benchFiles.err = err
			return
		}
		benchFiles.dir = dir
		n := benchRows("INGEST_BENCH_ROWS", 1_000_000)
		benchFiles.csv = filepath.Join(dir, "registre_am_35_2025-03.csv")
		f, _ := os.Create(benchFiles.csv)
		w := bufio.NewWriterSize(f, 1<<20)
		writeLine := func(rec []string) {
			for i, v := range rec {
				if i > 0 {
					w.WriteByte(';')
				}
				w.WriteString(v)
			}
			w.WriteString("\r\n")
		}
		writeLine(benchHeader)
		for i := 0; i < n; i++ {
			writeLine(benchRecord(i))
		}
		w.Flush()
		f.Sync()
		f.Close()

		benchFiles.json = filepath.Join(dir, "registre_am_35_2025-03.json")
		f, _ = os.Create(benchFiles.json)
		w = bufio.NewWriterSize(f, 1<<20)
		w.WriteString("[\n")
		obj := map[string]string{}
		for i := 0; i < n; i++ {
			for k, v := range benchRecord(i) {
				obj[benchHeader[k]] = v
			}
			bs, _ := json.Marshal(obj)
			w.Write(bs)
			if i < n-1 {
				w.WriteString(",")
			}
			w.WriteString("\n")
		}
		w.WriteString("]\n")
		w.Flush()
		f.Sync()
		f.Close()

		nx := benchRows("INGEST_BENCH_XLSX_ROWS", 100_000)
		benchFiles.xlsx = filepath.Join(dir, "registre_am_35_2025-03.xlsx")
		x := excelize.NewFile()
		sw, err := x.NewStreamWriter("Sheet1")
		if err != nil {
			benchFiles.err = err
			return
		}
		row := make([]any, len(benchHeader))
		for i, h := range benchHeader {
			row[i] = h
		}
		sw.SetRow("A1", row)
		for i := 0; i < nx; i++ {
			for k, v := range benchRecord(i) {
				row[k] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			sw.SetRow(cell, row)
		}
		sw.Flush()
		benchFiles.err = x.SaveAs(benchFiles.xlsx)
		x.Close()
		// the inputs on disk before any timing: the write-back of ~1 GB of
		// fresh files otherwise lands in the first benchmarks (1.9 s instead
		// of 1.3 s for the CSV, seen)
		syscall.Sync()
	})
	if benchFiles.err != nil {
		b.Fatal(benchFiles.err)
	}
	return benchFiles.csv, benchFiles.json, benchFiles.xlsx
}

// benchIngest times ingest of path (a file or a folder) into an emptied
// warehouse; table is the raw table it fills.
func benchIngest(b *testing.B, path, table string) {
	ctx := context.Background()
	db := openTestDB(b)
	if err := LoadReference(ctx, db); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, s := range []string{"DELETE FROM " + table, "DELETE FROM meta.file_ledger", "DELETE FROM meta.quarantine", "CHECKPOINT"} {
			if _, err := db.Exec(s); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := Files(ctx, db, []string{path}, Options{Secret: "bench", MaxRejectShare: 0.01})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range res.Files {
			rows += f.Read
			if f.Status != StatusLoaded {
				b.Fatalf("%s: status %s", f.Path, f.Status)
			}
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkIngestCSV(b *testing.B) {
	p, _, _ := benchInputs(b)
	benchIngest(b, p, "raw.am_register")
}

func BenchmarkIngestJSON(b *testing.B) {
	_, p, _ := benchInputs(b)
	benchIngest(b, p, "raw.am_register")
}

func BenchmarkIngestXLSX(b *testing.B) {
	_, _, p := benchInputs(b)
	benchIngest(b, p, "raw.am_register")
}

// BenchmarkBareDuckDBReadCSV is the yardstick: DuckDB reading the same CSV
// into a table, types sniffed, no validation.
func BenchmarkBareDuckDBReadCSV(b *testing.B) {
	p, _, _ := benchInputs(b)
	db := openTestDB(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec(fmt.Sprintf("CREATE OR REPLACE TABLE bare AS SELECT * FROM read_csv('%s')", p)); err != nil {
			b.Fatal(err)
		}
	}
	n := benchRows("INGEST_BENCH_ROWS", 1_000_000)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// The national layout: many monthly files per département. 200 availability
// files of 5,000 rows (1M rows), loaded in batches (batch.go), against bare
// DuckDB reading the same files with one read_csv.
var manyFiles struct {
	once sync.Once
	dir  string
	err  error
}

func manyInputs(b *testing.B) string {
	manyFiles.once.Do(func() {
		manyFiles.dir, manyFiles.err = os.MkdirTemp("", "ingest-bench-many")
		if manyFiles.err != nil {
			return
		}
		rows := benchRows("INGEST_BENCH_ROWS", 1_000_000) / 200
		for i := 0; i < 200; i++ {
			dep := fmt.Sprintf("%02d", 1+i%95)
			month := 1 + i/95
			bad := map[int]string{7: "commune", 300: "places"}
			p := filepath.Join(manyFiles.dir, fmt.Sprintf("disponibilites_%s_2024-%02d.csv", dep, month))
			if manyFiles.err = os.WriteFile(p, []byte(availFile(dep, month, rows, bad)), 0o644); manyFiles.err != nil {
				return
			}
		}
	})
	if manyFiles.err != nil {
		b.Fatal(manyFiles.err)
	}
	return manyFiles.dir
}

func BenchmarkIngestManyCSV(b *testing.B) {
	benchIngest(b, manyInputs(b), "raw.availability")
}

func BenchmarkBareDuckDBReadManyCSV(b *testing.B) {
	dir := manyInputs(b)
	db := openTestDB(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec(fmt.Sprintf("CREATE OR REPLACE TABLE bare AS SELECT * FROM read_csv('%s/*.csv')", dir)); err != nil {
			b.Fatal(err)
		}
	}
	n := benchRows("INGEST_BENCH_ROWS", 1_000_000) / 200 * 200
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
