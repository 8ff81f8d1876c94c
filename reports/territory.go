package reports

import (
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// territoryPage builds the report of territory t for period p.
func (b *builder) territoryPage(t *territory, p *period, links linker) *pageModel {
	pm := &pageModel{
		Title:     t.Name,
		Kicker:    levelNames[t.Level] + " · diagnostic de l'accueil du jeune enfant",
		Subtitle:  "Période : " + frPeriod(p.Code),
		Generated: frDate(b.opt.Now),
		MinCount:  b.opt.MinCount,
		Territory: t,
		Period:    p,
		Path:      pagePath(t, p),
	}
	pm.Breadcrumb = b.breadcrumb(t, p, links)
	for _, q := range b.w.periods {
		if q.selected && b.w.block(t, q) != nil {
			pm.Periods = append(pm.Periods, link{Text: frPeriod(q.Code), Href: links.page(t, q), Current: q == p})
		}
	}
	if b.hasComparison(t, p) {
		pm.Related = append(pm.Related, link{Text: "Comparer les " + lowerLevel(childLevelPlural(t)), Href: links.compare(t, p)})
	}

	add := func(s *section) {
		if s != nil {
			pm.Sections = append(pm.Sections, s)
		}
	}
	add(b.summarySection(t, p))
	add(b.keySection(t, p))
	add(b.coverageSection(pm, t, p))
	add(b.trendSection(pm, t, p))
	add(b.childrenSection(pm, t, p, links))
	add(b.depMapSection(pm, t, p))
	add(b.communeMapSection(pm, t, p, links))
	add(b.underSection(pm, t, p))
	add(b.demographySection(pm, t, p))
	add(b.activitySection(pm, t, p))
	add(b.answerSection(pm, t, p))
	add(b.demandSection(pm, t, p))
	add(b.sourcesSection(t, p))
	return pm
}

func (b *builder) breadcrumb(t *territory, p *period, links linker) []link {
	var chain []*territory
	for a := t.parent; a != nil; a = a.parent {
		chain = append([]*territory{a}, chain...)
	}
	out := []link{{Text: "Accueil", Href: links.index()}, {Text: frPeriod(p.Code), Href: links.periodIndex(p)}}
	for _, a := range chain {
		href := ""
		if a.page && b.w.block(a, p) != nil {
			href = links.page(a, p)
		}
		out = append(out, link{Text: a.Name, Href: href})
	}
	return out
}

func childLevelPlural(t *territory) string {
	levels := map[string]bool{}
	for _, c := range t.children {
		levels[c.Level] = true
	}
	if len(levels) == 1 {
		for l := range levels {
			return levelPlural[l]
		}
	}
	return "Territoires"
}

// --- Synthèse: sentences written from the numbers.

func (b *builder) summarySection(t *territory, p *period) *section {
	var s []string
	when := frPeriodIn(p)
	if c, ok := b.safeCell(t, p, "coverage_rate"); ok && !c.masked && !math.IsNaN(c.value) {
		line := "Pour " + t.Name + ", le taux de couverture est de " + frNumber(c.value, 1) +
			" places pour 100 enfants de moins de 3 ans " + when
		if t.parent != nil && !math.IsNaN(c.parentValue) {
			d := c.value - c.parentValue
			ref := parentPhrase(t.parent.Level)
			switch {
			case math.Abs(d) < 0.05:
				line += ", au niveau de " + ref + " (" + frNumber(c.parentValue, 1) + ")"
			case d < 0:
				line += ", " + frNumber(-d, 1) + " " + plural(-d, "point", "points") + " sous " + ref + " (" + frNumber(c.parentValue, 1) + ")"
			default:
				line += ", " + frNumber(d, 1) + " " + plural(d, "point", "points") + " au-dessus de " + ref + " (" + frNumber(c.parentValue, 1) + ")"
			}
		}
		s = append(s, line+".")
		if !math.IsNaN(c.prevYearValue) {
			d := c.value - c.prevYearValue
			switch {
			case math.Abs(d) < 0.05:
				s = append(s, "Il est stable sur un an.")
			case d > 0:
				s = append(s, "Il a progressé de "+frNumber(d, 1)+" "+plural(d, "point", "points")+" en un an.")
			default:
				s = append(s, "Il a reculé de "+frNumber(-d, 1)+" "+plural(-d, "point", "points")+" en un an.")
			}
		}
	}
	if a, ok := b.safeCell(t, p, "am_approved"); ok && !a.masked && !math.IsNaN(a.value) {
		line := frNumber(a.value, 0) + " " + plural(a.value, "assistant maternel est agréé", "assistants maternels sont agréés")
		if c, ok := b.safeCell(t, p, "am_active"); ok && !c.masked && !math.IsNaN(c.value) {
			line += ", dont " + frNumber(c.value, 0) + " en activité"
		}
		s = append(s, line+".")
	}
	if u, ok := b.safeCell(t, p, "underactive_share"); ok && !u.masked && !math.IsNaN(u.value) {
		s = append(s, frPercent(u.value, 1)+" des assistants maternels en activité déclarent des places disponibles et ont une place vacante depuis au moins 3 mois (sous-activité).")
	}
	if r, ok := b.safeCell(t, p, "requests_received"); ok && !r.masked && !math.IsNaN(r.value) {
		line := frNumber(r.value, 0) + " " + plural(r.value, "demande de famille a été reçue", "demandes de familles ont été reçues")
		if u, ok := b.safeCell(t, p, "unmet_share"); ok && !u.masked && !math.IsNaN(u.value) {
			line += " ; " + frPercent(u.value, 1) + " des demandes closes sont restées sans solution"
		}
		s = append(s, line+".")
	}
	if d, ok := b.safeCell(t, p, "answer_median_days"); ok && !d.masked && !math.IsNaN(d.value) {
		line := "La moitié des familles ont reçu une première réponse en " + frNumber(d.value, 1) + " " + plural(d.value, "jour", "jours") + " ou moins"
		if w8, ok := b.safeCell(t, p, "answered_within_8d_share"); ok && !w8.masked && !math.IsNaN(w8.value) {
			line += " ; " + frPercent(w8.value, 1) + " l'ont reçue sous 8 jours"
		}
		s = append(s, line+".")
	}
	if a, ok := b.safeCell(t, p, "am_share_55plus"); ok && !a.masked && !math.IsNaN(a.value) {
		line := frPercent(a.value, 1) + " des assistants maternels agréés ont 55 ans ou plus"
		if dd, ok := b.safeCell(t, p, "am_departures_2030"); ok && !dd.masked && !math.IsNaN(dd.value) {
			line += " ; " + frNumber(dd.value, 0) + " pourraient partir en retraite d'ici 2030"
		}
		s = append(s, line+".")
	}
	if len(s) == 0 {
		return nil
	}
	return &section{ID: "synthese", Title: "En bref", Items: []item{{Sentences: s}}}
}

// frPeriodIn is "en 2025", "au 1er trimestre 2026", "en mars 2026".
func frPeriodIn(p *period) string {
	switch p.Kind {
	case "quarter":
		return "au " + frPeriod(p.Code)
	}
	return "en " + frPeriod(p.Code)
}

// --- Chiffres clés.

func (b *builder) keySection(t *territory, p *period) *section {
	const title = "Chiffres clés"
	tb := b.figureTable(t, p, keyIndicators, "Chiffres clés, "+frPeriod(p.Code), true)
	if tb == nil {
		return &section{ID: "chiffres", Title: title, Missing: b.missingLine(title, keyIndicators)}
	}
	return &section{ID: "chiffres", Title: title, Items: []item{{Table: tb}}}
}

// --- Couverture par mode d'accueil.

func (b *builder) coverageSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Couverture par mode d'accueil"
	if !b.hasAny(t, p, coverageModes) {
		return &section{ID: "couverture", Title: title, Missing: b.missingLine(title, coverageModes)}
	}
	cats := []string{t.Name}
	terrs := []*territory{t}
	if t.parent != nil && b.hasAny(t.parent, p, coverageModes) {
		cats = append(cats, t.parent.Name)
		terrs = append(terrs, t.parent)
	}
	var ss []series
	var used []string
	for _, m := range coverageModes {
		s := series{name: modeLabel(b.w.label(m))}
		any := false
		for _, x := range terrs {
			c, ok := b.w.cell(x, p, m)
			pt := pointOf(c, ok)
			if ok {
				any = true
			}
			s.points = append(s.points, pt)
		}
		if any {
			ss = append(ss, s)
			used = append(used, m)
		}
	}
	ch := pm.newChart("Places pour 100 enfants de moins de 3 ans, par mode d'accueil", 60+50*len(cats), "rate", barChart(cats, ss, true, true, "rate"))
	tb := &table{Caption: "Places pour 100 enfants de moins de 3 ans, par mode d'accueil (données du graphique)",
		Head: append([]string{"Mode d'accueil"}, cats...)}
	for i, m := range used {
		row := []tcell{{Text: modeLabel(b.w.label(m))}}
		for j := range terrs {
			row = append(row, b.pcell(m, ss[i].points[j]))
		}
		tb.addRow(row)
	}
	items := []item{
		{Text: "Le taux de couverture rapporte les places d'accueil formel (EAJE, école à 2 ans, assistants maternels en activité, salariés à domicile) au nombre d'enfants de moins de 3 ans (définition CNAF/ONAPE)."},
		{Chart: ch}, {Table: tb}}
	if pt := b.figureTable(t, p, coveragePlaces, "Places d'accueil", false); pt != nil {
		items = append(items, item{Table: pt})
	}
	return &section{ID: "couverture", Title: title, Items: items}
}

// --- Évolutions.

func (b *builder) trendSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Évolutions"
	var items []item
	items = append(items, b.trendBlock(pm, t, p, trendRates, "Taux et parts")...)
	items = append(items, b.trendBlock(pm, t, p, trendCounts, "Effectifs")...)
	if len(items) == 0 {
		return nil // a single period: nothing to draw, nothing missing
	}
	return &section{ID: "evolutions", Title: title, Items: items}
}

// --- Bars by child territory.

func (b *builder) childrenOf(t *territory, p *period) []*territory {
	var out []*territory
	for _, c := range t.children {
		if b.w.block(c, p) != nil {
			out = append(out, c)
		}
	}
	sortTerritories(out)
	return out
}

func (b *builder) childrenSection(pm *pageModel, t *territory, p *period, links linker) *section {
	kids := b.childrenOf(t, p)
	if len(t.children) == 0 {
		return nil
	}
	title := "Comparaison par " + lowerLevel(childLevelSingular(t))
	if len(kids) == 0 {
		return &section{ID: "territoires", Title: title, Missing: b.missingLine(title, childInds)}
	}
	// Bars: coverage rate, best first, masked last.
	type kv struct {
		t  *territory
		pt point
	}
	var bars []kv
	for _, k := range kids {
		c, ok := b.w.cell(k, p, "coverage_rate")
		bars = append(bars, kv{k, pointOf(c, ok)})
	}
	sort.SliceStable(bars, func(i, j int) bool {
		a, c := bars[i].pt, bars[j].pt
		if a.masked || a.missing {
			return false
		}
		if c.masked || c.missing {
			return true
		}
		return a.v > c.v
	})
	var items []item
	cats := make([]string, len(bars))
	pts := make([]point, len(bars))
	for i, x := range bars {
		cats[i], pts[i] = x.t.Name, x.pt
	}
	ch := pm.newChart("Taux de couverture par "+lowerLevel(childLevelSingular(t)), 40+22*len(cats), "rate",
		barChart(cats, []series{{name: b.w.label("coverage_rate"), points: pts}}, true, false, "rate"))
	items = append(items, item{Chart: ch})
	tb := &table{Caption: "Indicateurs par " + lowerLevel(childLevelSingular(t)) + " (cliquer un en-tête pour trier)",
		Head: append([]string{"Territoire"}, labels(b.w, childInds)...), Sortable: true}
	for _, k := range kids {
		name := tcell{Text: k.Name, Sort: k.Name}
		if k.page {
			name.Href = links.page(k, p)
		}
		row := []tcell{name}
		for _, n := range childInds {
			c, ok := b.w.cell(k, p, n)
			row = append(row, b.fcell(n, c, ok))
		}
		tb.addRow(row)
	}
	items = append(items, item{Table: tb})
	return &section{ID: "territoires", Title: title, Items: items}
}

func childLevelSingular(t *territory) string {
	levels := map[string]bool{}
	for _, c := range t.children {
		levels[c.Level] = true
	}
	if len(levels) == 1 {
		for l := range levels {
			if l == "epci" {
				return "Intercommunalité"
			}
			return levelNames[l]
		}
	}
	return "Territoire"
}

// --- Choropleth of départements.

func (b *builder) depMapSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Carte des départements"
	const ind = "coverage_rate"
	deps := b.w.deps
	if len(deps) == 0 {
		return nil
	}
	// The map and its table depend only on the period and on which
	// départements are circled: pages sharing both (every EPCI, RPE area and
	// commune of a département) share one encoding.
	var key strings.Builder
	key.WriteString(strconv.Itoa(p.idx))
	for _, d := range deps {
		if t.deps[d.Code] {
			key.WriteByte(',')
			key.WriteString(d.Code)
		}
	}
	dm := b.depMaps.get(key.String(), func() *depMap { return b.depMap(t, p) })
	if dm.missing {
		return &section{ID: "carte", Title: title, Missing: b.missingLine(title, []string{ind})}
	}
	ch := pm.newChart("Taux de couverture par département", 520, "rate", nil)
	ch.Option = dm.option
	out := []item{
		{Text: "Les départements du territoire sont cerclés de noir. Les départements d'outre-mer sont représentés dans les encadrés sous la carte."},
		{Chart: ch}, {Table: dm.table}}
	if dm.none > 0 {
		out = append(out, item{Text: frNumber(float64(dm.none), 0) + " " + plural(float64(dm.none), "département n'a", "départements n'ont") + " pas de donnée pour cette période (en gris sur la carte)."})
	}
	return &section{ID: "carte", Title: title, Items: out}
}

// depMap is the shared part of a départements map section (read-only once
// built: pages share it).
type depMap struct {
	missing bool
	option  template.JS
	table   *table
	none    int
}

func (b *builder) depMap(t *territory, p *period) *depMap {
	const ind = "coverage_rate"
	var items []mapItem
	have := false
	for _, d := range b.w.deps {
		c, ok := b.w.cell(d, p, ind)
		if ok {
			have = true
		}
		items = append(items, mapItem{code: d.Code, name: d.Name, p: pointOf(c, ok), highlight: t.deps[d.Code]})
	}
	if !have {
		return &depMap{missing: true}
	}
	dm := &depMap{option: optionJSON(mapChart("fr-departements", items))}
	dm.table = &table{Caption: "Taux de couverture par département (données de la carte)", Head: []string{"Code", "Département", b.w.label(ind)}, Sortable: true}
	for _, it := range items {
		if it.p.missing {
			dm.none++
			continue
		}
		dm.table.addRow([]tcell{{Text: it.code, Sort: it.code}, {Text: it.name, Sort: it.name}, b.pcell(ind, it.p)})
	}
	return dm
}

// cache memoises shared page parts across the rendering goroutines.
type cache[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func (c *cache[T]) get(key string, build func() T) T {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = build() // two goroutines may build the same value: same result, one kept
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]T{}
	}
	if w, ok := c.m[key]; ok {
		v = w
	} else {
		c.m[key] = v
	}
	c.mu.Unlock()
	return v
}

// --- Commune map from the user's GeoJSON.

func (b *builder) communeMapSection(pm *pageModel, t *territory, p *period, links linker) *section {
	if b.geo == nil {
		return nil
	}
	area := t
	if t.Level == "commune" && t.parent != nil {
		area = t.parent
	}
	key, codes := b.geo.areaFor(area)
	if key == "" {
		return nil
	}
	const title = "Carte des communes"
	const ind = "coverage_rate"
	if links.standalone && b.geo.areas[area].size > maxStandaloneGeo {
		return &section{ID: "carte-communes", Title: title, Items: []item{{Text: "La carte des communes de ce territoire est trop volumineuse pour le fichier autonome : elle figure dans la version en ligne du rapport."}}}
	}
	var items []mapItem
	have := false
	for _, code := range codes {
		ct := b.w.byKey["commune/"+code]
		name := b.geo.names[code]
		var pt point = point{missing: true}
		if ct != nil {
			name = ct.Name
			c, ok := b.w.cell(ct, p, ind)
			pt = pointOf(c, ok)
			have = have || ok
		}
		items = append(items, mapItem{code: code, name: name, p: pt, highlight: code == t.Code})
	}
	if !have {
		return &section{ID: "carte-communes", Title: title, Missing: b.missingLine(title, []string{ind})}
	}
	pm.geoKey = key
	ch := pm.newChart("Taux de couverture par commune", 460, "rate", mapChart(key, items))
	tb := &table{Caption: "Taux de couverture par commune (données de la carte)", Head: []string{"Code", "Commune", b.w.label(ind)}, Sortable: true}
	for _, it := range items {
		tb.addRow([]tcell{{Text: it.code, Sort: it.code}, {Text: it.name, Sort: it.name}, b.pcell(ind, it.p)})
	}
	return &section{ID: "carte-communes", Title: title, Items: []item{{Chart: ch}, {Table: tb}}}
}

// --- Sous-activité.

func (b *builder) underSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Sous-activité des assistants maternels"
	tb := b.figureTable(t, p, underInds, "Places vacantes et sous-activité", false)
	if tb == nil {
		return &section{ID: "sous-activite", Title: title, Missing: b.missingLine(title, underInds)}
	}
	items := []item{
		{Text: "Un assistant maternel est compté en sous-activité lorsqu'il déclare des places disponibles et garde au moins une place vacante depuis 3 mois consécutifs ou plus (la sous-activité « subie » n'est pas mesurable directement)."},
		{Table: tb}}
	items = append(items, b.trendBlock(pm, t, p, underTrend, "Sous-activité et places vacantes")...)
	return &section{ID: "sous-activite", Title: title, Items: items}
}

// --- Démographie.

func (b *builder) demographySection(pm *pageModel, t *territory, p *period) *section {
	const title = "Âge des assistants maternels et départs prévisibles"
	all := append(append([]string{}, demoInds...), ageInds...)
	if !b.hasAny(t, p, all) {
		return &section{ID: "demographie", Title: title, Missing: b.missingLine(title, all)}
	}
	var items []item
	items = append(items, b.barBlock(pm, t, p, ageInds, "Pyramide des âges des assistants maternels agréés", "Tranche d'âge")...)
	if tb := b.figureTable(t, p, demoInds, "Âge et départs en retraite prévisibles", false); tb != nil {
		items = append(items, item{Table: tb})
	}
	return &section{ID: "demographie", Title: title, Items: items}
}

// --- Activité du RPE.

func (b *builder) activitySection(pm *pageModel, t *territory, p *period) *section {
	title := "Activité des relais petite enfance"
	if t.Level == "rpe" {
		title = "Activité du relais petite enfance"
	}
	all := append(append([]string{}, activityInds...), contactParts...)
	var missingRPE []string
	for _, r := range t.rpes {
		if !b.hasAny(r, p, []string{"contacts", "ateliers"}) {
			missingRPE = append(missingRPE, r.Name)
		}
	}
	if !b.hasAny(t, p, all) {
		line := b.missingLine(title, all)
		if len(missingRPE) > 0 {
			line += " RPE sans données pour la période : " + strings.Join(missingRPE, ", ") + "."
		}
		return &section{ID: "activite", Title: title, Missing: line}
	}
	var items []item
	events := append(append([]string{}, contactParts...), "contacts", "ateliers", "atelier_children",
		"am_atelier_participants", "atelier_participation_rate", "training_departures")
	if !b.hasAny(t, p, events) {
		items = append(items, item{Text: b.missingLine("Contacts et ateliers", events)})
	}
	if len(missingRPE) > 0 {
		items = append(items, item{Text: "Attention : " + plural(float64(len(missingRPE)), "un RPE n'a", "des RPE n'ont") +
			" pas transmis son activité pour la période (" + strings.Join(missingRPE, ", ") + ") ; les chiffres sont incomplets."})
	}
	if tb := b.figureTable(t, p, activityInds, "Activité", false); tb != nil {
		items = append(items, item{Table: tb})
	}
	items = append(items, b.barBlock(pm, t, p, contactParts, "Contacts par public, thème et canal", "Public, thème ou canal")...)
	return &section{ID: "activite", Title: title, Items: items}
}

// --- Guichet unique.

func (b *builder) answerSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Guichet unique : délais de réponse aux familles"
	tb := b.figureTable(t, p, answerInds, "Délais de première réponse", false)
	if tb == nil {
		return &section{ID: "delais", Title: title, Missing: b.missingLine(title, answerInds)}
	}
	items := []item{{Table: tb}}
	items = append(items, b.trendBlock(pm, t, p, answerTrend[:1], "Délai médian de première réponse")...)
	return &section{ID: "delais", Title: title, Items: items}
}

// --- Demande non satisfaite.

func (b *builder) demandSection(pm *pageModel, t *territory, p *period) *section {
	const title = "Demandes des familles et demande non satisfaite"
	all := append(append([]string{}, demandInds...), mismatchInds...)
	if !b.hasAny(t, p, all) {
		return &section{ID: "demande", Title: title, Missing: b.missingLine(title, all)}
	}
	var items []item
	if tb := b.figureTable(t, p, demandInds, "Demandes des familles", false); tb != nil {
		items = append(items, item{Table: tb})
	}
	if bl := b.barBlock(pm, t, p, mismatchInds, "Demandes sans solution malgré des places vacantes, par motif", "Motif"); bl != nil {
		items = append(items, item{Text: "Quand des places restaient vacantes, premier motif pour lequel l'offre ne correspondait pas à la demande."})
		items = append(items, bl...)
	}
	return &section{ID: "demande", Title: title, Items: items}
}

// --- Sources, méthode, fraîcheur.

func (b *builder) sourcesSection(t *territory, p *period) *section {
	s := &section{ID: "sources", Title: "Sources, méthode et fraîcheur des données"}
	s.Items = append(s.Items, item{Sentences: []string{
		"Les indicateurs sont calculés par l'observatoire à partir des fichiers transmis par les partenaires (PMI, CAF, relais petite enfance, INSEE), par territoire et par période ; les stocks sont pris au dernier mois de la période, les flux sont cumulés.",
		"Secret statistique : une valeur qui repose sur moins de " + strconv.Itoa(b.opt.MinCount) + " personnes est remplacée par « s », ainsi que, le cas échéant, une autre valeur qui permettrait de la retrouver par différence.",
		"La référence d'un territoire est son territoire parent (commune : intercommunalité ; intercommunalité et RPE : département ; département : région ; région : France). Le rang compare les territoires de même niveau (Q1 : premier quart).",
	}})
	// Per source: indicators shown and whether the period has them.
	type srcInfo struct {
		inds    []string
		present bool
	}
	srcs := map[string]*srcInfo{}
	var order []string
	for _, n := range allReportIndicators() {
		src := b.w.source(n)
		si := srcs[src]
		if si == nil {
			si = &srcInfo{}
			srcs[src] = si
			order = append(order, src)
		}
		si.inds = append(si.inds, n)
		if _, ok := b.w.cell(t, p, n); ok {
			si.present = true
		}
	}
	sort.Strings(order)
	tb := &table{Caption: "Sources utilisées pour " + frPeriod(p.Code), Head: []string{"Source", "Données pour la période", "Indicateurs"}}
	var missing []string
	for _, src := range order {
		si := srcs[src]
		st := "présentes"
		if !si.present {
			st = "absentes"
			missing = append(missing, src)
		}
		tb.addRow([]tcell{{Text: src}, {Text: st}, {Text: strconv.Itoa(len(si.inds)) + " indicateurs"}})
	}
	s.Items = append(s.Items, item{Table: tb})
	if len(missing) > 0 {
		s.Items = append(s.Items, item{Text: "Sources manquantes pour ce territoire et cette période : " + strings.Join(missing, ", ") + "."})
	}
	var missingRPE []string
	for _, r := range t.rpes {
		if !b.hasAny(r, p, []string{"contacts", "ateliers"}) {
			missingRPE = append(missingRPE, r.Name)
		}
	}
	if len(missingRPE) > 0 {
		s.Items = append(s.Items, item{Text: "Relais petite enfance n'ayant pas transmis leur activité pour la période : " + strings.Join(missingRPE, ", ") + "."})
	}
	if b.w.hasLedger {
		lt := b.ledgerTable(t, p)
		if lt != nil {
			s.Items = append(s.Items, item{Table: lt})
		}
	}
	// Catalog: definitions of what is shown.
	ct := &table{Caption: "Définitions", Head: []string{"Indicateur", "Définition", "Source"}}
	for _, n := range allReportIndicators() {
		c, ok := b.w.catalog[n]
		if !ok || c.Description == "" {
			continue
		}
		if _, has := b.w.cell(t, p, n); !has {
			continue
		}
		ct.addRow([]tcell{{Text: b.w.label(n)}, {Text: c.Description}, {Text: b.w.source(n)}})
	}
	if len(ct.Rows) > 0 {
		s.Items = append(s.Items, item{Table: ct})
	}
	return s
}

// ledgerKey is a source and a sender of meta.file_ledger.
type ledgerKey struct{ src, sender string }

// ledgerIndex is meta.file_ledger summarised once per build: per source and
// sender (sorted), the latest period received and the reported periods
// covered by at least one file.
type ledgerIndex struct {
	keys   []ledgerKey
	latest []ledgerEntry
	covers [][]bool // key -> period idx
	rpe    []bool   // sender is an RPE area
	dep    []bool   // sender is a département code
}

func (b *builder) ledger() *ledgerIndex {
	b.ledgerOnce.Do(func() {
		w := b.w
		pos := map[ledgerKey]int{}
		li := &ledgerIndex{}
		for _, e := range w.ledger {
			k := ledgerKey{e.Source, e.Sender}
			i, ok := pos[k]
			if !ok {
				i = len(li.keys)
				pos[k] = i
				li.keys = append(li.keys, k)
				li.latest = append(li.latest, e)
				li.covers = append(li.covers, make([]bool, len(w.periods)))
			} else if e.Period > li.latest[i].Period {
				li.latest[i] = e
			}
			for _, p := range w.periods {
				if p.selected && !li.covers[i][p.idx] && periodOverlaps(e.Period, p) {
					li.covers[i][p.idx] = true
				}
			}
		}
		order := make([]int, len(li.keys))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(x, y int) bool {
			a, c := li.keys[order[x]], li.keys[order[y]]
			if a.src != c.src {
				return a.src < c.src
			}
			return a.sender < c.sender
		})
		s := &ledgerIndex{}
		for _, i := range order {
			k := li.keys[i]
			s.keys = append(s.keys, k)
			s.latest = append(s.latest, li.latest[i])
			s.covers = append(s.covers, li.covers[i])
			s.rpe = append(s.rpe, w.rpeCodes[k.sender])
			s.dep = append(s.dep, w.byKey["departement/"+k.sender] != nil)
		}
		b.ledgerIdx = s
	})
	return b.ledgerIdx
}

// ledgerTable lists, per source and sender relevant to t, the latest period
// received and when it was loaded; a sender with nothing covering p is
// flagged. Another RPE area's files, and files sent for another
// département (sender = a département code), are left out, except on the
// France report.
func (b *builder) ledgerTable(t *territory, p *period) *table {
	li := b.ledger()
	var tb *table
	for i, k := range li.keys {
		if t.Level != "france" {
			if li.rpe[i] && !t.hasRPE(k.sender) {
				continue // another RPE's file
			}
			if li.dep[i] && !li.rpe[i] && !t.deps[k.sender] {
				continue // another département's file
			}
		}
		if tb == nil {
			tb = &table{Caption: "Fichiers reçus (journal de chargement)", Head: []string{"Source", "Émetteur", "Dernière période reçue", "Chargé le", "Couvre la période"}}
		}
		e := li.latest[i]
		sender := e.Sender
		if r := b.w.byKey["rpe/"+e.Sender]; r != nil {
			sender = r.Name
		}
		cov := "oui"
		if !li.covers[i][p.idx] {
			cov = "non (manquant)"
		}
		loaded := "n.d."
		if !e.LoadedAt.IsZero() {
			loaded = frDate(e.LoadedAt)
		}
		tb.addRow([]tcell{{Text: k.src}, {Text: sender}, {Text: frPeriod(e.Period)}, {Text: loaded}, {Text: cov}})
	}
	return tb
}

func (t *territory) hasRPE(code string) bool {
	for _, r := range t.rpes {
		if r.Code == code {
			return true
		}
	}
	return false
}

// periodOverlaps tells whether a ledger period (2025, 2025-T1, 2025-03 or a
// date) overlaps p.
func periodOverlaps(s string, p *period) bool {
	var start, end time.Time
	switch {
	case len(s) == 4:
		t, err := time.Parse("2006", s)
		if err != nil {
			return false
		}
		start, end = t, t.AddDate(1, 0, 0)
	case len(s) == 7 && s[5] == 'T':
		y, err1 := strconv.Atoi(s[:4])
		q, err2 := strconv.Atoi(s[6:])
		if err1 != nil || err2 != nil {
			return false
		}
		start = time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 3, 0)
	case len(s) == 7:
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return false
		}
		start, end = t, t.AddDate(0, 1, 0)
	case len(s) >= 10:
		t, err := time.Parse("2006-01-02", s[:10])
		if err != nil {
			return false
		}
		start, end = t, t.AddDate(0, 0, 1)
	default:
		return false
	}
	return start.Before(p.End()) && p.Start.Before(end)
}

func allReportIndicators() []string { return reportIndicators }

var reportIndicators = uniq(keyIndicators, coverageModes, coveragePlaces, trendRates, trendCounts, underInds, ageInds, demoInds,
	activityInds, contactParts, answerInds, demandInds, mismatchInds)

// lowerLevel lowers a level name but keeps acronyms: "intercommunalités (EPCI)".
func lowerLevel(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "(epci)", "(EPCI)")
	return strings.ReplaceAll(s, " de rpe", " de RPE")
}

// modeLabel shortens a catalog label such as "Taux de couverture : AM" to
// the mode's name for a legend.
func modeLabel(l string) string {
	for _, p := range []string{"Taux de couverture : ", "Taux de couverture - ", "Taux de couverture – "} {
		if strings.HasPrefix(l, p) {
			r := strings.TrimPrefix(l, p)
			return strings.ToUpper(r[:1]) + r[1:]
		}
	}
	return l
}
