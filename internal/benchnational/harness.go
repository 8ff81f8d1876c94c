package benchnational

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/demo"
)

// Config of a benchmark run.
type Config struct {
	Root         string   // module root (holds go.mod); "" = found from the working directory
	Observatoire string   // the observatoire binary timed (bin/observatoire)
	Bare         []string // argv prefix of the bare baselines (benchnational bare)
	BareEnv      []string // extra environment of the bare baselines
	CacheDir     string   // generated sets, one folder per cache key
	WorkDir      string   // warehouses, site and logs of this run; emptied at start

	Scale       string // demo.ScaleNational, ScaleRegion or ScaleDepartement
	Departement string
	Months      int
	To          string

	Threads        int    // DuckDB threads of every step (0 = runtime.NumCPU)
	MemoryLimit    string // DuckDB memory_limit of every step
	MaxRejectShare string // ingest.max_reject_share
	StepTimeout    time.Duration

	// Only = "ingest" stops after the two ingest steps: the national
	// transform needs more time and disk than a working session has (see
	// docs/benchmarks.md), its ingest does not.
	Only string

	Results string // Markdown file whose generated section is replaced; "" = none
	JSON    string // JSON results; "" = none
	Keep    bool   // keep the warehouses

	Log io.Writer // progress
}

// DefaultConfig is the national benchmark as make bench-national runs it.
func DefaultConfig() Config {
	return Config{
		Observatoire:   "bin/observatoire",
		CacheDir:       "var/bench/national",
		WorkDir:        "var/bench/run",
		Scale:          demo.ScaleNational,
		Departement:    "35",
		Months:         60,
		To:             demo.DefaultTo,
		Threads:        runtime.NumCPU(),
		MemoryLimit:    "2GB",
		MaxRejectShare: "0.25",
		StepTimeout:    6 * time.Hour,
		Results:        "docs/benchmarks.md",
		JSON:           "docs/benchmarks.json",
	}
}

// Step is one line of the results table.
type Step struct {
	Key     string  `json:"key"`
	Name    string  `json:"name"`
	Command string  `json:"command,omitempty"`
	Wall    float64 `json:"wall_s"`
	CPU     float64 `json:"cpu_s,omitempty"`
	MaxRSS  int64   `json:"max_rss_bytes,omitempty"`
	Load    float64 `json:"load,omitempty"` // mean 1-minute load average while it ran
	Count   int64   `json:"count"`          // rows (or pages) it processed
	Unit    string  `json:"unit"`           // "rows" or "pages"
	// Baseline is the key of the step this one is compared with; Ratio is
	// Wall / the baseline's Wall.
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	CPURatio float64 `json:"cpu_ratio,omitempty"` // CPU / the baseline's CPU: steadier than wall time on a shared machine
	Part     bool    `json:"part,omitempty"`      // a part of the step above (from its log) or a sum of steps
	Err      string  `json:"error,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// Rate is Count per second of wall time.
func (s Step) Rate() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Count) / s.Wall
}

// Goal is one target of issue 8 and whether this run met it.
type Goal struct {
	Name     string  `json:"name"`
	Target   string  `json:"target"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value"`
	Met      bool    `json:"met"`
	Known    bool    `json:"known"` // false when a step it needs failed
}

// Result of a run.
type Result struct {
	Machine  Machine        `json:"machine"`
	Scale    string         `json:"scale"`
	Dataset  *Dataset       `json:"dataset"`
	Steps    []Step         `json:"steps"`
	Goals    []Goal         `json:"goals"`
	Ingest   []IngestSource `json:"ingest_by_source"`
	Models   []ModelTime    `json:"transform_by_model"`
	Month    []ModelTime    `json:"month_transform_by_model"`
	Warnings []string       `json:"warnings,omitempty"`
	Duration float64        `json:"duration_s"`
	Options  string         `json:"options"`
}

// Step returns the step of key (nil when absent).
func (r *Result) Step(key string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Key == key {
			return &r.Steps[i]
		}
	}
	return nil
}

// StepKeys are the steps every complete run has, in table order.
var StepKeys = []string{
	"ingest_bare", "ingest",
	"transform_bare", "transform", "transform_runner", "transform_snapshot",
	"report",
	"month_ingest", "month_transform", "month", "full_rebuild",
	"whole_run",
}

type harness struct {
	c   Config
	res *Result
	env []string
	log io.Writer
}

// Run runs the benchmark. The result is returned (and written) even when a
// step failed: the failure is in its row, and err says which.
func Run(ctx context.Context, c Config) (*Result, error) {
	t0 := time.Now()
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Threads <= 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.Root == "" {
		r, err := findRoot()
		if err != nil {
			return nil, err
		}
		c.Root = r
	}
	for _, p := range []*string{&c.Observatoire, &c.CacheDir, &c.WorkDir, &c.Results, &c.JSON} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(c.Root, *p)
		}
	}
	if len(c.Bare) == 0 {
		return nil, errors.New("benchnational: no bare baseline command (Config.Bare)")
	}
	if _, err := os.Stat(c.Observatoire); err != nil {
		return nil, fmt.Errorf("benchnational: observatoire binary: %w (make build)", err)
	}
	h := &harness{c: c, log: c.Log}
	h.res = &Result{Machine: describeMachine(c.Observatoire), Scale: c.Scale}
	h.res.Machine.HostThreads, h.res.Machine.MemoryLimit = c.Threads, c.MemoryLimit
	h.res.Options = fmt.Sprintf("scale=%s months=%d to=%s threads=%d memory_limit=%s max_reject_share=%s",
		c.Scale, c.Months, c.To, c.Threads, c.MemoryLimit, c.MaxRejectShare)
	if c.Scale != demo.ScaleNational {
		h.res.Options += " departement=" + c.Departement
	}
	if c.Only != "" {
		h.res.Options += " only=" + c.Only
	}
	err := h.run(ctx)
	h.res.Machine.LoadAfter, _ = loadAvg1()
	h.res.Duration = time.Since(t0).Seconds()
	h.res.Goals = goals(h.res)
	if ctx.Err() != nil {
		// An interrupted run is not a result: the previous one stays published.
		err = errors.Join(err, fmt.Errorf("benchnational: interrupted (%w); %s and %s left as they were", ctx.Err(), c.Results, c.JSON))
	} else if werr := h.write(); werr != nil {
		err = errors.Join(err, werr)
	}
	if !c.Keep {
		for _, f := range []string{"warehouse.duckdb", "warehouse.duckdb.wal", "snapshot.duckdb", "snapshot.duckdb.wal"} {
			os.Remove(filepath.Join(c.WorkDir, f))
		}
	}
	return h.res, err
}

func findRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("benchnational: no go.mod above the working directory (set Config.Root)")
		}
		d = p
	}
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (h *harness) run(ctx context.Context) error {
	c := h.c
	work := c.WorkDir
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(work, "logs"), 0o755); err != nil {
		return err
	}
	o := demo.Options{Scale: c.Scale, Departements: []string{c.Departement}, Seed: 1, To: c.To, Months: c.Months, BadRows: true}
	if c.Scale == demo.ScaleNational {
		o.Departements = nil
	}
	ds, err := prepareDataset(ctx, c.Root, c.CacheDir, o, h.log)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	h.res.Dataset = ds
	if n, err := warmCache(ds.Base, ds.Next); err == nil {
		h.logf("page cache warmed: %.2f GB read", float64(n)/1e9)
	}

	// Subprocess environment: no configuration file or OBSERVATOIRE_*
	// variable of the caller leaks in; everything lands in the work folder.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OBSERVATOIRE_") {
			h.env = append(h.env, kv)
		}
	}
	h.env = append(h.env,
		"OBSERVATOIRE_REPORTS="+filepath.Join(work, "site"),
		"OBSERVATOIRE_SNAPSHOT="+filepath.Join(work, "snapshot.duckdb"),
		"OBSERVATOIRE_INBOX="+filepath.Join(work, "inbox"),
		"OBSERVATOIRE_MAX_REJECT_SHARE="+c.MaxRejectShare,
		"OBSERVATOIRE_SQL_HISTORY=off",
	)
	wh := filepath.Join(work, "warehouse.duckdb")
	var errs []error
	fail := func(s *Step, p proc) {
		if p.ExitErr != nil {
			s.Err = p.ExitErr.Error()
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, p.ExitErr))
			h.logf("FAILED %s: %v", s.Name, p.ExitErr)
		}
	}

	// 1. Ingest: bare read_csv, then observatoire.
	bareDB := filepath.Join(work, "bare_ingest.duckdb")
	p, bi := h.bare(ctx, "ingest_bare", "ingest", "-db", bareDB, "-dir", ds.Base)
	st := h.step("ingest_bare", "ingest: bare DuckDB read_csv (CTAS per source)", "bare ingest", p)
	if bi, ok := bi.(*BareIngestResult); ok {
		st.Count = bi.Rows
		h.res.Machine.DuckDB = bi.DuckDB
		st.Note = fmt.Sprintf("%d CSV files; %d XLSX workbooks not read (no excel extension in the build)", ds.Files-len(bi.Skipped), len(bi.Skipped))
	}
	fail(st, p)
	bareIngest, _ := bi.(*BareIngestResult)
	os.Remove(bareDB)
	os.Remove(bareDB + ".wal")

	p = h.obs(ctx, "ingest", "ingest", "--demo", ds.Base)
	st = h.step("ingest", "ingest --demo (validate, pseudonymise, ledger, 1 tx/file)", "observatoire ingest --demo", p)
	st.Count = ds.TotalRows()
	if nf, read, _, rej, ok := parseIngestTotal(p.Stdout); ok {
		st.Count = read
		st.Note = fmt.Sprintf("%d files, %d rows rejected to quarantine", nf, rej)
	}
	h.res.Ingest = ingestBySource(parseIngestLog(p.Stderr, p.Start))
	if bareIngest != nil {
		for i := range h.res.Ingest {
			for _, b := range bareIngest.Sources {
				if b.Source == h.res.Ingest[i].Source {
					h.res.Ingest[i].BareSeconds = b.Seconds
				}
			}
		}
	}
	st.Baseline = "ingest_bare"
	fail(st, p)
	ingestOK := p.ExitErr == nil
	if c.Only == "ingest" {
		ratios(h.res)
		return errors.Join(errs...)
	}

	// 2. Transform: bare SQL on a copy of the post-ingest warehouse, then
	// the runner on the warehouse itself.
	copyDB := filepath.Join(work, "bare_transform.duckdb")
	if err := copyWarehouse(wh, copyDB); err != nil {
		errs = append(errs, fmt.Errorf("copy the warehouse: %w", err))
	}
	p, bt := h.bare(ctx, "transform_bare", "transform", "-db", copyDB)
	st = h.step("transform_bare", "transform: bare DuckDB, the models' SQL + data tests", "bare transform", p)
	bareTr, _ := bt.(*BareTransformResult)
	if bareTr != nil {
		for _, m := range bareTr.Models {
			st.Count += m.Rows
		}
		st.Note = fmt.Sprintf("builds %.1fs + data tests %.1fs", bareTr.Build, bareTr.Tests)
		if h.res.Machine.DuckDB == "" {
			h.res.Machine.DuckDB = bareTr.DuckDB
		}
	}
	fail(st, p)
	os.Remove(copyDB)
	os.Remove(copyDB + ".wal")

	p = h.obs(ctx, "transform", "transform", "--full-refresh")
	st = h.step("transform", "transform --full-refresh (command)", "observatoire transform --full-refresh", p)
	tl := parseTransformLog(p.Stderr)
	st.Count = tl.Rows
	if nm, nf, ok := parseTransformDone(p.Stdout); ok {
		st.Note = fmt.Sprintf("%d models, %d data tests failed", nm, nf)
	}
	fail(st, p)
	transformOK := p.ExitErr == nil
	cmdWall := st.Wall
	h.res.Models = tl.Models
	if bareTr != nil {
		for i := range h.res.Models {
			for _, b := range bareTr.Models {
				if b.Name == h.res.Models[i].Name {
					h.res.Models[i].BareBuild, h.res.Models[i].BareTests, h.res.Models[i].BareRows = b.Build, b.Tests, b.Rows
				}
			}
		}
	}
	h.res.Steps = append(h.res.Steps,
		Step{Key: "transform_runner", Name: "  runner: models + data tests (command - snapshot)", Wall: cmdWall - tl.Snapshot.Seconds(),
			Count: tl.Rows, Unit: "rows", Baseline: "transform_bare", Part: true},
		Step{Key: "transform_snapshot", Name: "  analyst snapshot published after it", Wall: tl.Snapshot.Seconds(), Unit: "rows", Part: true,
			Note: "copy of the warehouse for analysts (internal/analyst)"})

	// 3. Report.
	p = h.obs(ctx, "report", "report")
	st = h.step("report", "report (HTML site + standalone files)", "observatoire report", p)
	st.Unit = "pages"
	if pages, sa, d, ok := parseReport(p.Stdout); ok {
		st.Count = pages
		st.Note = fmt.Sprintf("%d standalone files; %.0f pages/s inside reports.Build (%.1fs)", sa, float64(pages)/d.Seconds(), d.Seconds())
	}
	fail(st, p)

	// 4. One new month, incrementally: its files, then transform without
	// --full-refresh (the monthly job's ingest and transform).
	p = h.obs(ctx, "month_ingest", "ingest", "--demo", ds.Next)
	st = h.step("month_ingest", fmt.Sprintf("new month %s: ingest --demo", ds.NextMonth), "observatoire ingest --demo NEXT", p)
	st.Count = sum(ds.NextRows)
	if nf, read, _, _, ok := parseIngestTotal(p.Stdout); ok {
		st.Count = read
		st.Note = fmt.Sprintf("%d files", nf)
	}
	fail(st, p)
	p = h.obs(ctx, "month_transform", "transform")
	st = h.step("month_transform", fmt.Sprintf("new month %s: transform (incremental)", ds.NextMonth), "observatoire transform", p)
	mtl := parseTransformLog(p.Stderr)
	st.Count = mtl.Rows
	h.res.Month = mtl.Models
	st.Note = fmt.Sprintf("full_refresh=%s, window %s..%s; of which analyst snapshot %.1fs", mtl.FullRefresh, mtl.Since, mtl.Until, mtl.Snapshot.Seconds())
	if mtl.FullRefresh != "false" {
		h.res.Warnings = append(h.res.Warnings, "the new month's transform did not run incrementally (full_refresh="+mtl.FullRefresh+")")
	}
	fail(st, p)

	// Sums.
	get := func(k string) Step {
		if s := h.res.Step(k); s != nil {
			return *s
		}
		return Step{}
	}
	sumSteps := func(key, name string, keys ...string) Step {
		s := Step{Key: key, Name: name, Unit: "rows", Part: true}
		var parts []string
		for _, k := range keys {
			x := get(k)
			s.Wall += x.Wall
			s.CPU += x.CPU
			s.MaxRSS = max(s.MaxRSS, x.MaxRSS)
			if x.Unit == "rows" && strings.Contains(k, "ingest") {
				s.Count += x.Count
			}
			if x.Err != "" {
				s.Err = "a part failed"
			}
			parts = append(parts, k)
		}
		s.Note = "sum of " + strings.Join(parts, " + ")
		return s
	}
	month := sumSteps("month", "one new month: ingest + transform", "month_ingest", "month_transform")
	full := sumSteps("full_rebuild", "full rebuild: ingest + transform --full-refresh", "ingest", "transform")
	month.Baseline = "full_rebuild"
	whole := sumSteps("whole_run", "whole national run: ingest + transform + report", "ingest", "transform", "report")
	h.res.Steps = append(h.res.Steps, month, full, whole)
	ratios(h.res)

	if !ingestOK || !transformOK {
		h.res.Warnings = append(h.res.Warnings, "a step failed: the numbers after it are of a partial warehouse")
	}
	return errors.Join(errs...)
}

// ratios fills Ratio from Baseline.
func ratios(r *Result) {
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Baseline == "" {
			continue
		}
		if b := r.Step(s.Baseline); b != nil && b.Wall > 0 && b.Err == "" {
			s.Ratio = s.Wall / b.Wall
			if b.CPU > 0 && s.CPU > 0 {
				s.CPURatio = s.CPU / b.CPU
			}
		}
	}
}

// step records a measured subprocess as a row.
func (h *harness) step(key, name, command string, p proc) *Step {
	h.res.Steps = append(h.res.Steps, Step{Key: key, Name: name, Command: command, Wall: p.Wall.Seconds(), CPU: p.CPU.Seconds(),
		MaxRSS: p.MaxRSS, Load: p.Load, Unit: "rows"})
	s := &h.res.Steps[len(h.res.Steps)-1]
	h.logf("%-16s %8.1fs wall  %8.1fs CPU  %6.0f MiB peak RSS  load %.1f%s", key, s.Wall, s.CPU, float64(s.MaxRSS)/(1<<20), s.Load, errSuffix(p.ExitErr))
	return s
}

func errSuffix(err error) string {
	if err != nil {
		return "  FAILED"
	}
	return ""
}

// obs runs an observatoire command on the run's warehouse.
func (h *harness) obs(ctx context.Context, key string, args ...string) proc {
	ctx, cancel := context.WithTimeout(ctx, h.c.StepTimeout)
	defer cancel()
	argv := []string{h.c.Observatoire,
		"--warehouse", filepath.Join(h.c.WorkDir, "warehouse.duckdb"),
		"--threads", strconv.Itoa(h.c.Threads)}
	if h.c.MemoryLimit != "" {
		argv = append(argv, "--memory-limit", h.c.MemoryLimit)
	}
	argv = append(argv, args...)
	h.logf("%-16s observatoire %s", key, strings.Join(args, " "))
	return runProc(ctx, h.c.WorkDir, h.env, filepath.Join(h.c.WorkDir, "logs", key+".log"), argv...)
}

// bare runs a baseline and decodes its JSON result.
func (h *harness) bare(ctx context.Context, key, what string, args ...string) (proc, any) {
	ctx, cancel := context.WithTimeout(ctx, h.c.StepTimeout)
	defer cancel()
	argv := append(append([]string{}, h.c.Bare...), what, "-threads", strconv.Itoa(h.c.Threads))
	if h.c.MemoryLimit != "" {
		argv = append(argv, "-memory-limit", h.c.MemoryLimit)
	}
	argv = append(argv, args...)
	h.logf("%-16s bare %s", key, what)
	p := runProc(ctx, h.c.WorkDir, append(append([]string{}, h.env...), h.c.BareEnv...), filepath.Join(h.c.WorkDir, "logs", key+".log"), argv...)
	if p.ExitErr != nil {
		return p, nil
	}
	var v any
	switch what {
	case "ingest":
		v = &BareIngestResult{}
	case "transform":
		v = &BareTransformResult{}
	}
	if err := json.Unmarshal([]byte(p.Stdout), v); err != nil {
		p.ExitErr = fmt.Errorf("bare %s: its output is not JSON: %w", what, err)
		return p, nil
	}
	return p, v
}

// copyWarehouse copies a closed DuckDB file (and its WAL, if any).
func copyWarehouse(src, dst string) error {
	for _, suf := range []string{"", ".wal"} {
		os.Remove(dst + suf)
		in, err := os.Open(src + suf)
		if err != nil {
			if suf != "" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		out, err := os.Create(dst + suf)
		if err != nil {
			in.Close()
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
