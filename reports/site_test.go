package reports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/<case>/")

// The fixture's masked figures (fixture.sql, "Cases the tests rely on"):
// they must not appear anywhere in the output, in any spelling.
var maskedSpellings = []string{
	"987654", "987 654", "987\u202f654", "987\u00a0654", "987,654", "987.654",
	"876543", "876 543", "876\u202f543", "876\u00a0543", "876,543", "876.543",
}

// writeTestGeoJSON writes a small GeoJSON of communes (squares), with the
// property spellings of two common sources.
func writeTestGeoJSON(tb testing.TB) string {
	tb.Helper()
	communes := []struct {
		code, key string
		x, y      float64
	}{
		{"35238", "INSEE_COM", -1.70, 48.10}, {"35047", "INSEE_COM", -1.70, 48.02}, {"35024", "code", -1.62, 48.18},
		{"35001", "code", -1.52, 48.13}, {"35999", "code", -1.78, 48.25}, {"35131", "INSEE_COM", -1.80, 48.22},
		{"35189", "code", -1.70, 48.22}, {"35360", "code", -1.20, 48.12}, {"35069", "code", -1.35, 48.08},
	}
	var feats []any
	for _, c := range communes {
		s := 0.07
		ring := [][]float64{{c.x, c.y}, {c.x + s, c.y}, {c.x + s, c.y + s}, {c.x, c.y + s}, {c.x, c.y}}
		feats = append(feats, map[string]any{"type": "Feature",
			"properties": map[string]any{c.key: c.code, "nom": "commune " + c.code},
			"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring}}})
	}
	b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": feats})
	p := filepath.Join(tb.TempDir(), "communes.geojson")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// A built fixture site shared by the read-only tests.
var (
	sharedOnce sync.Once
	sharedDir  string
	sharedRes  Result
	sharedErr  error
)

func sharedSite(t *testing.T) (string, Result) {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reports-site-")
		if err != nil {
			sharedErr = err
			return
		}
		db := openFixture(t)
		sharedDir = filepath.Join(dir, "site")
		sharedRes, sharedErr = Build(context.Background(), db, Options{OutDir: sharedDir, Now: fixedNow,
			CommuneGeoJSON: writeTestGeoJSON(t)})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDir, sharedRes
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(filepath.Dir(sharedDir))
	}
	os.Exit(code)
}

// --- Golden structure.

type pageStructure struct {
	Title    string     `json:"title"`
	Headings []string   `json:"headings"`
	Missing  []string   `json:"missing,omitempty"`
	Tables   [][]string `json:"tables"`
	Charts   int        `json:"charts"`
}

type siteStructure struct {
	Result Result                    `json:"result"`
	Files  []string                  `json:"files"`
	Pages  map[string]*pageStructure `json:"pages"`
}

var (
	reH1      = regexp.MustCompile(`(?s)<h1>(.*?)</h1>`)
	reH2      = regexp.MustCompile(`(?s)<h2>(.*?)</h2>`)
	reMissing = regexp.MustCompile(`(?s)<p class="missing"[^>]*>(.*?)</p>`)
	reThead   = regexp.MustCompile(`(?s)<thead>(.*?)</thead>`)
	reTh      = regexp.MustCompile(`(?s)<th[^>]*>(.*?)</th>`)
	reTag     = regexp.MustCompile(`<[^>]*>`)
	reChart   = regexp.MustCompile(`<div class="chart" id="`)
)

func text(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(reTag.ReplaceAllString(s, ""))), " ")
}

func extract(src []byte) *pageStructure {
	s := string(src)
	ps := &pageStructure{Headings: []string{}, Tables: [][]string{}}
	if m := reH1.FindStringSubmatch(s); m != nil {
		ps.Title = text(m[1])
	}
	for _, m := range reH2.FindAllStringSubmatch(s, -1) {
		ps.Headings = append(ps.Headings, text(m[1]))
	}
	for _, m := range reMissing.FindAllStringSubmatch(s, -1) {
		ps.Missing = append(ps.Missing, text(m[1]))
	}
	for _, m := range reThead.FindAllStringSubmatch(s, -1) {
		var hs []string
		for _, th := range reTh.FindAllStringSubmatch(m[1], -1) {
			hs = append(hs, text(th[1]))
		}
		ps.Tables = append(ps.Tables, hs)
	}
	ps.Charts = len(reChart.FindAllString(s, -1))
	return ps
}

func structureOf(t *testing.T, dir string, res Result) siteStructure {
	res.Index = filepath.Base(res.Index)
	res.Bytes = 0 // varies with the embedded assets
	res.Load, res.Render, res.LoadCPU, res.RenderCPU = 0, 0, 0, 0
	st := siteStructure{Result: res, Pages: map[string]*pageStructure{}}
	for _, f := range walkFiles(t, dir) {
		st.Files = append(st.Files, f)
		if isHTML(f) && !strings.HasPrefix(f, "standalone/") {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			st.Pages[f] = extract(b)
		}
	}
	sort.Strings(st.Files)
	return st
}

func checkGolden(t *testing.T, name string, got siteStructure) {
	t.Helper()
	file := filepath.Join("testdata", name, "structure.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -tags duckdb_arrow ./reports/ -run Golden -update)", err)
	}
	var want siteStructure
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: site structure differs from %s (-want +got):\n%s", name, file, diff)
	}
}

func TestGoldenStructure(t *testing.T) {
	cases := []struct {
		name string
		opt  func(t *testing.T) Options
	}{
		{"default", func(t *testing.T) Options { return Options{} }},
		{"geojson_quarter_k10", func(t *testing.T) Options {
			return Options{MinCount: 10, MinCommunePopulation: 15000, Periods: []string{"2025-T4"},
				CommuneGeoJSON: writeTestGeoJSON(t), Standalone: "all"}
		}},
	}
	db := openFixture(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, dir := buildFixture(t, db, c.opt(t))
			checkGolden(t, c.name, structureOf(t, dir, res))
		})
	}
}

// --- Confidentiality.

func TestMaskedValuesAbsent(t *testing.T) {
	dir, _ := sharedSite(t)
	files := walkFiles(t, dir)
	for _, f := range files {
		if strings.HasPrefix(f, "assets/echarts") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range maskedSpellings {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the masked value %q", f, s)
			}
		}
	}
	// The masked figures are shown as "s" with the legend.
	page := readFile(t, dir, "2025/commune/35999.html")
	row := regexp.MustCompile(`(?s)<th scope="row"[^>]*>Durée médiane de sous-activité \(mois\)</th>(.*?)</tr>`).FindStringSubmatch(page)
	if row == nil || !strings.Contains(row[1], `<td class="num s" data-v="">s</td>`) {
		t.Errorf("35999: the masked median duration is not shown as s: %q", row)
	}
	if !strings.Contains(page, "s : secret statistique (moins de 5 personnes)") {
		t.Error("35999: no confidentiality legend")
	}
	// The masked département on the map: a data point with no value.
	dep := readFile(t, dir, "2025/departement/35.html")
	if !strings.Contains(dep, `{"itemStyle":{"areaColor":"#cfcfcf"},"label":{"formatter":"s","show":true},"name":"974","s":1,"t":"La Réunion","value":"-"}`) {
		t.Error("the masked département 974 is not drawn as s on the map")
	}
	// Saint-Denis' parent (974) is masked: its reference value is not shown.
	sd := readFile(t, dir, "2025/commune/97411.html")
	row = regexp.MustCompile(`(?s)<th scope="row"[^>]*>Taux de couverture</th>(.*?)</tr>`).FindStringSubmatch(sd)
	if row == nil || strings.Count(row[1], `>s</td>`) != 2 {
		t.Errorf("97411: the masked parent coverage rate should show s twice (reference, gap): %q", row)
	}
}

// The fixture macro applies complementary masking: one small part of a
// breakdown takes a second part with it.
func TestComplementaryMasking(t *testing.T) {
	db := openFixture(t)
	var n int
	err := db.QueryRow(`SELECT count(*) FROM mart.published_indicator(5)
		WHERE code = '22278' AND period = '2025' AND indicator LIKE 'mismatch_%' AND masked`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("masked mismatch parts for 22278 = %d, want 2", n)
	}
	var v sql.NullFloat64
	if err := db.QueryRow(`SELECT value FROM mart.published_indicator(5) WHERE code = '35999' AND period = '2025'
		AND indicator = 'underactive_median_months'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v.Valid {
		t.Errorf("masked value published: %v", v)
	}
}

// --- Escaping.

func TestEscaping(t *testing.T) {
	dir, _ := sharedSite(t)
	for _, f := range walkFiles(t, dir) {
		if !isHTML(f) && !strings.HasPrefix(f, "assets/geo/") {
			continue
		}
		b := readFile(t, dir, f)
		if strings.Contains(b, "<script>alert(1)") || strings.Contains(b, "alert(1)</script>") {
			t.Errorf("%s: the commune name is not escaped", f)
		}
	}
	page := readFile(t, dir, "2025/commune/35999.html")
	if !strings.Contains(page, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>") {
		t.Error("35999: the name is not shown as text in the title")
	}
	epci := readFile(t, dir, "2025/epci/200039022.html")
	if !strings.Contains(epci, `\u003cscript\u003ealert(1)\u003c/script\u003e`) {
		t.Error("200039022: the chart data does not carry the escaped name")
	}
	if !strings.Contains(epci, `&lt;script&gt;alert(1)&lt;/script&gt;</a>`) {
		t.Error("200039022: the table does not show the escaped name")
	}
}

// --- Standalone reports.

func TestStandaloneSize(t *testing.T) {
	dir, res := sharedSite(t)
	if res.Standalone == 0 {
		t.Fatal("no standalone report")
	}
	n := 0
	for _, f := range walkFiles(t, dir) {
		if !strings.HasPrefix(f, "standalone/") {
			continue
		}
		n++
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1_500_000 {
			t.Errorf("%s: %d bytes, want at most 1.5 MB", f, fi.Size())
		}
		b := readFile(t, dir, f)
		for _, bad := range []string{"<script src", `<link rel="stylesheet"`, `href="../`} {
			if strings.Contains(b, bad) {
				t.Errorf("%s: not self-contained (%q)", f, bad)
			}
		}
		if !strings.Contains(b, "echarts") || !strings.Contains(b, "fr-departements") {
			t.Errorf("%s: echarts or the map is not inlined", f)
		}
	}
	if n != res.Standalone {
		t.Errorf("Result.Standalone = %d, files = %d", res.Standalone, n)
	}
}

// --- Site: relative links resolve, one shared asset, nothing remote.

var reRef = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

func TestSiteLinks(t *testing.T) {
	dir, res := sharedSite(t)
	if res.Index != filepath.Join(dir, "index.html") {
		t.Errorf("Index = %q", res.Index)
	}
	files := walkFiles(t, dir)
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	pages := 0
	for _, f := range files {
		if !isHTML(f) || strings.HasPrefix(f, "standalone/") {
			continue
		}
		pages++
		b := readFile(t, dir, f)
		for _, m := range reRef.FindAllStringSubmatch(b, -1) {
			ref := html.UnescapeString(m[1])
			if strings.Contains(ref, "://") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
				t.Errorf("%s: non-relative reference %q", f, ref)
				continue
			}
			target := path.Clean(path.Join(path.Dir(f), ref))
			if !have[target] {
				t.Errorf("%s: broken link %q", f, ref)
			}
		}
		if strings.Contains(f, "/") && strings.Count(b, `<script src="../../assets/echarts.min.js">`) != 1 && !strings.HasSuffix(f, "index.html") {
			t.Errorf("%s: does not load the shared echarts asset", f)
		}
	}
	if pages != res.Pages {
		t.Errorf("Result.Pages = %d, HTML pages = %d", res.Pages, pages)
	}
}

// A failed build leaves the published site untouched and no temp dir.
func TestFailedBuildKeepsSite(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "site")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "index.html"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", dsnOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Build(context.Background(), db, Options{OutDir: out}); err == nil {
		t.Fatal("Build on an empty warehouse succeeded")
	}
	// Fail after the pages: a GeoJSON that does not exist.
	fdb := openFixture(t)
	if _, err := Build(context.Background(), fdb, Options{OutDir: out, CommuneGeoJSON: filepath.Join(root, "missing.geojson")}); err == nil {
		t.Fatal("Build with a missing GeoJSON succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "index.html")); string(b) != "old" {
		t.Errorf("the previous site was replaced: %q", b)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left behind: %v", names)
	}
	// A good build replaces it.
	res, err := Build(context.Background(), fdb, Options{OutDir: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(res.Index); string(b) == "old" {
		t.Error("the site was not replaced")
	}
	entries, _ = os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left behind after a good build: %d entries", len(entries))
	}
}

func TestUnknownPeriod(t *testing.T) {
	db := openFixture(t)
	_, err := Build(context.Background(), db, Options{OutDir: filepath.Join(t.TempDir(), "site"), Periods: []string{"2031-T2"}})
	if err == nil || !strings.Contains(err.Error(), "2031-T2") {
		t.Errorf("Build with an unknown period: err = %v", err)
	}
}

// Without meta.file_ledger, freshness is inferred from the indicators.
func TestFreshnessWithoutLedger(t *testing.T) {
	db := openFixture(t)
	if _, err := db.Exec(`DROP TABLE meta.file_ledger`); err != nil {
		t.Fatal(err)
	}
	_, dir := buildFixture(t, db, Options{Periods: []string{"2025-T4"}, Standalone: "none"})
	page := html.UnescapeString(readFile(t, dir, "2025-T4/departement/22.html"))
	if strings.Contains(page, "Fichiers reçus") {
		t.Error("a ledger table without meta.file_ledger")
	}
	if !strings.Contains(page, "Sources manquantes pour ce territoire et cette période : activité des RPE") {
		t.Error("22: the missing RPE activity source is not named")
	}
	if !strings.Contains(page, "Contacts et ateliers : aucune donnée pour ce territoire et cette période (source manquante : activité des RPE).") {
		t.Error("22: the missing RPE activity is not said in its section")
	}
	rpe := html.UnescapeString(readFile(t, dir, "2025-T4/departement/35.html"))
	if !strings.Contains(rpe, "Relais petite enfance n'ayant pas transmis leur activité pour la période : RPE du Pays de Vitré.") {
		t.Error("35: the RPE without activity is not named")
	}
}

// The sentences are written from the numbers.
func TestSentences(t *testing.T) {
	dir, _ := sharedSite(t)
	page := readFile(t, dir, "2025/departement/35.html")
	want := "Pour Ille-et-Vilaine, le taux de couverture est de 53,7 places pour 100 enfants de moins de 3 ans en 2025, 11,9 points sous la moyenne régionale (65,6)."
	if !strings.Contains(html.UnescapeString(page), want) {
		t.Errorf("missing sentence %q", want)
	}
	q := html.UnescapeString(readFile(t, dir, "2025-T4/rpe/RPE35-002.html"))
	if !strings.Contains(q, "Relais petite enfance n'ayant pas transmis leur activité pour la période : RPE du Pays de Vitré.") ||
		!strings.Contains(q, "Attention : un RPE n'a pas transmis son activité pour la période (RPE du Pays de Vitré)") {
		t.Error("RPE35-002, 2025-T4: the missing RPE activity is not reported")
	}
	for _, s := range []string{"4e trimestre 2025", "décembre 2025"} {
		if !strings.Contains(q, s) {
			t.Errorf("RPE35-002: %q not found", s)
		}
	}
}

func readFile(t *testing.T, dir, f string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ = fmt.Sprint
