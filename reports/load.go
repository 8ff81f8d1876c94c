package reports

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// territory is one row of ref.territory, linked to its parent and children.
type territory struct {
	idx                     int
	Level, Code, Name       string
	ParentLevel, ParentCode string
	Population              float64
	parent                  *territory
	children                []*territory // natural children, or covered communes for an RPE area
	rpes                    []*territory // RPE areas overlapping the territory (freshness)
	communes                []string     // commune codes inside the territory (commune map)
	deps                    map[string]bool
	page                    bool // gets its own report
}

func (t *territory) key() string { return t.Level + "/" + t.Code }

// period is one reporting period found in the published indicators.
type period struct {
	idx      int
	Kind     string // month, quarter, year
	Code     string // 2025-03, 2025-T1, 2025
	Start    time.Time
	selected bool // gets report pages
}

// End returns the first day after the period.
func (p *period) End() time.Time {
	switch p.Kind {
	case "month":
		return p.Start.AddDate(0, 1, 0)
	case "quarter":
		return p.Start.AddDate(0, 3, 0)
	}
	return p.Start.AddDate(1, 0, 0)
}

// cell is one published figure. NaN stands for NULL.
type cell struct {
	value, parentValue, diffParent, prevValue, prevYearValue float64
	rank, peers, quartile                                    int32
	masked                                                   bool
}

// block holds the figures of one territory for one period (sparse).
type block struct {
	ids   []uint16
	cells []cell
	index []int16 // indicator id -> position in cells, -1 when absent (built after the load)
}

func (b *block) get(id int) (cell, bool) {
	if b == nil || id < 0 {
		return cell{}, false
	}
	if b.index != nil {
		if id >= len(b.index) || b.index[id] < 0 {
			return cell{}, false
		}
		return b.cells[b.index[id]], true
	}
	for i, x := range b.ids {
		if int(x) == id {
			return b.cells[i], true
		}
	}
	return cell{}, false
}

// buildIndexes gives every block a direct index by indicator id.
func (w *warehouse) buildIndexes() {
	n := len(w.inds)
	for _, b := range w.blocks {
		b.index = make([]int16, n)
		for i := range b.index {
			b.index[i] = -1
		}
		for i, id := range b.ids {
			b.index[id] = int16(i)
		}
	}
}

type bkey struct {
	t int32
	p int32
}

type catalogEntry struct {
	Indicator, Label, Unit, Description, Formula, Source, Theme string
}

type ledgerEntry struct {
	Source, Sender, Period string
	LoadedAt               time.Time
}

// warehouse is everything a build reads, loaded with a few set-based queries.
type warehouse struct {
	terrs     []*territory
	byKey     map[string]*territory
	periods   []*period // sorted by kind then start
	byPeriod  map[string]*period
	inds      []string
	indID     map[string]int
	catalog   map[string]catalogEntry
	blocks    map[bkey]*block
	ledger    []ledgerEntry
	hasLedger bool
	france    *territory
	deps      []*territory    // départements, by code (choropleth)
	rpeCodes  map[string]bool // codes of RPE areas (file ledger senders)
	// communeTerritory: level/code -> commune codes (from ref.commune_territory)
	loadTime time.Duration
}

func (w *warehouse) ind(name string) int {
	if id, ok := w.indID[name]; ok {
		return id
	}
	return -1
}

func (w *warehouse) block(t *territory, p *period) *block {
	return w.blocks[bkey{int32(t.idx), int32(p.idx)}]
}

func (w *warehouse) cell(t *territory, p *period, name string) (cell, bool) {
	if t == nil || p == nil {
		return cell{}, false
	}
	return w.block(t, p).get(w.ind(name))
}

// label, unit and source of an indicator: catalog first, defaults after.
func (w *warehouse) label(name string) string {
	if c, ok := w.catalog[name]; ok && c.Label != "" {
		return c.Label
	}
	if d, ok := defaultIndicators[name]; ok {
		return d.label
	}
	return name
}

func (w *warehouse) unit(name string) string {
	if c, ok := w.catalog[name]; ok && c.Unit != "" {
		return c.Unit
	}
	if d, ok := defaultIndicators[name]; ok {
		return d.unit
	}
	return "count"
}

func (w *warehouse) source(name string) string {
	if c, ok := w.catalog[name]; ok && c.Source != "" {
		return c.Source
	}
	if d, ok := defaultIndicators[name]; ok {
		return d.source
	}
	return "source inconnue"
}

func tableExists(ctx context.Context, db *sql.DB, schema, name string) bool {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`, schema, name).Scan(&n)
	return err == nil && n > 0
}

func load(ctx context.Context, db *sql.DB, opt Options) (*warehouse, error) {
	start := time.Now()
	w := &warehouse{byKey: map[string]*territory{}, byPeriod: map[string]*period{}, indID: map[string]int{},
		catalog: map[string]catalogEntry{}, blocks: map[bkey]*block{}}

	// Territories.
	rows, err := db.QueryContext(ctx, `SELECT level, code, coalesce(name, code), coalesce(parent_level, ''), coalesce(parent_code, ''), coalesce(population, 0)::DOUBLE FROM ref.territory`)
	if err != nil {
		return nil, fmt.Errorf("reports: read ref.territory: %w", err)
	}
	for rows.Next() {
		t := &territory{}
		if err := rows.Scan(&t.Level, &t.Code, &t.Name, &t.ParentLevel, &t.ParentCode, &t.Population); err != nil {
			rows.Close()
			return nil, err
		}
		t.idx = len(w.terrs)
		w.terrs = append(w.terrs, t)
		w.byKey[t.key()] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range w.terrs {
		if t.ParentLevel != "" {
			t.parent = w.byKey[t.ParentLevel+"/"+t.ParentCode]
		}
		if t.parent != nil && t.Level != "rpe" {
			t.parent.children = append(t.parent.children, t)
		}
		if t.Level == "france" {
			w.france = t
		}
		switch t.Level {
		case "commune":
			t.page = float64(opt.MinCommunePopulation) < t.Population
		default:
			t.page = true
		}
	}

	// Membership of communes (RPE areas, communes of a territory, départements).
	members := map[*territory][]string{}
	if tableExists(ctx, db, "ref", "commune_territory") {
		rows, err := db.QueryContext(ctx, `SELECT commune, level, code FROM ref.commune_territory WHERE level <> 'commune'`)
		if err != nil {
			return nil, fmt.Errorf("reports: read ref.commune_territory: %w", err)
		}
		for rows.Next() {
			var c, l, code string
			if err := rows.Scan(&c, &l, &code); err != nil {
				rows.Close()
				return nil, err
			}
			if t := w.byKey[l+"/"+code]; t != nil {
				members[t] = append(members[t], c)
			}
		}
		rows.Close()
	}
	if len(members) == 0 {
		// Derive from the parent links.
		for _, t := range w.terrs {
			if t.Level != "commune" {
				continue
			}
			for a := t.parent; a != nil; a = a.parent {
				members[a] = append(members[a], t.Code)
			}
		}
	}
	communeDep := map[string]string{}
	for t, cs := range members {
		if t.Level == "departement" {
			for _, c := range cs {
				communeDep[c] = t.Code
			}
		}
	}
	rpeByDep := map[*territory][]*territory{}
	for _, t := range w.terrs {
		if t.Level == "rpe" && t.parent != nil {
			rpeByDep[t.parent] = append(rpeByDep[t.parent], t)
		}
	}
	communeRPE := map[string][]*territory{}
	for _, t := range w.terrs {
		if t.Level == "rpe" {
			for _, c := range members[t] {
				communeRPE[c] = append(communeRPE[c], t)
				if ct := w.byKey["commune/"+c]; ct != nil {
					t.children = append(t.children, ct)
				}
			}
		}
	}
	for _, t := range w.terrs {
		t.deps = map[string]bool{}
		switch t.Level {
		case "commune":
			t.communes = []string{t.Code}
		case "departement":
			t.deps[t.Code] = true
			t.communes = members[t]
		default:
			t.communes = members[t]
		}
		if t.Level == "rpe" && t.parent != nil && t.parent.Level == "departement" {
			t.deps[t.parent.Code] = true
		}
		seen := map[*territory]bool{}
		for _, c := range t.communes {
			if d := communeDep[c]; d != "" {
				t.deps[d] = true
			}
			for _, r := range communeRPE[c] {
				if !seen[r] && r != t {
					seen[r] = true
					t.rpes = append(t.rpes, r)
				}
			}
		}
		if t.Level == "rpe" {
			t.rpes = []*territory{t}
		}
		if t.Level == "region" || t.Level == "france" {
			for _, c := range t.children {
				if c.Level == "departement" {
					t.deps[c.Code] = true
				}
				for _, cc := range c.children {
					if cc.Level == "departement" {
						t.deps[cc.Code] = true
					}
				}
			}
		}
		if t.Level == "departement" {
			for _, r := range rpeByDep[t] {
				if !seen[r] {
					seen[r] = true
					t.rpes = append(t.rpes, r)
				}
			}
		}
		sort.Slice(t.rpes, func(i, j int) bool { return t.rpes[i].Name < t.rpes[j].Name })
	}

	w.rpeCodes = map[string]bool{}
	for _, t := range w.terrs {
		switch t.Level {
		case "departement":
			w.deps = append(w.deps, t)
		case "rpe":
			w.rpeCodes[t.Code] = true
		}
	}
	sort.Slice(w.deps, func(i, j int) bool { return w.deps[i].Code < w.deps[j].Code })

	// Catalog.
	if tableExists(ctx, db, "mart", "indicator_catalog") {
		rows, err := db.QueryContext(ctx, `SELECT indicator, coalesce(label,''), coalesce(unit,''), coalesce(description,''), coalesce(formula,''), coalesce(source,''), coalesce(theme,'') FROM mart.indicator_catalog`)
		if err != nil {
			return nil, fmt.Errorf("reports: read mart.indicator_catalog: %w", err)
		}
		for rows.Next() {
			var c catalogEntry
			if err := rows.Scan(&c.Indicator, &c.Label, &c.Unit, &c.Description, &c.Formula, &c.Source, &c.Theme); err != nil {
				rows.Close()
				return nil, err
			}
			w.catalog[c.Indicator] = c
		}
		rows.Close()
	}

	// File ledger (data freshness), when the ingest stage keeps one.
	if tableExists(ctx, db, "meta", "file_ledger") {
		w.hasLedger = true
		rows, err := db.QueryContext(ctx, `SELECT coalesce(source,''), coalesce(sender,''), coalesce(CAST(period AS VARCHAR),''), loaded_at FROM meta.file_ledger`)
		if err != nil {
			return nil, fmt.Errorf("reports: read meta.file_ledger: %w", err)
		}
		for rows.Next() {
			var e ledgerEntry
			var at sql.NullTime
			if err := rows.Scan(&e.Source, &e.Sender, &e.Period, &at); err != nil {
				rows.Close()
				return nil, err
			}
			e.LoadedAt = at.Time
			w.ledger = append(w.ledger, e)
		}
		rows.Close()
	}

	// The period calendar, through the macro like every figure.
	if err := w.loadCalendar(ctx, db, opt.MinCount); err != nil {
		return nil, err
	}
	if err := w.selectPeriods(opt); err != nil {
		return nil, err
	}
	if err := w.loadFigures(ctx, db, opt); err != nil {
		return nil, err
	}
	w.buildIndexes()
	w.loadTime = time.Since(start)
	if os.Getenv("OBSERVATOIRE_REPORT_TRACE") != "" {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		cells := 0
		for _, b := range w.blocks {
			cells += len(b.cells)
		}
		fmt.Fprintf(os.Stderr, "loaded: %d territories, %d periods, %d blocks, %d figures, Go heap %d MiB\n",
			len(w.terrs), len(w.periods), len(w.blocks), cells, ms.HeapAlloc>>20)
	}
	return w, nil
}

// trendMonths bounds the months drawn in the trend charts (trendPeriods).
const trendMonths = 24

// loadFigures reads the published figures the pages need, two queries per
// period kind. Their WHERE starts with conditions DuckDB pushes into the
// scans under the macro (period kind and a period_start range: into both
// sides when the macro joins mart.indicator to mart.indicator_mask on these
// keys) and a constant code list it turns into a small hash join on the
// indicator scan, so the macro's work is done on the wanted rows only,
// never on the whole mart:
//
//   - territories with a report (every level, communes above the size
//     threshold): every figure of the reported periods, and the trend
//     indicators of the periods drawn in trend charts (the last 24 months
//     before a reported month or quarter, every year);
//   - the other communes: the few figures of the reported periods shown in
//     their parent's bars and maps.
func (w *warehouse) loadFigures(ctx context.Context, db *sql.DB, opt Options) error {
	type need struct{ sel, trend []time.Time }
	needs := map[string]*need{}
	get := func(kind string) *need {
		if needs[kind] == nil {
			needs[kind] = &need{}
		}
		return needs[kind]
	}
	trendSet := map[*period]bool{}
	b := &builder{w: w, opt: opt}
	for _, p := range w.periods {
		if !p.selected {
			continue
		}
		get(p.Kind).sel = append(get(p.Kind).sel, p.Start)
		for _, q := range b.trendPeriods(p) {
			trendSet[q] = true
		}
	}
	if len(needs) == 0 {
		return nil
	}
	for _, q := range w.periods {
		if trendSet[q] {
			get(q.Kind).trend = append(get(q.Kind).trend, q.Start)
		}
	}
	// Codes of the territories with a report: a constant IN list at the top
	// of the WHERE clause, which DuckDB turns into a small hash join on the
	// indicator scan. (Codes of different levels
	// may be equal, e.g. région and département 53: the level is checked
	// when the rows are read, and both have reports anyway.)
	var pages []string
	seen := map[string]bool{}
	for _, t := range w.terrs {
		if t.page && !seen[t.Code] {
			seen[t.Code] = true
			pages = append(pages, t.Code)
		}
	}
	cols := fmt.Sprintf(`SELECT p.level, p.code, p.period, p.indicator, p.value, p.parent_value, p.diff_parent,
		CAST(p.rank AS BIGINT), CAST(p.peers AS BIGINT), CAST(p.quartile AS BIGINT), p.prev_value, p.prev_year_value,
		coalesce(p.masked, false), p.period_kind, CAST(p.period_start AS VARCHAR)
	FROM mart.published_indicator(%d) p`, opt.MinCount)
	span := func(ds []time.Time) (lo, hi string) {
		l, h := ds[0], ds[0]
		for _, d := range ds {
			if d.Before(l) {
				l = d
			}
			if d.After(h) {
				h = d
			}
		}
		return l.Format("2006-01-02"), h.Format("2006-01-02")
	}
	for _, kind := range []string{"year", "quarter", "month"} {
		n := needs[kind]
		if n == nil || len(pages) == 0 {
			continue
		}
		// Territories with a report: every figure of the reported periods,
		// the trend indicators of the trend periods.
		lo, hi := span(append(append([]time.Time{}, n.sel...), n.trend...))
		what := "list_contains(" + dateList(n.sel) + ", p.period_start)"
		if len(n.trend) > 0 {
			what = "(" + what + " OR (list_contains(" + sqlArray(trendIndicators()) + ", p.indicator) AND list_contains(" + dateList(n.trend) + ", p.period_start)))"
		}
		q := fmt.Sprintf("%s\nWHERE p.period_kind = '%s' AND p.period_start BETWEEN DATE '%s' AND DATE '%s' AND p.code IN (%s)\n  AND %s",
			cols, kind, lo, hi, sqlList(pages), what)
		if err := w.loadCellsTimed(ctx, db, q, false, kind+" pages"); err != nil {
			return err
		}
		// Communes without a report: the figures of the reported periods
		// shown in their parent's bars and maps.
		if len(n.sel) == 0 {
			continue
		}
		lo, hi = span(n.sel)
		q = fmt.Sprintf(`%s
WHERE p.period_kind = '%s' AND p.period_start BETWEEN DATE '%s' AND DATE '%s' AND p.level = 'commune'
  AND list_contains(%s, p.period_start) AND list_contains(%s, p.indicator)`,
			cols, kind, lo, hi, dateList(n.sel), sqlArray(smallCommuneIndicators()))
		if err := w.loadCellsTimed(ctx, db, q, true, kind+" communes"); err != nil {
			return err
		}
	}
	return nil
}

func (w *warehouse) loadCellsTimed(ctx context.Context, db *sql.DB, q string, skipPages bool, what string) error {
	t0, c0 := time.Now(), processCPU()
	if err := w.loadCells(ctx, db, q, skipPages); err != nil {
		return err
	}
	if os.Getenv("OBSERVATOIRE_REPORT_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "%s: %v cpu %v blocks %d\n", what, time.Since(t0), processCPU()-c0, len(w.blocks))
	}
	return nil
}

func dateList(ds []time.Time) string {
	q := make([]string, len(ds))
	for i, d := range ds {
		q[i] = "DATE '" + d.Format("2006-01-02") + "'"
	}
	return "[" + strings.Join(q, ",") + "]"
}

func sqlArray(xs []string) string { return "[" + sqlList(xs) + "]" }

func sqlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return strings.Join(q, ",")
}

// loadCalendar reads the periods (kind, code, start) of the published
// indicators, through the macro: France's rows (every figure of every level
// adds up to France), which DuckDB filters on both sides of the macro's
// join; all rows if there are none.
func (w *warehouse) loadCalendar(ctx context.Context, db *sql.DB, k int) error {
	for _, where := range []string{"WHERE level = 'france'", ""} {
		rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT period_kind, period, CAST(period_start AS VARCHAR) FROM mart.published_indicator(%d) %s`, k, where))
		if err != nil {
			return fmt.Errorf("reports: read the period calendar: %w", err)
		}
		for rows.Next() {
			var kind, code, start string
			if err := rows.Scan(&kind, &code, &start); err != nil {
				rows.Close()
				return err
			}
			if _, ok := w.byPeriod[code]; ok {
				continue
			}
			st, err := time.Parse("2006-01-02", start[:min(10, len(start))])
			if err != nil {
				rows.Close()
				return fmt.Errorf("reports: period_start %q: %w", start, err)
			}
			p := &period{idx: len(w.periods), Kind: kind, Code: code, Start: st}
			w.periods = append(w.periods, p)
			w.byPeriod[code] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(w.periods) > 0 {
			break
		}
	}
	return nil
}

// selectPeriods orders the periods found and marks those that get pages.
func (w *warehouse) selectPeriods(opt Options) error {
	kindOrder := map[string]int{"year": 0, "quarter": 1, "month": 2}
	sort.Slice(w.periods, func(i, j int) bool {
		a, b := w.periods[i], w.periods[j]
		if a.Kind != b.Kind {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.Start.Before(b.Start)
	})
	// Blocks are keyed by period index: renumber them.
	remap := make(map[int32]int32, len(w.periods))
	for i, p := range w.periods {
		remap[int32(p.idx)] = int32(i)
		p.idx = i
	}
	blocks := make(map[bkey]*block, len(w.blocks))
	for k, b := range w.blocks {
		blocks[bkey{k.t, remap[k.p]}] = b
	}
	w.blocks = blocks
	if len(opt.Periods) > 0 {
		var unknown []string
		for _, c := range opt.Periods {
			if p := w.byPeriod[c]; p != nil {
				p.selected = true
			} else {
				unknown = append(unknown, c)
			}
		}
		if len(unknown) > 0 {
			return fmt.Errorf("reports: no published indicator for period %s (periods are written 2025, 2025-T1, 2025-03)", strings.Join(unknown, ", "))
		}
		return nil
	}
	// Default: every year, the latest quarter and the latest month.
	latest := map[string]*period{}
	for _, p := range w.periods {
		if p.Kind == "year" {
			p.selected = true
		}
		latest[p.Kind] = p
	}
	for _, k := range []string{"quarter", "month"} {
		if p := latest[k]; p != nil {
			p.selected = true
		}
	}
	return nil
}

// loadCells runs q through DuckDB's Arrow interface and fills w.blocks.
func (w *warehouse) loadCells(ctx context.Context, db *sql.DB, q string, skipPages bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("reports: read mart.published_indicator: %w", err)
		}
		defer rdr.Release()
		for rdr.Next() {
			if err := w.addRecord(rdr.RecordBatch(), skipPages); err != nil {
				return err
			}
		}
		return rdr.Err()
	})
}

func (w *warehouse) addRecord(rec arrow.RecordBatch, skipPages bool) error {
	n := int(rec.NumRows())
	str := func(i int) (func(int) string, error) {
		switch a := rec.Column(i).(type) {
		case *array.String:
			return a.Value, nil
		case *array.LargeString:
			return a.Value, nil
		case *array.StringView:
			return a.Value, nil
		}
		return nil, fmt.Errorf("reports: column %d: unexpected arrow type %s", i, rec.Column(i).DataType())
	}
	f64 := func(i int) func(int) float64 {
		a, ok := rec.Column(i).(*array.Float64)
		if !ok {
			return func(int) float64 { return math.NaN() }
		}
		return func(j int) float64 {
			if a.IsNull(j) {
				return math.NaN()
			}
			return a.Value(j)
		}
	}
	i64 := func(i int) func(int) int32 {
		a, ok := rec.Column(i).(*array.Int64)
		if !ok {
			return func(int) int32 { return 0 }
		}
		return func(j int) int32 {
			if a.IsNull(j) {
				return 0
			}
			return int32(a.Value(j))
		}
	}
	level, err := str(0)
	if err != nil {
		return err
	}
	code, err := str(1)
	if err != nil {
		return err
	}
	per, err := str(2)
	if err != nil {
		return err
	}
	ind, err := str(3)
	if err != nil {
		return err
	}
	value, pv, dp := f64(4), f64(5), f64(6)
	rank, peers, quart := i64(7), i64(8), i64(9)
	prev, prevY := f64(10), f64(11)
	masked, _ := rec.Column(12).(*array.Boolean)
	pkind, err := str(13)
	if err != nil {
		return err
	}
	pstart, err := str(14)
	if err != nil {
		return err
	}
	var keyBuf []byte
	for j := 0; j < n; j++ {
		keyBuf = append(append(append(keyBuf[:0], level(j)...), '/'), code(j)...)
		t := w.byKey[string(keyBuf)]
		if t == nil || skipPages && t.page {
			continue // a code missing from ref.territory: nothing to name it with
		}
		p := w.byPeriod[per(j)]
		if p == nil {
			st, err := time.Parse("2006-01-02", pstart(j)[:min(10, len(pstart(j)))])
			if err != nil {
				return fmt.Errorf("reports: period_start %q: %w", pstart(j), err)
			}
			p = &period{idx: len(w.periods), Kind: strings.Clone(pkind(j)), Code: strings.Clone(per(j)), Start: st}
			w.periods = append(w.periods, p)
			w.byPeriod[p.Code] = p
		}
		name := ind(j)
		id, ok := w.indID[name]
		if !ok {
			name = strings.Clone(name) // Arrow strings point into a buffer that is reused
			id = len(w.inds)
			w.inds = append(w.inds, name)
			w.indID[name] = id
		}
		k := bkey{int32(t.idx), int32(p.idx)}
		b := w.blocks[k]
		if b == nil {
			b = &block{}
			w.blocks[k] = b
		}
		c := cell{value: value(j), parentValue: pv(j), diffParent: dp(j), rank: rank(j), peers: peers(j),
			quartile: quart(j), prevValue: prev(j), prevYearValue: prevY(j)}
		if masked != nil && masked.IsValid(j) && masked.Value(j) {
			c.masked = true
			// The macro already nulls masked figures; never trust a value here.
			c.value, c.parentValue, c.diffParent, c.prevValue, c.prevYearValue = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		}
		b.ids = append(b.ids, uint16(id))
		b.cells = append(b.cells, c)
	}
	return nil
}
