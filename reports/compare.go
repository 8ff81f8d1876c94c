package reports

import (
	"math"
	"sort"
)

// maxMultiples bounds the panels of the small multiples.
const maxMultiples = 36

func (b *builder) hasComparison(t *territory, p *period) bool {
	switch t.Level {
	case "france", "region", "departement":
		return len(b.childrenOf(t, p)) >= 2
	}
	return false
}

// comparePage puts the children of t side by side, for CAF advisers.
func (b *builder) comparePage(t *territory, p *period, links linker) *pageModel {
	kids := b.childrenOf(t, p)
	pm := &pageModel{
		Title:     "Comparaison : " + lowerLevel(childLevelPlural(t)) + " – " + t.Name,
		Kicker:    "Rapport de comparaison",
		Subtitle:  "Période : " + frPeriod(p.Code),
		Generated: frDate(b.opt.Now),
		MinCount:  b.opt.MinCount,
		Territory: t,
		Period:    p,
		Path:      comparePath(t, p),
	}
	pm.Breadcrumb = b.breadcrumb(t, p, links)
	pm.Breadcrumb = append(pm.Breadcrumb, link{Text: t.Name, Href: links.page(t, p)})
	for _, q := range b.w.periods {
		if q.selected && b.hasComparison(t, q) {
			pm.Periods = append(pm.Periods, link{Text: frPeriod(q.Code), Href: links.compare(t, q), Current: q == p})
		}
	}

	// Sortable table.
	tb := &table{Caption: "Indicateurs par territoire (cliquer un en-tête pour trier)", Sortable: true,
		Head: append([]string{"Territoire"}, labels(b.w, compareInds)...)}
	for _, k := range append([]*territory{t}, kids...) {
		name := tcell{Text: k.Name, Sort: k.Name}
		if k == t {
			name.Text = k.Name + " (ensemble)"
		}
		if k.page {
			name.Href = links.page(k, p)
		}
		row := []tcell{name}
		for _, n := range compareInds {
			c, ok := b.w.cell(k, p, n)
			row = append(row, b.fcell(n, c, ok))
		}
		tb.addRow(row)
	}
	pm.Sections = append(pm.Sections, &section{ID: "tableau", Title: "Tableau comparatif", Items: []item{{Table: tb}}})

	// Supply against demand.
	const sup, dem = "coverage_rate", "requests_received"
	var pts []scatterItem
	st := &table{Caption: "Offre et demande par territoire (données du graphique)", Sortable: true,
		Head: []string{"Territoire", b.w.label(sup), "Demandes reçues pour 100 enfants de moins de 3 ans"}}
	for _, k := range kids {
		cs, okS := b.w.cell(k, p, sup)
		cr, okR := b.w.cell(k, p, dem)
		cc, okC := b.w.cell(k, p, "children_under3")
		x := pointOf(cs, okS)
		y := point{missing: true}
		switch {
		case okR && cr.masked || okC && cc.masked:
			y = point{masked: true}
		case okR && okC && !math.IsNaN(cr.value) && !math.IsNaN(cc.value) && cc.value > 0:
			y = point{v: cr.value / cc.value * 100}
		}
		if !x.masked && !x.missing && !y.masked && !y.missing {
			pts = append(pts, scatterItem{name: k.Name, x: x.v, y: y.v})
		}
		st.addRow([]tcell{{Text: k.Name, Sort: k.Name}, b.pcell(sup, x), b.pcell("requests_per_100_children", y)})
	}
	if len(pts) > 0 {
		ch := pm.newChart("Offre (taux de couverture) et demande (demandes pour 100 enfants)", 380, "rate",
			scatterChart(pts, "Places pour 100 enfants", "Demandes pour 100 enfants"))
		pm.Sections = append(pm.Sections, &section{ID: "offre-demande", Title: "Offre et demande", Items: []item{
			{Text: "Chaque point est un territoire : en abscisse l'offre d'accueil (taux de couverture), en ordonnée la demande exprimée auprès des RPE (demandes reçues pour 100 enfants de moins de 3 ans). Les territoires en haut à gauche cumulent peu d'offre et beaucoup de demande."},
			{Chart: ch}, {Table: st}}})
	} else {
		pm.Sections = append(pm.Sections, &section{ID: "offre-demande", Title: "Offre et demande",
			Missing: b.missingLine("Offre et demande", []string{sup, dem})})
	}

	// Small multiples: coverage rate over time, one panel per territory.
	ps := b.trendPeriods(p)
	mk := append([]*territory{}, kids...)
	sort.SliceStable(mk, func(i, j int) bool { return mk[i].Population > mk[j].Population })
	truncated := len(mk) > maxMultiples
	if truncated {
		mk = mk[:maxMultiples]
	}
	sortTerritories(mk)
	var ss []series
	for _, k := range mk {
		s := series{name: k.Name}
		any := false
		for _, q := range ps {
			c, ok := b.w.cell(k, q, sup)
			pt := pointOf(c, ok)
			any = any || ok
			s.points = append(s.points, pt)
		}
		if any {
			ss = append(ss, s)
		}
	}
	title := "Évolution du taux de couverture par territoire"
	if len(ss) > 0 && len(ps) >= 2 {
		cats := make([]string, len(ps))
		for i, q := range ps {
			cats[i] = frPeriod(q.Code)
		}
		obj, h := smallMultiples(cats, ss, 4)
		ch := pm.newChart(title, h, "rate", obj)
		mt := &table{Caption: title + " (données du graphique)", Head: append([]string{"Territoire"}, cats...)}
		for _, s := range ss {
			row := []tcell{{Text: s.name}}
			for _, pt := range s.points {
				row = append(row, b.pcell(sup, pt))
			}
			mt.addRow(row)
		}
		items := []item{{Chart: ch}, {Table: mt}}
		if truncated {
			items = append([]item{{Text: "Les " + frNumber(maxMultiples, 0) + " territoires les plus peuplés sont représentés."}}, items...)
		}
		pm.Sections = append(pm.Sections, &section{ID: "multiples", Title: "Évolutions comparées", Items: items})
	}
	pm.Sections = append(pm.Sections, &section{ID: "sources", Title: "Sources et méthode", Items: []item{{Sentences: []string{
		"Secret statistique : une valeur qui repose sur moins de " + frNumber(float64(b.opt.MinCount), 0) + " personnes est remplacée par « s ».",
		"Le taux de couverture rapporte les places d'accueil formel au nombre d'enfants de moins de 3 ans (définition CNAF/ONAPE).",
	}}}})
	return pm
}
