package benchnational

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/demo"
)

// The harness runs the bare baselines as subprocesses; in tests the test
// binary is that subprocess.
func TestMain(m *testing.M) {
	if os.Getenv("BENCHNATIONAL_BARE") == "1" {
		os.Exit(BareMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// observatoireBin builds cmd/observatoire (or takes BENCHNATIONAL_OBSERVATOIRE).
func observatoireBin(t *testing.T, root string) string {
	if p := os.Getenv("BENCHNATIONAL_OBSERVATOIRE"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "observatoire")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-tags", "duckdb_arrow", "-o", bin, "./cmd/observatoire")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/observatoire: %v\n%s", err, out)
	}
	return bin
}

type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestSmoke runs the whole harness on one small département (Lozère, 24
// months) so that it cannot rot: every step must run and give sane
// numbers. Timings are not asserted.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds observatoire and runs the whole pipeline twice")
	}
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	c := DefaultConfig()
	c.Root = root
	c.Observatoire = observatoireBin(t, root)
	c.Bare, c.BareEnv = []string{exe}, []string{"BENCHNATIONAL_BARE=1"}
	c.CacheDir, c.WorkDir = filepath.Join(tmp, "cache"), filepath.Join(tmp, "work")
	c.Scale, c.Departement, c.Months = demo.ScaleDepartement, "48", 24
	c.MemoryLimit = "1GB"
	c.StepTimeout = 5 * time.Minute
	c.Results, c.JSON = filepath.Join(tmp, "benchmarks.md"), filepath.Join(tmp, "benchmarks.json")
	c.Log = testLog{t}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Markdown())

	for _, k := range StepKeys {
		s := res.Step(k)
		if s == nil {
			t.Errorf("no step %s", k)
			continue
		}
		if s.Err != "" {
			t.Errorf("%s failed: %s", k, s.Err)
		}
		if s.Wall <= 0 && k != "transform_snapshot" {
			t.Errorf("%s: wall %v", k, s.Wall)
		}
		if s.Command != "" && (s.MaxRSS < 1<<20 || s.MaxRSS > 64<<30 || s.CPU <= 0) {
			t.Errorf("%s: peak RSS %d bytes, CPU %vs", k, s.MaxRSS, s.CPU)
		}
	}
	ds := res.Dataset
	if ds == nil || ds.Files == 0 || ds.NextFiles == 0 || ds.TotalRows() == 0 {
		t.Fatalf("data set: %+v", ds)
	}
	// Every generated row is read; the bare baseline loads the CSV rows
	// (all but the XLSX's and those it cannot parse).
	if s := res.Step("ingest"); s.Count != ds.TotalRows() {
		t.Errorf("ingest read %d rows, the generator wrote %d", s.Count, ds.TotalRows())
	}
	if s := res.Step("ingest_bare"); s.Count < ds.TotalRows()-ds.Rows[demo.SrcRPERegister]-ds.Bad || s.Count > ds.TotalRows() {
		t.Errorf("bare ingest loaded %d rows of %d", s.Count, ds.TotalRows())
	}
	if s := res.Step("month_ingest"); s.Count != sum(ds.NextRows) {
		t.Errorf("new month: ingest read %d rows, the generator wrote %d", s.Count, sum(ds.NextRows))
	}
	// The baseline builds the same tables as the runner: a drift of the
	// session SQL or of the model list shows here.
	if len(res.Models) == 0 {
		t.Fatal("no model in the transform log")
	}
	models, bare := map[string]int64{}, res.Step("transform_bare")
	for _, m := range res.Models {
		models[m.Name] = m.Rows
		if m.BareBuild <= 0 {
			t.Errorf("model %s: not built by the baseline", m.Name)
		}
		if m.Rows != m.BareRows {
			t.Errorf("model %s: %d rows, %d in the baseline", m.Name, m.Rows, m.BareRows)
		}
	}
	if tr := res.Step("transform"); tr.Count == 0 || tr.Count != bare.Count {
		t.Errorf("transform wrote %d rows, the baseline %d", tr.Count, bare.Count)
	}
	if s := res.Step("report"); s.Count < 10 || s.Unit != "pages" {
		t.Errorf("report: %d %s", s.Count, s.Unit)
	}
	if len(res.Month) == 0 {
		t.Error("no model in the new month's transform log")
	}
	for _, w := range res.Warnings {
		t.Errorf("warning: %s", w)
	}
	if s := res.Step("month"); s.Ratio <= 0 || s.Ratio >= 1.5 {
		t.Errorf("new month / full rebuild = %v", s.Ratio)
	}
	if len(res.Goals) != 6 {
		t.Errorf("%d goals", len(res.Goals))
	}
	for _, g := range res.Goals {
		if !g.Known {
			t.Errorf("goal %q not measured", g.Name)
		}
	}
	if res.Machine.CPUs == 0 || res.Machine.MemTotal == 0 || res.Machine.DuckDB == "" || res.Machine.GoVersion == "" {
		t.Errorf("machine: %+v", res.Machine)
	}

	md, err := os.ReadFile(c.Results)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{BeginMarker, EndMarker, "| goal |", "ingest --demo", "transform --full-refresh", "pages/s"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results file lacks %q", want)
		}
	}
	var back Result
	if b, err := os.ReadFile(c.JSON); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	} else if len(back.Steps) != len(res.Steps) {
		t.Errorf("JSON has %d steps, want %d", len(back.Steps), len(res.Steps))
	}
	// The warehouses are removed; the data set stays cached.
	if _, err := os.Stat(filepath.Join(c.WorkDir, "warehouse.duckdb")); err == nil {
		t.Error("warehouse left behind")
	}
	o := demo.Options{Scale: c.Scale, Departements: []string{"48"}, Seed: 1, To: c.To, Months: 24, BadRows: true}
	again, err := prepareDataset(ctx, root, c.CacheDir, o, testLog{t})
	if err != nil || !again.Cached || again.Key != ds.Key {
		t.Errorf("second preparation: cached=%v key %s vs %s, err %v", again != nil && again.Cached, again.Key, ds.Key, err)
	}
}

func TestDatasetKey(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	o := demo.Options{Scale: demo.ScaleNational, Seed: 1, To: "2026-10", Months: 60, BadRows: true}
	k1, err := datasetKey(root, o)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := datasetKey(root, o)
	o.Months = 61
	k3, _ := datasetKey(root, o)
	if k1 != k2 || k1 == k3 || len(k1) != 16 {
		t.Errorf("keys %s %s %s", k1, k2, k3)
	}
	if n, err := nextMonth("2026-12"); err != nil || n != "2027-01" {
		t.Errorf("nextMonth: %s %v", n, err)
	}
}

func TestParsers(t *testing.T) {
	f := parseLogLine(`time=2026-11-25T09:50:14.787Z level=INFO msg="analyst snapshot published" path=/tmp/s.duckdb rows=858828 duration=7.506s err="a \"b\" c"`)
	if f["msg"] != "analyst snapshot published" || f["duration"] != "7.506s" || f["rows"] != "858828" || f["err"] != `a "b" c` {
		t.Errorf("%q", f)
	}
	tl := parseTransformLog("time=2026-11-25T09:50:06.962Z level=INFO msg=transform full_refresh=false since=2026-11 until=2026-11 nothing_new=false models=26\n" +
		"time=2026-11-25T09:50:06.962Z level=INFO msg=model model=mart.indicator mode=full rows=266922 ms=8842 tests_failed=0\n" +
		`time=2026-11-25T09:50:14.787Z level=INFO msg="analyst snapshot published" path=x duration=7.5s` + "\n")
	if len(tl.Models) != 1 || tl.Rows != 266922 || tl.Models[0].Secs != 8.842 || tl.Snapshot != 7500*time.Millisecond || tl.FullRefresh != "false" || tl.Since != "2026-11" {
		t.Errorf("%+v", tl)
	}
	nf, read, acc, rej, ok := parseIngestTotal("file  source\n-----\nx  y  loaded  10  9  1\n-----\ntotal (83 files)                                                24257   24230         27\n")
	if !ok || nf != 83 || read != 24257 || acc != 24230 || rej != 27 {
		t.Errorf("ingest total: %v %d %d %d %d", ok, nf, read, acc, rej)
	}
	if nm, nf, ok := parseTransformDone("transform: 26 models, 0 data tests failed\n"); !ok || nm != 26 || nf != 0 {
		t.Errorf("transform done: %v %d %d", ok, nm, nf)
	}
	if bs := ingestBySource([]IngestFile{{Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 1},
		{Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 1}, {Source: "a", Seconds: 3}}); len(bs) != 1 || bs[0].FirstDecile != 1 || bs[0].LastDecile != 3 || bs[0].Seconds != 12 {
		t.Errorf("by source: %+v", bs)
	}
	pages, sa, d, ok := parseReport("report: 86 pages, 15 standalone files in 14.535s (6 pages/s)\n")
	if !ok || pages != 86 || sa != 15 || d != 14535*time.Millisecond {
		t.Errorf("report: %v %d %d %v", ok, pages, sa, d)
	}
	start := time.Date(2026, 11, 25, 9, 50, 0, 0, time.UTC)
	files := parseIngestLog("time=2026-11-25T09:50:01.000Z level=INFO msg=ingest file=/d/disponibilites/disponibilites_48_2026-10.csv source=availability status=loaded read=10 accepted=9 rejected=1\n"+
		`time=2026-11-25T09:50:01.500Z level=ERROR msg=ingest file=/d/rpe/registre_rpe_48.xlsx status=refused err="too many"`+"\n", start)
	if len(files) != 2 || files[0].Seconds != 1 || files[1].Seconds != 0.5 || files[1].Source != demo.SrcRPERegister || files[1].Status != "refused" {
		t.Errorf("%+v", files)
	}
}

func TestReplaceGenerated(t *testing.T) {
	doc := ReplaceGenerated("", "one")
	if !strings.HasPrefix(doc, "# Benchmarks") || !strings.Contains(doc, BeginMarker+"\n\none\n\n"+EndMarker) {
		t.Errorf("%q", doc)
	}
	doc = strings.Replace(doc, "# Benchmarks", "# Benchmarks\n\nHand-written analysis.", 1) + "\nAfter.\n"
	doc2 := ReplaceGenerated(doc, "two")
	if !strings.Contains(doc2, "Hand-written analysis.") || !strings.Contains(doc2, "\n\ntwo\n\n") || strings.Contains(doc2, "one") || !strings.HasSuffix(doc2, "After.\n") {
		t.Errorf("%q", doc2)
	}
}

// TestCacheKeepsOtherSets: preparing a set of another scale or département
// keeps the cached ones; a new version of the same set replaces the old.
func TestCacheKeepsOtherSets(t *testing.T) {
	ctx := context.Background()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := func(dep string, months int) demo.Options {
		return demo.Options{Scale: demo.ScaleDepartement, Departements: []string{dep}, Seed: 1, To: demo.DefaultTo, Months: months, BadRows: true}
	}
	a, err := prepareDataset(ctx, root, cache, opts("48", 24), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	b, err := prepareDataset(ctx, root, cache, opts("90", 24), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Dir); err != nil {
		t.Errorf("the Lozère set was removed when the Territoire de Belfort one was made: %v", err)
	}
	c, err := prepareDataset(ctx, root, cache, opts("48", 25), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Dir); err == nil {
		t.Error("the older Lozère set is still there after a new version of it")
	}
	for _, d := range []string{b.Dir, c.Dir} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}
