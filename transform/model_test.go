package transform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestReferences(t *testing.T) {
	t.Parallel()
	q := `-- reads staging.commented_out
	WITH a AS (SELECT * FROM staging.am_register r JOIN ref.commune_territory ct ON ct.commune = r.commune)
	SELECT 'int.in_a_string', "mart.quoted" , x.y, Int . Am_Month.z
	FROM a, int.am_month /* mart.in_block_comment */ JOIN raw.availability USING (month)
	WHERE EXISTS (SELECT 1 FROM mart.published_indicator(5))`
	models, sources := References(q)
	if diff := cmp.Diff([]string{"int.am_month", "mart.published_indicator", "staging.am_register"}, models); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"raw.availability", "ref.commune_territory"}, sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestParseModelHeader(t *testing.T) {
	t.Parallel()
	m, err := ParseModel("intermediate/demo.sql", `-- description: Une table de
--   démonstration.
-- grain: un mois
-- incremental: in_window(month)
-- depends: staging.b, staging.a
-- columns:
--   month: premier jour du mois
--   n: effectif
-- tests:
--   - unique: month
--   - not_null: month, n [warn]
--   - range: n 0..4
--   - accepted_values: kind in ('a', 'b')
--   - relationships: month -> staging.calendar(month)
--   - assert: n_small: n < 10
--   - sql: none_negative: SELECT * FROM {{this}}
--     WHERE n < 0 [warn]
SELECT a.month, count(*) AS n FROM staging.a a JOIN staging.b USING (month) GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "int.demo" || m.Description != "Une table de démonstration." || m.Incremental != "in_window(month)" {
		t.Errorf("parsed %+v", m)
	}
	if diff := cmp.Diff([]string{"staging.a", "staging.b", "staging.calendar"}, m.Depends); diff != "" {
		t.Errorf("depends (-want +got):\n%s", diff)
	}
	if len(m.Columns) != 2 || m.Columns[1] != (Column{"n", "effectif"}) {
		t.Errorf("columns %+v", m.Columns)
	}
	var names []string
	for _, ts := range m.Tests {
		names = append(names, ts.Name+"/"+ts.Severity)
	}
	want := []string{"unique(month)/error", "not_null(month, n)/warn", "range(n)/error",
		"accepted_values(kind)/error", "relationships(month -> staging.calendar.month)/error", "n_small/error", "none_negative/warn"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}
	if q := m.Tests[len(m.Tests)-1].Query; q != "SELECT * FROM {{this}} WHERE n < 0" {
		t.Errorf("sql test query %q", q)
	}
}

func TestParseModelErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ path, text, want string }{
		"declared depends differ": {"staging/x.sql", "-- description: x\n-- depends: staging.y\nSELECT * FROM staging.z", "declares depends"},
		"no description":          {"staging/x.sql", "-- grain: x\nSELECT 1", "no description"},
		"unknown key":             {"staging/x.sql", "-- description: x\n-- colour: red\nSELECT 1", "unknown header key"},
		"wrong folder":            {"other/x.sql", "-- description: x\nSELECT 1", "staging/, intermediate/, mart/"},
		"model name mismatch":     {"mart/x.sql", "-- model: mart.y\n-- description: x\nSELECT 1", "makes"},
		"bad test":                {"mart/x.sql", "-- description: x\n-- tests:\n--   - range: n\nSELECT 1", "range"},
		"self without schema":     {"mart/x.sql", "-- description: x\nSELECT * FROM mart.x", "self_schema"},
		"view with tests":         {"mart/x.sql", "-- kind: view\n-- description: x\n-- tests:\n--   - unique: a\nSELECT 1 a", "only tables"},
	}
	for name, c := range cases {
		_, err := ParseModel(c.path, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, c.want)
		}
	}
}

func TestSortModels(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"mart/c.sql":         {Data: []byte("-- description: c\nSELECT * FROM int.b JOIN staging.a USING (k)")},
		"intermediate/b.sql": {Data: []byte("-- description: b\nSELECT * FROM staging.a")},
		"staging/a.sql":      {Data: []byte("-- description: a\nSELECT * FROM raw.x")},
		"staging/d.sql":      {Data: []byte("-- description: d\nSELECT 1")},
	}
	ms, err := loadModels(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range ms {
		order = append(order, m.Name)
	}
	if diff := cmp.Diff([]string{"staging.a", "int.b", "mart.c", "staging.d"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	fsys["staging/a.sql"] = &fstest.MapFile{Data: []byte("-- description: a\nSELECT * FROM mart.c")}
	if _, err := loadModels(fsys); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: err = %v", err)
	}
	fsys["staging/a.sql"] = &fstest.MapFile{Data: []byte("-- description: a\nSELECT * FROM staging.nowhere")}
	if _, err := loadModels(fsys); err == nil || !strings.Contains(err.Error(), "no model makes") {
		t.Errorf("unknown model: err = %v", err)
	}
}

// TestEmbeddedModels: the shipped models parse, every model comes after
// what it reads, and every table model documents its columns.
func TestEmbeddedModels(t *testing.T) {
	t.Parallel()
	ms, err := Models()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		for _, d := range m.Depends {
			if !seen[d] {
				t.Errorf("%s runs before %s, which it reads", m.Name, d)
			}
		}
		seen[m.Name] = true
		if m.Kind == "table" && len(m.Columns) == 0 {
			t.Errorf("%s documents no column", m.Name)
		}
		for _, s := range m.Sources {
			if !strings.HasPrefix(s, "raw.") && !strings.HasPrefix(s, "ref.") {
				t.Errorf("%s reads %s: models read raw, ref and other models only", m.Name, s)
			}
		}
	}
	for _, want := range []string{"mart.indicator", "mart.indicator_catalog", "mart.published_indicator", "mart.coverage_wide"} {
		if !seen[want] {
			t.Errorf("no model makes %s", want)
		}
	}
}

func TestWriteDocs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteDocs(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "dictionary.md"))
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "dictionary.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Dictionnaire des données",
		"| `coverage_rate` | Taux de couverture | rate |",
		"100 x (eaje_psu + eaje_hors_psu + ecole_2ans + am_places_under3 + home_carer) / children_under3",
		"#### int.am_month",
		"- Lue par : `int.am_spell`",
		"| `vacant_places` | places agréées non occupées |",
		"- `unique(month, am_id)` (bloquant)",
		"am_under3_ratio",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("dictionary.md lacks %q", want)
		}
	}
	for _, want := range []string{`<html lang="fr">`, `<section class="model" id="mart-indicator">`, "Taux de couverture", "Côtes"} {
		if want == "Côtes" {
			continue
		}
		if !strings.Contains(string(html), want) {
			t.Errorf("dictionary.html lacks %q", want)
		}
	}
	if strings.Contains(string(html), "<script") {
		t.Error("dictionary.html has a script")
	}
	for _, ind := range contractIndicators(t) {
		if !strings.Contains(string(md), "`"+ind+"`") {
			t.Errorf("dictionary.md does not define %s", ind)
		}
	}
}
