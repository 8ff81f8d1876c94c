package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A page is a list of sections; a section is a list of items (sentences,
// tables, charts). Everything is plain data: html/template escapes it.

type link struct {
	Text, Href string
	Current    bool
}

type tcell struct {
	Text   string
	Href   string
	Sort   string // numeric sort key, empty for masked or missing
	Masked bool
	Num    bool
}

type table struct {
	Caption  string
	Head     []string
	Rows     [][]tcell
	Sortable bool
	Masked   bool // has at least one masked cell: shows the legend
}

type item struct {
	Sentences []string
	Text      string
	Table     *table
	Chart     *chartBlock
}

type section struct {
	ID      string
	Title   string
	Missing string // when set the section is reduced to this line
	Items   []item
}

type pageModel struct {
	Title      string
	Kicker     string
	Subtitle   string
	Breadcrumb []link
	Periods    []link
	Related    []link
	Sections   []*section
	Generated  string
	MinCount   int
	Path       string // relative to the site root
	Territory  *territory
	Period     *period
	geoKey     string // commune map asset needed, if any
	chartN     int
}

func (pm *pageModel) newChart(label string, height int, unit string, obj map[string]any) *chartBlock {
	pm.chartN++
	cb := &chartBlock{ID: "c" + strconv.Itoa(pm.chartN), Label: label, Height: height, Unit: unit, Dec: decimals(unit)}
	if obj != nil {
		cb.Option = optionJSON(obj)
	}
	return cb
}

// builder holds what a page needs from the warehouse.
type builder struct {
	w   *warehouse
	opt Options
	geo *communeGeo

	depMaps    cache[*depMap]
	ledgerOnce sync.Once
	ledgerIdx  *ledgerIndex
}

// text of a figure for a table cell.
func (b *builder) fcell(name string, c cell, ok bool) tcell {
	switch {
	case !ok || (!c.masked && math.IsNaN(c.value)):
		return tcell{Text: "n.d.", Num: true}
	case c.masked:
		return tcell{Text: maskSymbol, Masked: true, Num: true}
	}
	return tcell{Text: fmtValue(c.value, b.w.unit(name)), Sort: strconv.FormatFloat(c.value, 'g', 8, 64), Num: true}
}

func (b *builder) pcell(name string, p point) tcell {
	switch {
	case p.masked:
		return tcell{Text: maskSymbol, Masked: true, Num: true}
	case p.missing:
		return tcell{Text: "n.d.", Num: true}
	}
	return tcell{Text: fmtValue(p.v, b.w.unit(name)), Sort: strconv.FormatFloat(p.v, 'g', 8, 64), Num: true}
}

func (t *table) addRow(r []tcell) {
	for _, c := range r {
		if c.Masked {
			t.Masked = true
		}
	}
	t.Rows = append(t.Rows, r)
}

// prevPeriod returns the period of the same kind before p, or the one a
// year before (back = 12 months).
func (b *builder) shiftPeriod(p *period, years int) *period {
	if years == 0 {
		for i := p.idx - 1; i >= 0; i-- {
			q := b.w.periods[i]
			if q.Kind == p.Kind {
				return q
			}
			break
		}
		return nil
	}
	target := p.Start.AddDate(-years, 0, 0)
	for _, q := range b.w.periods {
		if q.Kind == p.Kind && q.Start.Equal(target) {
			return q
		}
	}
	return nil
}

// safeCell returns the cell of t for p with the comparison figures that
// would reveal a masked figure elsewhere removed: the parent's value when the
// parent's own figure is masked, the previous values when those periods are
// masked (the macro masks a row's own figures; these guard the rest).
func (b *builder) safeCell(t *territory, p *period, name string) (cell, bool) {
	c, ok := b.w.cell(t, p, name)
	if !ok || c.masked {
		return c, ok
	}
	if t.parent != nil {
		if pc, pok := b.w.cell(t.parent, p, name); pok && pc.masked {
			c.parentValue, c.diffParent = math.NaN(), math.NaN()
		}
	}
	if q := b.shiftPeriod(p, 0); q != nil {
		if pc, pok := b.w.cell(t, q, name); pok && pc.masked {
			c.prevValue = math.NaN()
		}
	}
	if q := b.shiftPeriod(p, 1); q != nil {
		if pc, pok := b.w.cell(t, q, name); pok && pc.masked {
			c.prevYearValue = math.NaN()
		}
	}
	return c, ok
}

// missingLine says which sources are missing for a section.
func (b *builder) missingLine(title string, inds []string) string {
	var srcs []string
	seen := map[string]bool{}
	for _, n := range inds {
		s := b.w.source(n)
		if !seen[s] {
			seen[s] = true
			srcs = append(srcs, s)
		}
	}
	return title + " : aucune donnée pour ce territoire et cette période (source manquante : " + strings.Join(srcs, ", ") + ")."
}

func (b *builder) hasAny(t *territory, p *period, inds []string) bool {
	for _, n := range inds {
		if _, ok := b.w.cell(t, p, n); ok {
			return true
		}
	}
	return false
}

// figureTable lists indicators with their value, change and reference.
func (b *builder) figureTable(t *territory, p *period, inds []string, caption string, withRank bool) *table {
	tb := &table{Caption: caption}
	prev, prevY := b.shiftPeriod(p, 0), b.shiftPeriod(p, 1)
	head := []string{"Indicateur", "Valeur"}
	head = append(head, "Évolution depuis "+periodLabelShort(prev, p))
	if p.Kind != "year" {
		head = append(head, "Évolution sur un an")
	}
	if t.parent != nil {
		head = append(head, "Référence : "+t.parent.Name, "Écart à la référence")
	}
	if withRank {
		head = append(head, "Rang parmi les "+lowerLevel(levelPlural[t.Level]))
	}
	tb.Head = head
	_ = prevY
	for _, n := range inds {
		c, ok := b.safeCell(t, p, n)
		if !ok {
			continue
		}
		unit := b.w.unit(n)
		row := []tcell{{Text: b.w.label(n)}, b.fcell(n, c, ok)}
		row = append(row, b.changeCell(c, c.prevValue, unit))
		if p.Kind != "year" {
			row = append(row, b.changeCell(c, c.prevYearValue, unit))
		}
		if t.parent != nil {
			if c.masked || math.IsNaN(c.parentValue) {
				pc := tcell{Text: "n.d.", Num: true}
				if c.masked {
					pc = tcell{Text: maskSymbol, Masked: true, Num: true}
				} else if parc, pok := b.w.cell(t.parent, p, n); pok && parc.masked {
					pc = tcell{Text: maskSymbol, Masked: true, Num: true}
				}
				row = append(row, pc, pc)
			} else {
				row = append(row, tcell{Text: fmtValue(c.parentValue, unit), Num: true}, b.diffCell(c, unit))
			}
		}
		if withRank {
			r := tcell{Text: "n.d.", Num: true}
			if c.rank > 0 && c.peers > 0 && !c.masked {
				r = tcell{Text: fmt.Sprintf("%s sur %s (Q%d)", ordinal(int(c.rank)), frNumber(float64(c.peers), 0), c.quartile), Num: true}
			} else if c.masked {
				r = tcell{Text: maskSymbol, Masked: true, Num: true}
			}
			row = append(row, r)
		}
		tb.addRow(row)
	}
	if len(tb.Rows) == 0 {
		return nil
	}
	return tb
}

func ordinal(n int) string {
	if n == 1 {
		return "1er"
	}
	return strconv.Itoa(n) + "e"
}

func periodLabelShort(_, p *period) string {
	return frPeriod(previousCode(p))
}

// previousCode is the code of the period before p, of the same kind.
func previousCode(p *period) string {
	switch p.Kind {
	case "month":
		return p.Start.AddDate(0, -1, 0).Format("2006-01")
	case "quarter":
		s := p.Start.AddDate(0, -3, 0)
		return s.Format("2006") + "-T" + strconv.Itoa((int(s.Month())-1)/3+1)
	}
	return p.Start.AddDate(-1, 0, 0).Format("2006")
}

func (b *builder) changeCell(c cell, before float64, unit string) tcell {
	if c.masked {
		return tcell{Text: maskSymbol, Masked: true, Num: true}
	}
	if math.IsNaN(before) || math.IsNaN(c.value) {
		return tcell{Text: "n.d.", Num: true}
	}
	d := c.value - before
	return tcell{Text: fmtChange(d, unit), Sort: strconv.FormatFloat(d, 'g', 8, 64), Num: true}
}

func (b *builder) diffCell(c cell, unit string) tcell {
	d := c.diffParent
	if math.IsNaN(d) {
		d = c.value - c.parentValue
	}
	return tcell{Text: fmtChange(d, unit), Sort: strconv.FormatFloat(d, 'g', 8, 64), Num: true}
}

// trendPeriods are the periods drawn in trend charts for a page of p: the
// last 24 months up to its end (years for a yearly page).
func (b *builder) trendPeriods(p *period) []*period {
	kind := "month"
	if p.Kind == "year" {
		kind = "year"
	}
	end := p.End()
	var out []*period
	for _, q := range b.w.periods {
		if q.Kind == kind && q.Start.Before(end) {
			out = append(out, q)
		}
	}
	if kind == "month" && len(out) > 24 {
		out = out[len(out)-24:]
	}
	return out
}

// trendBlock draws indicators over time with their table.
func (b *builder) trendBlock(pm *pageModel, t *territory, p *period, inds []string, label string) []item {
	ps := b.trendPeriods(p)
	var ss []series
	var used []string
	for _, n := range inds {
		s := series{name: b.w.label(n)}
		any := false
		for _, q := range ps {
			c, ok := b.w.cell(t, q, n)
			pt := pointOf(c, ok)
			if !pt.missing {
				any = true
			}
			s.points = append(s.points, pt)
		}
		if any {
			ss = append(ss, s)
			used = append(used, n)
		}
	}
	if len(ss) == 0 || len(ps) < 2 {
		return nil
	}
	cats := make([]string, len(ps))
	for i, q := range ps {
		cats[i] = frPeriod(q.Code)
	}
	unit := b.w.unit(used[0])
	ch := pm.newChart(label, 300, unit, lineChart(cats, ss))
	tb := &table{Caption: label + " (données du graphique)", Head: append([]string{"Période"}, labels(b.w, used)...)}
	for i, c := range cats {
		row := []tcell{{Text: c}}
		for j, s := range ss {
			row = append(row, b.pcell(used[j], s.points[i]))
		}
		tb.addRow(row)
	}
	return []item{{Chart: ch}, {Table: tb}}
}

func labels(w *warehouse, inds []string) []string {
	out := make([]string, len(inds))
	for i, n := range inds {
		out[i] = w.label(n)
	}
	return out
}

// barBlock draws one bar per indicator of a breakdown.
func (b *builder) barBlock(pm *pageModel, t *territory, p *period, inds []string, label, catHead string) []item {
	var cats []string
	var pts []point
	var used []string
	for _, n := range inds {
		c, ok := b.w.cell(t, p, n)
		if !ok {
			continue
		}
		cats = append(cats, b.w.label(n))
		pts = append(pts, pointOf(c, ok))
		used = append(used, n)
	}
	if len(used) == 0 {
		return nil
	}
	unit := b.w.unit(used[0])
	ch := pm.newChart(label, 40+28*len(cats), unit, barChart(cats, []series{{name: label, points: pts}}, true, false, unit))
	tb := &table{Caption: label + " (données du graphique)", Head: []string{catHead, "Valeur"}}
	for i := range cats {
		tb.addRow([]tcell{{Text: cats[i]}, b.pcell(used[i], pts[i])})
	}
	return []item{{Chart: ch}, {Table: tb}}
}

// sortTerritories orders by level then name.
func sortTerritories(ts []*territory) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Level != ts[j].Level {
			return levelOrder[ts[i].Level] < levelOrder[ts[j].Level]
		}
		if ts[i].Name != ts[j].Name {
			return ts[i].Name < ts[j].Name
		}
		return ts[i].Code < ts[j].Code
	})
}
