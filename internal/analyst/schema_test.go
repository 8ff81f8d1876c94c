package analyst

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDescribe(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	ctx := context.Background()

	rels, err := Describe(ctx, s.Conn(), "mart.indicator")
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Kind != "table" || rels[0].Description != "Table longue des indicateurs : une ligne par territoire, période et indicateur" {
		t.Fatalf("mart.indicator: %+v", rels)
	}
	cols := map[string]Column{}
	for _, c := range rels[0].Columns {
		cols[c.Name] = c
	}
	if len(rels[0].Columns) != 17 || rels[0].Columns[0].Name != "level" {
		t.Errorf("columns out of order or missing: %+v", rels[0].Columns)
	}
	if d := cmp.Diff(Column{Name: "n", Type: "BIGINT", Description: "nombre de personnes sur lequel repose la valeur"}, cols["n"]); d != "" {
		t.Error(d)
	}

	// A bare name matches any schema; patterns work; macros have parameters.
	all, err := Describe(ctx, s.Conn(), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range all {
		names = append(names, r.FullName()+":"+r.Kind)
	}
	want := []string{"mart.indicator:table", "mart.indicator_catalog:table", "mart.indicator_year:view", "mart.published_indicator:macro",
		"meta.analyst_snapshot:table", "meta.analyst_snapshot_table:table", "meta.quarantine:table", "meta.run:table", "raw.am_register:table",
		"ref.commune_territory:table", "ref.territory:table"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	m, _ := Describe(ctx, s.Conn(), "published_*")
	if len(m) != 1 || !cmp.Equal(m[0].Params, []string{"k"}) {
		t.Errorf("macro: %+v", m)
	}

	var buf bytes.Buffer
	if err := WriteSchema(&buf, rels); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"mart.indicator (table, ",
		"  Table longue des indicateurs : une ligne par territoire, période et indicateur",
		"  n                BIGINT   nombre de personnes sur lequel repose la valeur",
		"  prev_year_value  DOUBLE",
	} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("schema output lacks %q:\n%s", line, buf.String())
		}
	}

	cat, err := Catalog(ctx, s.Conn())
	if err != nil || len(cat) != 9 {
		t.Fatalf("catalog: %v %v", cat, err)
	}
	buf.Reset()
	WriteCatalog(&buf, cat)
	if !strings.Contains(buf.String(), "Activité des RPE\n  answer_median_days        days     Délai médian de réponse\n") {
		t.Errorf("catalog output:\n%s", buf.String())
	}
}

// When the transform writes a dictionary table instead of comments, its
// descriptions fill the gaps.
func TestDescribeFromDictionaryTable(t *testing.T) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	for _, q := range []string{
		`CREATE TABLE meta.dictionary (table_name VARCHAR, column_name VARCHAR, description VARCHAR)`,
		`INSERT INTO meta.dictionary VALUES
			('ref.commune_territory', NULL, 'Appartenance de chaque commune à chaque niveau'),
			('ref.commune_territory', 'commune', 'code INSEE de la commune'),
			('indicator', 'value', 'ne remplace pas un commentaire existant')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	snap := filepath.Join(dir, "snap.duckdb")
	if _, err := Publish(context.Background(), db, PublishOptions{Path: snap}); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, snap, 10*time.Second)
	rels, err := Describe(context.Background(), s.Conn(), "*territory")
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 2 || rels[0].Description != "Appartenance de chaque commune à chaque niveau" || rels[0].Columns[0].Description != "code INSEE de la commune" {
		t.Errorf("%+v", rels)
	}
	ind, _ := Describe(context.Background(), s.Conn(), "mart.indicator")
	for _, c := range ind[0].Columns {
		if c.Name == "value" && c.Description != "valeur exacte" {
			t.Errorf("value: %q", c.Description)
		}
	}
}

func TestExport(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	out := filepath.Join(t.TempDir(), "export")
	m, err := Export(context.Background(), ExportOptions{Snapshot: snap, Dir: out, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range m.Tables {
		names = append(names, tb.Name+" "+strings.Join(tb.PartitionBy, ","))
	}
	want := []string{"mart.indicator period_kind,period", "mart.indicator_catalog ", "mart.indicator_year ", "ref.territory "}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("exported (-want +got):\n%s", d)
	}
	// Hive layout.
	for _, p := range []string{
		"mart/indicator/period_kind=year/period=2025/data_0.parquet",
		"mart/indicator/period_kind=month/period=2024-02/data_0.parquet",
		"mart/indicator_catalog/data_0.parquet",
		"ref/territory/data_0.parquet",
		ManifestFile,
	} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	// Read back with hive partitioning: the same rows as the snapshot.
	db := plainDB(t)
	s := openSession(t, snap, 10*time.Second)
	const agg = `SELECT period_kind, count(*), count(DISTINCT period), round(sum(value), 6), sum(n) FROM %s GROUP BY ALL ORDER BY ALL`
	got := queryStrings(t, db, strings.Replace(agg, "%s",
		"read_parquet('"+out+"/mart/indicator/**/*.parquet', hive_partitioning = true, hive_types = {'period_kind': VARCHAR, 'period': VARCHAR})", 1))
	wantRows := queryStrings(t, s.Conn(), strings.Replace(agg, "%s", "mart.indicator", 1))
	if d := cmp.Diff(wantRows, got); d != "" {
		t.Errorf("read back (-want +got):\n%s", d)
	}
	// Partition pruning on a filter reads the same row as the snapshot.
	q := `SELECT value FROM %s WHERE period_kind = 'year' AND period = '2024' AND code = '243500139' AND indicator = 'coverage_rate'`
	a := queryStrings(t, db, strings.Replace(q, "%s", "read_parquet('"+out+"/mart/indicator/*/*/*.parquet', hive_partitioning = true)", 1))
	b := queryStrings(t, s.Conn(), strings.Replace(q, "%s", "mart.indicator", 1))
	if d := cmp.Diff(b, a); d != "" || len(a) != 1 {
		t.Errorf("filtered read (-want +got):\n%s", d)
	}
	// The manifest carries the dictionary.
	raw, _ := os.ReadFile(filepath.Join(out, ManifestFile))
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil || man.Tables[0].Rows == 0 || man.PublishedAt == nil ||
		man.Tables[0].Description == "" || man.Tables[0].Columns[7].Description != "nombre de personnes sur lequel repose la valeur" {
		t.Errorf("manifest: %v %s", err, raw)
	}

	// A second export replaces the first; a folder that is not an export is
	// left alone.
	if _, err := Export(context.Background(), ExportOptions{Snapshot: snap, Dir: out, Tables: []string{"ref.*"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "mart")); err == nil {
		t.Error("the previous export was not replaced")
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "precious.txt"), []byte("x"), 0o644)
	if _, err := Export(context.Background(), ExportOptions{Snapshot: snap, Dir: other}); err == nil || !strings.Contains(err.Error(), "not an export") {
		t.Errorf("overwrote a folder that is not an export: %v", err)
	}
}
