package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

func generateDept(ctx context.Context, cfg *config, d deptRef) ([]fileStat, error) {
	g := &deptGen{cfg: cfg, d: d, code3: dept3(d.code), unknown: cfg.refs.unknownCommune(d.code), reqSeq: map[int]int{}}
	g.buildTerritory()
	if len(g.communes) == 0 {
		return nil, fmt.Errorf("no commune")
	}
	g.buildAMs()
	g.buildRPEs()
	for _, y := range g.years {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := g.writePopulation(y); err != nil {
			return nil, err
		}
		if err := g.writeCAF(y); err != nil {
			return nil, err
		}
	}
	if err := g.writeRPERegister(); err != nil {
		return nil, err
	}
	dyn := newRand(cfg.seed, d.code, "dynamics")
	act := newRand(cfg.seed, d.code, "activity")
	req := newRand(cfg.seed, d.code, "requests")
	g.burnIn(dyn)
	g.fit = make([]int32, 8*len(g.communes))
	g.fitRPE = make([]int32, 8*len(g.rpes))
	for m := cfg.first; m <= cfg.to; m++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g.step(dyn, m)
		if err := g.writeAvailability(m); err != nil {
			return nil, err
		}
		if err := g.writeActivity(act, m); err != nil {
			return nil, err
		}
		if err := g.writeRequests(req, m); err != nil {
			return nil, err
		}
		// A snapshot opens the window, so every month has a register on or
		// before it, then one every 6 months ending at To.
		if m == cfg.first || (cfg.to-m)%6 == 0 {
			if err := g.writeRegister(m); err != nil {
				return nil, err
			}
		}
	}
	return g.stats, nil
}

// ---- AM dynamics ----

// leaveProb is the monthly probability that one child leaves an AM: children
// start school in September, so August sees many leave.
func leaveProb(m month) float64 {
	if m.num() == 8 {
		return 0.13
	}
	return 0.025
}

func fillSeason(m month) float32 {
	switch m.num() {
	case 8:
		return 0.5
	case 9:
		return 1.4
	}
	return 1
}

// children moves an AM's number of children cared for by one month.
func (a *am) children(r *rand.Rand, m month) {
	if a.dormant {
		if r.Float64() < 0.015 {
			a.dormant = false
		} else {
			a.c = 0
			return
		}
	} else if r.Float64() < 0.0015 {
		a.dormant, a.c = true, 0
		return
	}
	p := leaveProb(m)
	c := a.c
	for k := a.c; k > 0; k-- {
		if r.Float64() < p {
			c--
		}
	}
	f := a.f * fillSeason(m)
	for k := c; k < a.w; k++ {
		if r.Float32() < f {
			c++
		}
	}
	a.c = c
}

// burnIn runs three years of dynamics before the window so that children
// cared for start from a steady state, then sets the declarations on record
// at the window's start.
func (g *deptGen) burnIn(r *rand.Rand) {
	first := g.cfg.first
	for i := range g.ams {
		a := &g.ams[i]
		if a.startM != first || a.agr >= first.first() {
			continue
		}
		for m := first - 36; m < first; m++ {
			a.children(r, m)
		}
		switch a.declKind {
		case declUpdater, declIrregular:
			a.declDay = max(a.agr+1, first.first()-day(1+r.IntN(150)))
			a.declPlaces = a.want()
		case declStale:
			a.declDay = max(a.agr+1, first.first()-day(190+r.IntN(900)))
			a.declPlaces = int8(min(int(a.places), choose(r, []float64{0.70, 0.22, 0.08})))
		}
		if a.declPlaces > 0 {
			a.declFrom = a.declDay
		}
	}
}

func (a *am) want() int8 {
	if a.dormant || a.c >= a.w {
		return 0
	}
	return a.w - a.c
}

func (g *deptGen) step(r *rand.Rand, m month) {
	for i := range g.ams {
		a := &g.ams[i]
		if !a.approvedIn(m) {
			continue
		}
		if a.suspendedIn(m) {
			a.c = 0
		} else {
			a.children(r, m)
		}
		from := m.first()
		if a.agr >= from {
			from = a.agr + 1
		}
		span := int(m.last()-from) + 1
		if span <= 0 {
			continue
		}
		want := a.want()
		if a.suspendedIn(m) {
			want = 0
		}
		declare := false
		campaign := (m.num() == 5 || m.num() == 11) && a.declDay < m.first()-45
		switch a.declKind {
		case declUpdater:
			declare = a.declDay == 0 || want != a.declPlaces || campaign
		case declIrregular:
			declare = (a.declDay == 0 && r.Float64() < 0.3) || (want != a.declPlaces && r.Float64() < 0.35) || (campaign && r.Float64() < 0.5)
		case declStale:
			declare = a.declDay == 0 && r.Float64() < 0.5
		}
		if declare {
			a.declDay = from + day(r.IntN(span))
			a.declPlaces = want
			a.declFrom = 0
			if want > 0 {
				a.declFrom = a.declDay
				if r.Float64() < 0.2 {
					a.declFrom += day(15 + r.IntN(45))
				}
			}
		}
	}
}

// ---- files ----

func (g *deptGen) open(rel, source string, header []string, offset int, defects []defect) (*csvFile, error) {
	c, err := createCSV(g.cfg.dir, rel, source, header)
	if err != nil {
		return nil, err
	}
	if g.cfg.bad && len(defects) > 0 {
		// rotate the defects from one file to the next, so that files with a
		// single bad row still show every kind
		n := len(defects)
		for i := range n {
			c.defects = append(c.defects, defects[(i+offset)%n])
		}
	}
	return c, nil
}

func (g *deptGen) done(c *csvFile) error {
	st, err := c.finish()
	g.stats = append(g.stats, st)
	return err
}

func impossibleDate(y int) string { return "31/02/" + strconv.Itoa(y) }

var populationHeader = []string{"code_commune", "annee", "enfants_0_2", "naissances"}

func (g *deptGen) writePopulation(y int) error {
	rel := "population/population_" + g.d.code + "_" + strconv.Itoa(y) + ".csv"
	c, err := g.open(rel, SrcPopulation, populationHeader, y, []defect{
		{0, g.unknown}, {2, "-12,5"}, {3, "-4"}, {0, ""},
	})
	if err != nil {
		return err
	}
	yi := g.yearIndex(y)
	for i, cm := range g.communes {
		c.str(cm.code)
		c.int(y)
		c.dec1(g.childrenY[yi][i])
		c.int(g.birthsY[yi][i])
		c.end()
	}
	return g.done(c)
}

var cafHeader = []string{"date_reference", "num_commune", "nom_commune", "numero_EPCI", "nom_EPCI", "numero_departement", "nom_departement",
	"places_EAJE_PSU", "places_hors_EAJE_PSU", "places_EAJE_ensemble", "places_prescolarisation", "places_assistante_maternelle",
	"places_salariee_domicile", "places_accueil_individuel_ensemble", "places_offertes_ensemble"}

func (g *deptGen) writeCAF(y int) error {
	rel := "caf/nbpla_pe_com_" + g.d.code + "_" + strconv.Itoa(y) + ".csv"
	c, err := g.open(rel, SrcCollectivePlaces, cafHeader, y, []defect{{1, g.unknown}, {7, "-5"}})
	if err != nil {
		return err
	}
	// the CAF's own AM figure: under-3 places of AMs approved at the year's
	// end, times the share of employed AMs
	at := min(mkMonth(y, 12), g.cfg.to)
	amCAF := make([]float64, len(g.communes))
	for _, a := range g.ams {
		if a.approvedIn(at) {
			amCAF[a.commune] += float64(a.under3) * 0.9
		}
	}
	k := float64(g.toYear() - y)
	for i, cm := range g.communes {
		psu := int(math.Round(float64(cm.psu) * (1 - 0.015*k)))
		hors := int(math.Round(float64(cm.hors) * (1 - 0.05*k)))
		home := int(math.Round(float64(cm.home) * (1 - 0.01*k)))
		ecole := cm.ecole
		amc := int(math.Round(amCAF[i]))
		c.int(y)
		c.str(cm.code)
		c.text(cm.name)
		c.str(cm.epci)
		c.text(g.cfg.refs.epciName[cm.epci])
		c.str(g.d.code)
		c.text(g.d.name)
		c.int(psu)
		c.int(hors)
		c.int(psu + hors)
		c.int(ecole)
		c.int(amc)
		c.int(home)
		c.int(amc + home)
		c.int(psu + hors + ecole + amc + home)
		c.end()
	}
	return g.done(c)
}

var registerHeader = []string{"numero_agrement", "nom", "prenom", "adresse", "telephone", "courriel", "commune_exercice", "exercice_mam",
	"date_agrement", "date_fin", "statut", "places_agreees", "places_moins_3_ans", "annee_naissance"}

func (g *deptGen) badAMID(b []byte, n int) []byte {
	b = append(b, g.code3...)
	b = append(b, "-2020-"...)
	return strconv.AppendInt(b, int64(990000+n), 10)
}

func (g *deptGen) writeRegister(s month) error {
	rel := "pmi/registre_am_" + g.d.code + "_" + s.String() + ".csv"
	c, err := g.open(rel, SrcAMRegister, registerHeader, int(s), []defect{
		{6, g.unknown}, {12, "-1"}, {8, impossibleDate(s.year())}, {11, "6"}, {0, ""},
	})
	if err != nil {
		return err
	}
	c.idCol, c.freshID = 0, g.badAMID
	var b []byte
	for i := range g.ams {
		a := &g.ams[i]
		if a.startM > s {
			continue
		}
		c.str(a.id)
		firstName, firstASCII := amFirstNames[a.first], amFirstASCII[a.first]
		if a.male {
			firstName, firstASCII = amMaleFirstNames[a.first], amMaleFirstASCII[a.first]
		}
		c.str(lastNames[a.last])
		c.str(firstName)
		b = b[:0]
		if a.mam > 0 {
			mm := g.mams[a.mam-1]
			b = append(b, "MAM "...)
			b = append(b, mamNames[mm.name]...)
			b = append(b, ", "...)
			b = strconv.AppendInt(b, int64(mm.streetNo), 10)
			b = append(b, ' ')
			b = append(b, streets[mm.street]...)
		} else {
			b = strconv.AppendInt(b, int64(a.streetNo), 10)
			b = append(b, ' ')
			b = append(b, streets[a.street]...)
		}
		c.bytes(b)
		c.bytes(appendPhone(b[:0], int(a.phone)))
		b = append(b[:0], firstASCII...)
		b = append(b, '.')
		b = append(b, lastASCII[a.last]...)
		b = append(b, "@exemple.fr"...)
		c.bytes(b)
		c.str(g.communes[a.commune].code)
		c.yn(a.mam > 0)
		c.date(a.agr)
		switch {
		case a.endM <= s:
			c.date(a.endDay)
			if a.withdrawn {
				c.str("retiré")
			} else {
				c.str("cessation")
			}
		case a.suspendedIn(s):
			c.empty()
			c.str("suspendu")
		default:
			c.empty()
			c.str("en activité")
		}
		c.int(int(a.places))
		c.int(int(a.under3))
		c.int(int(a.birthYear))
		c.end()
	}
	return g.done(c)
}

var availabilityHeader = []string{"numero_agrement", "commune", "date_declaration", "enfants_accueillis", "places_disponibles", "date_disponibilite",
	"tranche_age", "avant_7h", "apres_20h", "samedi", "dimanche", "nuit", "periscolaire", "mercredi", "vacances", "handicap", "occasionnel"}

// requirement bits of a family request, matched against AMs' declarations.
const (
	reqAtypical   = 1
	reqDisability = 2
	reqInfant     = 4
)

func (a *am) capability() int {
	m := 0
	if a.flags&fAtypical != 0 {
		m |= reqAtypical
	}
	if a.flags&fHandicap != 0 {
		m |= reqDisability
	}
	if a.tranche <= 1 {
		m |= reqInfant
	}
	return m
}

func (g *deptGen) writeAvailability(m month) error {
	rel := "disponibilites/disponibilites_" + g.d.code + "_" + m.String() + ".csv"
	c, err := g.open(rel, SrcAvailability, availabilityHeader, int(m), []defect{
		{1, g.unknown}, {3, "-1"}, {2, impossibleDate(m.year())}, {0, ""},
	})
	if err != nil {
		return err
	}
	c.idCol, c.freshID = 0, g.badAMID
	clear(g.fit)
	clear(g.fitRPE)
	for i := range g.ams {
		a := &g.ams[i]
		if !a.approvedIn(m) {
			continue
		}
		c.str(a.id)
		c.str(g.communes[a.commune].code)
		c.optDate(a.declDay)
		c.int(int(a.c))
		c.int(int(a.declPlaces))
		c.optDate(a.declFrom)
		c.str(trancheLabels[a.tranche])
		declared := a.declDay != 0
		for k := range 10 {
			c.yn(declared && a.flags&(1<<k) != 0)
		}
		c.end()
		if declared && a.declPlaces > 0 && a.c < a.places {
			capa := a.capability()
			for q := range 8 {
				if q&^capa == 0 {
					g.fit[int(a.commune)*8+q]++
					g.fitRPE[int(a.rpe)*8+q]++
				}
			}
		}
	}
	return g.done(c)
}
