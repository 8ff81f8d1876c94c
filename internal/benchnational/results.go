package benchnational

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The goals of issue 8 (on a 2-core machine).
const (
	GoalIngestRatio    = 1.3
	GoalTransformRatio = 1.1
	GoalWholeRun       = 120.0   // seconds
	GoalPeakRSS        = 3 << 30 // bytes
	GoalMonthShare     = 0.10
	GoalPagesPerSecond = 200.0
)

func goals(r *Result) []Goal {
	var out []Goal
	add := func(name, target string, ok bool, val float64, measured string, met bool) {
		if !ok {
			measured, met = "not measured (a step failed)", false
		}
		out = append(out, Goal{Name: name, Target: target, Measured: measured, Value: val, Met: met && ok, Known: ok})
	}
	ok := func(keys ...string) bool {
		for _, k := range keys {
			s := r.Step(k)
			if s == nil || s.Err != "" || s.Wall <= 0 {
				return false
			}
		}
		return true
	}
	if s := r.Step("ingest"); s != nil {
		add("ingest vs bare DuckDB read_csv", fmt.Sprintf("≤ %.1fx", GoalIngestRatio), ok("ingest", "ingest_bare"), s.Ratio,
			fmt.Sprintf("%.2fx wall (CPU %.2fx)", s.Ratio, s.CPURatio), s.Ratio <= GoalIngestRatio)
	}
	if s := r.Step("transform_runner"); s != nil {
		add("transform (runner) vs the same SQL on bare DuckDB", fmt.Sprintf("≤ %.1fx", GoalTransformRatio), ok("transform", "transform_bare"), s.Ratio,
			fmt.Sprintf("%.2fx (whole command incl. snapshot: %.2fx)", s.Ratio, ratioOf(r, "transform", "transform_bare")), s.Ratio <= GoalTransformRatio)
	}
	if s := r.Step("whole_run"); s != nil {
		add("whole run (ingest + transform + report)", fmt.Sprintf("≤ %.0f s", GoalWholeRun), ok("ingest", "transform", "report"), s.Wall,
			fmt.Sprintf("%.0f s", s.Wall), s.Wall <= GoalWholeRun)
	}
	var peak int64
	var peakStep string
	for _, s := range r.Steps {
		if s.Command != "" && !strings.HasPrefix(s.Command, "bare") && s.MaxRSS > peak {
			peak, peakStep = s.MaxRSS, s.Key
		}
	}
	add("peak RSS of any observatoire step", "≤ 3 GiB", peak > 0, float64(peak),
		fmt.Sprintf("%.2f GiB (%s)", float64(peak)/(1<<30), peakStep), peak <= GoalPeakRSS)
	if s := r.Step("month"); s != nil {
		share := 0.0
		if f := r.Step("full_rebuild"); f != nil && f.Wall > 0 {
			share = s.Wall / f.Wall
		}
		add("one new month vs full rebuild (ingest + transform)", fmt.Sprintf("≤ %.0f %%", 100*GoalMonthShare), ok("month_ingest", "month_transform", "ingest", "transform"), share,
			fmt.Sprintf("%.1f %% wall (CPU %.1f %%)", 100*share, 100*s.CPURatio), share <= GoalMonthShare)
	}
	if s := r.Step("report"); s != nil {
		add("report pages per second (whole command)", fmt.Sprintf("≥ %.0f", GoalPagesPerSecond), ok("report") && s.Count > 0, s.Rate(),
			fmt.Sprintf("%.1f pages/s", s.Rate()), s.Rate() >= GoalPagesPerSecond)
	}
	return out
}

func ratioOf(r *Result, a, b string) float64 {
	x, y := r.Step(a), r.Step(b)
	if x == nil || y == nil || y.Wall <= 0 {
		return 0
	}
	return x.Wall / y.Wall
}

// Markers delimit the generated section of the results file; the text
// around them (analysis, recommendations) is kept as written.
const (
	BeginMarker = "<!-- BEGIN GENERATED: make bench-national -->"
	EndMarker   = "<!-- END GENERATED -->"
)

func fnum(v float64, prec int) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func count(n int64) string {
	if n == 0 {
		return "–"
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f') // narrow no-break space, as in French
		}
		b.WriteRune(c)
	}
	return b.String()
}

func size(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.0f kB", float64(b)/1e3)
}

func mib(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

// Markdown renders the generated section: machine, table, goals, breakdowns.
func (r *Result) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Run of %s: %d cores (%s), %.1f GiB RAM, %s; %s; DuckDB %s (duckdb-go %s); observatoire at %s%s.\n",
		m.Date, m.CPUs, m.CPUModel, float64(m.MemTotal)/(1<<30), m.OS, m.GoVersion, m.DuckDB, m.DuckDBGo, short(m.Commit), map[bool]string{true: " with local changes", false: ""}[m.Modified])
	fmt.Fprintf(&b, "Every step ran with DuckDB threads=%d, memory_limit=%s. Load average (1 min) %.1f at the start, %.1f at the end; the column \"load\" is its mean during the step (the machine was shared when it is above %d).\n\n",
		m.HostThreads, orDefault(m.MemoryLimit), m.LoadBefore, m.LoadAfter, m.CPUs)
	if d := r.Dataset; d != nil {
		var srcs []string
		for k := range d.Rows {
			srcs = append(srcs, k)
		}
		sort.Strings(srcs)
		var parts []string
		for _, k := range srcs {
			parts = append(parts, fmt.Sprintf("%s %s", k, count(d.Rows[k])))
		}
		gen := "taken from the cache"
		if !d.Cached {
			gen = fmt.Sprintf("generated in %.0f s", d.Generated.Seconds())
		}
		fmt.Fprintf(&b, "Data set (%s, %s): %s to %s, %s files, %s, %s rows (%s; %s deliberately bad); new month %s: %d files, %s, %s rows.\n\n",
			r.Options, gen, d.From, d.To, count(int64(d.Files)), size(d.Bytes), count(d.TotalRows()), strings.Join(parts, ", "), count(d.Bad),
			d.NextMonth, d.NextFiles, size(d.NextBytes), count(sum(d.NextRows)))
	}
	b.WriteString("| step | wall s | CPU s | rows (pages) | per s | vs baseline | peak RSS MiB | load |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Steps {
		name := s.Name
		if s.Part {
			name = strings.Replace(name, "  ", "&nbsp;&nbsp;", 1)
		}
		ratio := "–"
		if s.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx %s", s.Ratio, s.Baseline)
			if s.CPURatio > 0 {
				ratio = fmt.Sprintf("%.2fx %s (CPU %.2fx)", s.Ratio, s.Baseline, s.CPURatio)
			}
			if s.Key == "month" {
				ratio = fmt.Sprintf("%.1f %% of full_rebuild (CPU %.1f %%)", 100*s.Ratio, 100*s.CPURatio)
			}
		}
		if s.Err != "" {
			name += " **FAILED**"
		}
		rate := fnum(s.Rate(), 0)
		if s.Unit == "pages" {
			rate = fnum(s.Rate(), 1) + " pages/s"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, fnum(s.Wall, 1), fnum(s.CPU, 1), count(s.Count), rate, ratio, mib(s.MaxRSS), fnum(s.Load, 1))
	}
	b.WriteString("\nNotes on the rows:\n\n")
	for _, s := range r.Steps {
		if s.Note != "" || s.Command != "" {
			cmd := ""
			if s.Command != "" {
				cmd = "`" + s.Command + "`; "
			}
			fmt.Fprintf(&b, "- %s: %s%s\n", s.Key, cmd, s.Note)
		}
	}
	b.WriteString("\n| goal | target | measured | met |\n|---|---|---|---|\n")
	for _, g := range r.Goals {
		met := "**no**"
		if g.Met {
			met = "yes"
		} else if !g.Known {
			met = "**unknown**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.Name, g.Target, g.Measured, met)
	}
	if len(r.Ingest) > 0 {
		b.WriteString("\nIngest by source (seconds from the gaps between ingest's per-file log lines; bare = the baseline's CTAS of the same files):\n\n")
		b.WriteString("| source | files | rows read | s | s/file | s/file, first → last tenth | rows/s | bare s | vs bare |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range r.Ingest {
			vs := "–"
			if s.BareSeconds > 0 {
				vs = fmt.Sprintf("%.1fx", s.Seconds/s.BareSeconds)
			}
			extra := ""
			if s.Refused+s.Failed > 0 {
				extra = fmt.Sprintf(" (%d refused, %d failed)", s.Refused, s.Failed)
			}
			dec := "–"
			if s.FirstDecile > 0 {
				dec = fmt.Sprintf("%.3f → %.3f", s.FirstDecile, s.LastDecile)
			}
			fmt.Fprintf(&b, "| %s%s | %d | %s | %.1f | %.3f | %s | %s | %s | %s |\n", s.Source, extra, s.Files, count(s.Read), s.Seconds,
				s.Seconds/float64(max(s.Files, 1)), dec, fnum(float64(s.Read)/max(s.Seconds, 1e-9), 0), fnum(s.BareSeconds, 1), vs)
		}
	}
	if len(r.Models) > 0 {
		b.WriteString("\nTransform by model, slowest first (runner: the model's time in its log, data tests included; bare: build + tests of the same SQL):\n\n")
		b.WriteString("| model | rows | runner s | bare build s | bare tests s | vs bare | new month s |\n|---|---:|---:|---:|---:|---:|---:|\n")
		ms := append([]ModelTime(nil), r.Models...)
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Secs > ms[j].Secs })
		month := map[string]ModelTime{}
		for _, m := range r.Month {
			month[m.Name] = m
		}
		for _, m := range ms {
			vs := "–"
			if bare := m.BareBuild + m.BareTests; bare > 0.05 {
				vs = fmt.Sprintf("%.2fx", m.Secs/bare)
			}
			mm := "–"
			if x, ok := month[m.Name]; ok {
				mm = fmt.Sprintf("%.2f (%s)", x.Secs, x.Mode)
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.2f | %s | %s |\n", m.Name, count(m.Rows), m.Secs, m.BareBuild, m.BareTests, vs, mm)
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s\n", w)
	}
	var failed []string
	for _, s := range r.Steps {
		if s.Err != "" && s.Command != "" {
			failed = append(failed, fmt.Sprintf("- %s:\n\n```\n%s\n```\n", s.Key, strings.TrimSpace(s.Err)))
		}
	}
	if len(failed) > 0 {
		b.WriteString("\nFailures:\n\n" + strings.Join(failed, "\n"))
	}
	fmt.Fprintf(&b, "\nThe benchmark took %.0f s in all (data set preparation and baselines included).\n", r.Duration)
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	if s == "" {
		return "an unknown commit"
	}
	return s
}

func orDefault(s string) string {
	if s == "" {
		return "DuckDB's default (80 % of RAM)"
	}
	return s
}

// write replaces the generated section of the results file (creating the
// file from a skeleton when missing) and writes the JSON.
func (h *harness) write() error {
	r := h.res
	if h.c.JSON != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(h.c.JSON), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(h.c.JSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if h.c.Results == "" {
		return nil
	}
	old, err := os.ReadFile(h.c.Results)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := ReplaceGenerated(string(old), r.Markdown())
	if err := os.MkdirAll(filepath.Dir(h.c.Results), 0o755); err != nil {
		return err
	}
	return os.WriteFile(h.c.Results, []byte(doc), 0o644)
}

// ReplaceGenerated puts section between the markers of doc, or appends
// the markers and section when doc has none (a new file gets a title).
func ReplaceGenerated(doc, section string) string {
	block := BeginMarker + "\n\n" + strings.TrimRight(section, "\n") + "\n\n" + EndMarker
	i := strings.Index(doc, BeginMarker)
	j := strings.Index(doc, EndMarker)
	if i >= 0 && j > i {
		return doc[:i] + block + doc[j+len(EndMarker):]
	}
	if strings.TrimSpace(doc) == "" {
		doc = "# Benchmarks\n\nGenerated by `make bench-national`.\n"
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
}

// Rerender rewrites the generated section of the results file from a JSON
// result (goals recomputed), e.g. after the report format changed, without
// running the benchmark again.
func Rerender(jsonPath, mdPath string) (*Result, error) {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	ratios(&r)
	r.Goals = goals(&r)
	h := &harness{c: Config{JSON: jsonPath, Results: mdPath}, res: &r}
	return &r, h.write()
}
