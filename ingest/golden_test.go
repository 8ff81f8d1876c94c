package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the expected.json of the golden cases")

// goldenOptions is options.json of a case.
type goldenOptions struct {
	Source         string  `json:"source,omitempty"`
	Profile        string  `json:"profile,omitempty"`
	Period         string  `json:"period,omitempty"`
	Sender         string  `json:"sender,omitempty"`
	MaxRejectShare float64 `json:"max_reject_share,omitempty"`
	DryRun         bool    `json:"dry_run,omitempty"`
}

type goldenFile struct {
	File     string `json:"file"`
	Source   string `json:"source"`
	Profile  string `json:"profile"`
	Status   string `json:"status"`
	Sender   string `json:"sender,omitempty"`
	Period   string `json:"period,omitempty"`
	Read     int64  `json:"read"`
	Accepted int64  `json:"accepted"`
	Rejected int64  `json:"rejected"`
	Err      string `json:"error,omitempty"`
}

type golden struct {
	LoadError  string                      `json:"load_error,omitempty"`
	Files      []goldenFile                `json:"files"`
	Rows       map[string][]map[string]any `json:"rows"`
	Quarantine []map[string]any            `json:"quarantine"`
}

// xlsxSpec is a *.xlsx.json file: the workbook a case's XLSX input is built
// from at test time (binary fixtures are hard to review).
type xlsxSpec struct {
	Sheets []struct {
		Name string  `json:"name"`
		Rows [][]any `json:"rows"`
	} `json:"sheets"`
}

func buildXLSX(t testing.TB, spec, dst string) {
	t.Helper()
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	var s xlsxSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	writeXLSX(t, s, dst)
}

func writeXLSX(t testing.TB, s xlsxSpec, dst string) {
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range s.Sheets {
		if i == 0 {
			f.SetSheetName("Sheet1", sh.Name)
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.Rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if m, ok := v.(map[string]any); ok && m["date"] != nil {
					// {"date": "2025-03-15"}: a real Excel date cell
					f.SetCellValue(sh.Name, cell, m["date"])
					style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
					f.SetCellStyle(sh.Name, cell, cell, style)
					ser, _ := excelDate(m["date"].(string))
					f.SetCellFloat(sh.Name, cell, ser, -1, 64)
					continue
				}
				if err := f.SetCellValue(sh.Name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := f.SaveAs(dst); err != nil {
		t.Fatal(err)
	}
}

// prepareCase copies the inputs of a case into a temp dir (building XLSX
// files from their specs) and returns it with the options.
func prepareCase(t testing.TB, dir string) (string, goldenOptions, string) {
	t.Helper()
	tmp := t.TempDir()
	in := filepath.Join(tmp, "in")
	os.MkdirAll(in, 0o755)
	var opt goldenOptions
	profiles := ""
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		src := filepath.Join(dir, name)
		switch {
		case name == "expected.json":
		case name == "options.json":
			b, _ := os.ReadFile(src)
			if err := json.Unmarshal(b, &opt); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
		case name == "profiles" && e.IsDir():
			profiles = src
		case strings.HasSuffix(name, ".xlsx.json"):
			buildXLSX(t, src, filepath.Join(in, strings.TrimSuffix(name, ".json")))
		case e.IsDir():
		default:
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(in, name), b, 0o644)
		}
	}
	return in, opt, profiles
}

func openTestDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), warehouse.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const testSecret = "test-secret"

// The plausibility checks are relative to today: tests run on a fixed day.
func init() {
	nowFunc = func() time.Time { return time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC) }
}

func TestGolden(t *testing.T) {
	cases, err := os.ReadDir("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	db := openTestDB(t)
	ctx := context.Background()
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/golden", c.Name())
			in, gopt, profiles := prepareCase(t, dir)
			clearWarehouse(t, db)
			res, lerr := Files(ctx, db, []string{in}, Options{
				Secret: testSecret, Source: gopt.Source, Profile: gopt.Profile, Period: gopt.Period, Sender: gopt.Sender,
				MaxRejectShare: gopt.MaxRejectShare, DryRun: gopt.DryRun, ProfilesDir: profiles,
			})
			got := dumpGolden(t, db, res, in)
			if lerr != nil && len(res.Files) == 0 {
				got.LoadError = lerr.Error()
			}
			path := filepath.Join(dir, "expected.json")
			if *update {
				b, _ := json.MarshalIndent(got, "", "  ")
				os.WriteFile(path, append(b, '\n'), 0o644)
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want golden
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			// round-trip got through JSON so that types compare
			gb, _ := json.Marshal(got)
			var g golden
			json.Unmarshal(gb, &g)
			if d := cmp.Diff(want, g); d != "" {
				t.Errorf("%s (-want +got):\n%s", c.Name(), d)
			}
			for _, f := range res.Files {
				if f.Read != f.Accepted+f.Rejected {
					t.Errorf("%s: read %d != accepted %d + rejected %d", f.Path, f.Read, f.Accepted, f.Rejected)
				}
			}
		})
	}
}

func clearWarehouse(t testing.TB, db *sql.DB) {
	t.Helper()
	var stmts []string
	for _, c := range contracts {
		stmts = append(stmts, "DELETE FROM "+c.Table)
	}
	stmts = append(stmts, "DELETE FROM meta.file_ledger", "DELETE FROM meta.quarantine", "DELETE FROM ref.territory WHERE level = 'rpe'", "DELETE FROM ref.commune_territory WHERE level = 'rpe'")
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil && !strings.Contains(err.Error(), "does not exist") {
			t.Fatal(err)
		}
	}
}

func dumpGolden(t testing.TB, db *sql.DB, res Result, in string) golden {
	t.Helper()
	g := golden{Rows: map[string][]map[string]any{}}
	for _, f := range res.Files {
		rel, _ := filepath.Rel(in, f.Path)
		gf := goldenFile{File: filepath.ToSlash(rel), Source: f.Source, Profile: f.Profile, Status: f.Status, Sender: f.Sender, Period: f.Period,
			Read: f.Read, Accepted: f.Accepted, Rejected: f.Rejected}
		if f.Err != nil {
			gf.Err = strings.ReplaceAll(f.Err.Error(), in+string(filepath.Separator), "")
		}
		g.Files = append(g.Files, gf)
	}
	sort.Slice(g.Files, func(i, j int) bool { return g.Files[i].File < g.Files[j].File })
	for _, c := range contracts {
		rows := queryJSON(t, db, fmt.Sprintf(`SELECT to_json(t)::VARCHAR FROM (SELECT parse_filename(l.path) AS file, r.* EXCLUDE (file_id)
			FROM %s r JOIN meta.file_ledger l USING (file_id) ORDER BY ALL) t`, c.Table))
		if len(rows) > 0 {
			g.Rows[c.Table] = rows
		}
	}
	g.Quarantine = queryJSON(t, db, `SELECT to_json(t)::VARCHAR FROM (SELECT parse_filename(l.path) AS file, q.line, q.column_name, q.value, q.reason
		FROM meta.quarantine q JOIN meta.file_ledger l USING (file_id) ORDER BY ALL) t`)
	return g
}

func queryJSON(t testing.TB, db *sql.DB, q string) []map[string]any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}
