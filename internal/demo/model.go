package demo

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Calibration parameters (see the package documentation).
const (
	childShareMetro = 0.032 // children aged 0-2 / population
	amPartTarget    = 31.5  // AM part of the coverage rate, points
	eajePartTarget  = 23.0  // EAJE (PSU + hors PSU)
	ecolePartTarget = 3.2   // école at 2
	homePartTarget  = 2.0   // salariés à domicile
	under3Ratio     = 0.81  // places for under-3s / places approved
	activeShare     = 0.895 // expected share of approved AMs caring for at least one child
	amPerFTE        = 67.0  // approved AMs per RPE FTE (CNAF: 67 in 2020)
	rpeTargetAMs    = 80.0  // AMs per RPE when an EPCI is split
	arrivalRate     = 0.052 // new approvals per year / approved AMs
	requestRate     = 0.4   // family requests per birth
	reinforcedShare = 0.25  // RPEs with missions renforcées
)

// overseas adjusts the share of young children and the supply mix of the
// overseas départements, where families are younger and formal care much
// rarer (inference from the CAF's published rates).
var overseas = map[string]struct{ child, am, eaje float64 }{
	"971": {0.026, 0.55, 0.8},
	"972": {0.025, 0.6, 0.9},
	"973": {0.060, 0.2, 0.35},
	"974": {0.039, 0.6, 0.8},
	"976": {0.080, 0.08, 0.15},
}

type commune struct {
	code, name, epci string
	pop              int
	children         float64 // aged 0-2 in To's year
	dens             float64 // AM density factor (>1: more AMs than children call for)
	psu, hors        int     // EAJE places in To's year
	ecole, home      int
	rpe              int
	amWeight         float64
}

// flag bits of an AM's declared availability.
const (
	fAvant7 = 1 << iota
	fApres20
	fSamedi
	fDimanche
	fNuit
	fPeriscolaire
	fMercredi
	fVacances
	fHandicap
	fOccasionnel
)

const fAtypical = fAvant7 | fApres20 | fSamedi | fDimanche | fNuit

var flagProb = [...]float64{0.17, 0.08, 0.06, 0.02, 0.01, 0.40, 0.60, 0.50, 0.15, 0.25}

var trancheLabels = []string{"tous âges", "moins de 18 mois", "18 mois - 3 ans", "plus de 3 ans"}

// declaration behaviours.
const (
	declUpdater   = iota // re-declares on every change and before 1 June / 1 December
	declIrregular        // re-declares now and then
	declStale            // declared once, long ago
	declNever            // never declared
)

const noMonth = month(math.MaxInt32)

type am struct {
	id        string
	commune   int32
	rpe       int32
	mam       int16 // MAM index + 1, 0: at home
	first     uint8
	last      uint8
	male      bool
	streetNo  uint8
	street    uint8
	phone     int32
	agr       day
	startM    month // month the approval starts (window's first month for AMs approved before)
	endM      month // month the approval ends, noMonth if not in the window
	endDay    day
	withdrawn bool
	suspFrom  month
	suspTo    month // exclusive
	places    int8
	under3    int8
	birthYear int16
	// dynamics
	w       int8 // children wanted
	c       int8 // children cared for
	f       float32
	dormant bool
	// availability declaration
	declKind   uint8
	declDay    day // 0: never declared
	declPlaces int8
	declFrom   day
	tranche    uint8
	flags      uint16
	atelier    float32 // propensity to attend ateliers
}

func (a *am) approvedIn(m month) bool  { return a.startM <= m && m < a.endM }
func (a *am) suspendedIn(m month) bool { return m >= a.suspFrom && m < a.suspTo }

type mam struct {
	name     uint8
	streetNo uint8
	street   uint8
}

type rpe struct {
	id, name, manager string
	communes          []int
	fte               float64
	gu, ap, promo     bool
	ams               []int32
	amCount           int
	cumChildren       []float64 // cumulative weights over communes, for parents' communes
	cumAMs            []float64
	nAct              float64
}

type deptGen struct {
	cfg      *config
	d        deptRef
	code3    string
	unknown  string
	communes []commune
	ams      []am
	mams     []mam
	rpes     []rpe
	years    []int
	// per year index: children and births per commune
	childrenY [][]float64
	birthsY   [][]int
	fit       []int32 // per commune x 8 requirement masks: AMs with declared, vacant places fitting it
	fitRPE    []int32
	stats     []fileStat
	reqSeq    map[int]int
	reqBuf    []request
}

func (g *deptGen) toYear() int { return g.cfg.to.year() }

// buildTerritory draws children, births and collective supply per commune.
func (g *deptGen) buildTerritory() {
	r := newRand(g.cfg.seed, g.d.code, "territory")
	share := childShareMetro
	amF, eajeF := 1.0, 1.0
	if o, ok := overseas[g.d.code]; ok {
		share, amF, eajeF = o.child, o.am, o.eaje
	}
	for _, c := range g.cfg.refs.communes[g.d.code] {
		cm := commune{code: c.Code, name: c.Name, epci: c.EPCI, pop: c.Population}
		cm.children = float64(c.Population) * share * lognormal(r, 0.12)
		cm.dens = lognormal(r, 0.3)
		g.communes = append(g.communes, cm)
	}
	var total, urban float64
	for _, c := range g.communes {
		total += c.children
		if c.pop >= 50000 {
			urban += c.children
		}
	}
	u := 0.0
	if total > 0 {
		u = urban / total
	}
	vAM := 0.94 + 0.12*r.Float64()
	vEAJE := 0.94 + 0.12*r.Float64()
	eajeT := eajePartTarget / 100 * (0.85 + 0.7*u) * vEAJE * eajeF * total
	ecoleT := ecolePartTarget / 100 * (0.85 + 0.3*r.Float64()) * total
	homeT := homePartTarget / 100 * (0.6 + 1.6*u) * total
	amT := amPartTarget / 100 * (1.09 - 0.45*u) * vAM * amF * total

	// EAJE: concentrated in bigger communes; micro-crèches (10 places, mostly
	// hors PSU) in some small ones.
	wE := make([]float64, len(g.communes))
	var sumE, micro float64
	for i := range g.communes {
		c := &g.communes[i]
		var gp float64
		switch p := c.pop; {
		case p < 1000:
			if c.children > 4 && r.Float64() < 0.04 {
				c.psu, c.hors = 4, 6
				micro += 10
			}
		case p < 3000:
			gp = 0.35
		case p < 10000:
			gp = 0.8
		case p < 50000:
			gp = 1.15
		case p < 100000:
			gp = 1.4
		default:
			gp = 1.6
		}
		wE[i] = c.children * gp * lognormal(r, 0.35)
		sumE += wE[i]
	}
	for i := range g.communes {
		c := &g.communes[i]
		if sumE == 0 || wE[i] == 0 {
			continue
		}
		e := math.Max(0, eajeT-micro) * wE[i] / sumE
		var places int
		if e < 10 {
			if r.Float64() < e/10 {
				places = 10
			}
		} else {
			places = int(math.Round(e))
		}
		hs := 0.3 * r.Float64()
		if places == 10 {
			hs = 0.6
		}
		h := int(math.Round(float64(places) * hs))
		c.psu += places - h
		c.hors += h
	}
	// école at 2 and salariés à domicile.
	wS := make([]float64, len(g.communes))
	wH := make([]float64, len(g.communes))
	var sumS, sumH float64
	for i, c := range g.communes {
		wS[i] = c.children * lognormal(r, 0.6)
		hp := 0.3
		switch {
		case c.pop >= 50000:
			hp = 2.0
		case c.pop >= 10000:
			hp = 1.2
		case c.pop >= 2000:
			hp = 0.7
		}
		wH[i] = c.children * hp * lognormal(r, 0.4)
		sumS += wS[i]
		sumH += wH[i]
	}
	for i := range g.communes {
		c := &g.communes[i]
		if sumS > 0 {
			c.ecole = stochRound(r, ecoleT*wS[i]/sumS)
		}
		if sumH > 0 {
			c.home = stochRound(r, homeT*wH[i]/sumH)
		}
	}
	// AM weights: more AMs (relative to children) in small communes.
	var sumA float64
	for i := range g.communes {
		c := &g.communes[i]
		h := 1.25
		switch {
		case c.pop >= 100000:
			h = 0.55
		case c.pop >= 50000:
			h = 0.7
		case c.pop >= 10000:
			h = 0.9
		case c.pop >= 2000:
			h = 1.1
		}
		c.amWeight = c.children * h * c.dens
		sumA += c.amWeight
	}
	// approved AMs at the window's start: active AMs' under-3 places should
	// reach amT at To, net of the departures over the window.
	perAM := under3Ratio * 3.39 * activeShare
	n0 := amT / perAM
	for i := range g.communes {
		if sumA > 0 {
			g.communes[i].amWeight = n0 * g.communes[i].amWeight / sumA
		}
	}

	// Yearly children and births.
	for y := g.cfg.first.year(); y <= g.toYear(); y++ {
		g.years = append(g.years, y)
	}
	for _, y := range g.years {
		ch := make([]float64, len(g.communes))
		bi := make([]int, len(g.communes))
		k := math.Pow(1.012, float64(g.toYear()-y))
		for i, c := range g.communes {
			v := c.children * k
			if y != g.toYear() {
				v *= 1 + 0.02*r.NormFloat64()
			}
			ch[i] = math.Max(0, math.Round(v*10)/10)
			bi[i] = poisson(r, ch[i]/3*(1+0.05*r.NormFloat64()))
		}
		g.childrenY = append(g.childrenY, ch)
		g.birthsY = append(g.birthsY, bi)
	}
}

func (g *deptGen) yearIndex(y int) int {
	i := y - g.years[0]
	return max(0, min(i, len(g.years)-1))
}

// hazard returns the yearly probability that an approval ends at age a.
func hazard(a int) float64 {
	switch {
	case a >= 65:
		return 0.40
	case a >= 60:
		return 0.17
	case a >= 55:
		return 0.06
	}
	return 0.03
}

// buildAMs creates the AMs approved at the window's start and those approved
// during it, with their whole life over the window drawn up front.
func (g *deptGen) buildAMs() {
	r := newRand(g.cfg.seed, g.d.code, "am")
	first := g.cfg.first
	var initial, arrivals []am
	var n0 float64
	for i := range g.communes {
		n0 += g.communes[i].amWeight
		n := stochRound(r, g.communes[i].amWeight)
		for range n {
			a := g.newAM(r, int32(i), false)
			initial = append(initial, a)
		}
	}
	// MAMs: groups of 2-4 AMs of one commune sharing an address.
	for lo := 0; lo < len(initial); {
		hi := lo
		for hi < len(initial) && initial[hi].commune == initial[lo].commune {
			hi++
		}
		n := hi - lo
		if n >= 4 {
			k := poisson(r, float64(n)*0.09/3)
			pos := lo
			for range k {
				size := 2 + r.IntN(3)
				if pos+size > hi {
					break
				}
				g.mams = append(g.mams, mam{name: uint8(r.IntN(len(mamNames))), streetNo: uint8(1 + r.IntN(80)), street: uint8(r.IntN(len(streets)))})
				for j := pos; j < pos+size; j++ {
					initial[j].mam = int16(len(g.mams))
				}
				pos += size + r.IntN(3)
			}
		}
		lo = hi
	}
	// arrivals
	cum := make([]float64, len(g.communes))
	t := 0.0
	for i, c := range g.communes {
		t += c.amWeight
		cum[i] = t
	}
	if t > 0 {
		for m := first; m <= g.cfg.to; m++ {
			k := poisson(r, n0*arrivalRate/12)
			for range k {
				ci := pick(r, cum)
				a := g.newAM(r, int32(ci), true)
				a.startM = m
				a.birthYear += int16(m.year() - first.year())
				a.agr = m.first() + day(r.IntN(m.days()))
				a.c = 0
				arrivals = append(arrivals, a)
			}
		}
	}
	// approval numbers in approval order
	sort.SliceStable(initial, func(i, j int) bool { return initial[i].agr < initial[j].agr })
	g.ams = append(initial, arrivals...)
	seq := 0
	for i := range g.ams {
		a := &g.ams[i]
		seq++
		y, _, _ := a.agr.ymd()
		b := make([]byte, 0, 16)
		b = append(b, g.code3...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, '-')
		s := strconv.Itoa(seq)
		for k := len(s); k < 6; k++ {
			b = append(b, '0')
		}
		b = append(b, s...)
		a.id = string(b)
		// end of approval, suspension
		for m := a.startM; m <= g.cfg.to; m++ {
			if m == a.startM && m > first {
				continue
			}
			if r.Float64() < hazard(m.year()-int(a.birthYear))/12 {
				a.endM = m
				a.endDay = m.first() + day(r.IntN(m.days()))
				a.withdrawn = r.Float64() < 0.08
				break
			}
		}
		if r.Float64() < 0.006*float64(g.cfg.months)/24 {
			a.suspFrom = first + month(r.IntN(g.cfg.months))
			a.suspTo = a.suspFrom + month(2+r.IntN(3))
		}
	}
}

func (g *deptGen) newAM(r *rand.Rand, ci int32, arrival bool) am {
	first := g.cfg.first
	a := am{commune: ci, endM: noMonth, suspFrom: noMonth, suspTo: noMonth, startM: first}
	var age float64
	if arrival {
		age = clamp(39+8*r.NormFloat64(), 21, 60)
	} else {
		age = clamp(47.3+10*r.NormFloat64(), 21, 67)
		tenure := math.Min(age-21, r.ExpFloat64()*11)
		a.agr = first.first() - day(tenure*365.25) - day(1+r.IntN(30))
	}
	a.birthYear = int16(first.year() - int(math.Round(age)))
	a.places = int8(1 + choose(r, []float64{0.03, 0.12, 0.28, 0.57}))
	for range a.places {
		if r.Float64() < under3Ratio {
			a.under3++
		}
	}
	a.w = a.places
	switch u := r.Float64(); {
	case u < 0.08:
		a.w = max(1, a.places-2)
	case u < 0.28:
		a.w = max(1, a.places-1)
	}
	dens := g.communes[ci].dens
	if r.Float64() < 0.88 {
		a.f = float32(0.35 + 0.45*r.Float64())
	} else {
		a.f = float32(0.03 + 0.12*r.Float64())
	}
	a.f = float32(clamp(float64(a.f)/math.Pow(dens, 0.8), 0.01, 0.95))
	a.dormant = !arrival && r.Float64() < 0.09
	a.declKind = uint8(choose(r, []float64{0.70, 0.12, 0.12, 0.06}))
	a.tranche = uint8(choose(r, []float64{0.50, 0.12, 0.28, 0.10}))
	for i, p := range flagProb {
		if r.Float64() < p {
			a.flags |= 1 << i
		}
	}
	switch u := r.Float64(); {
	case u < 0.5:
	case u < 0.85:
		a.atelier = 1
	default:
		a.atelier = 4
	}
	a.male = r.Float64() < 0.02
	if a.male {
		a.first = uint8(r.IntN(len(amMaleFirstNames)))
	} else {
		a.first = uint8(r.IntN(len(amFirstNames)))
	}
	a.last = uint8(r.IntN(len(lastNames)))
	a.streetNo = uint8(1 + r.IntN(120))
	a.street = uint8(r.IntN(len(streets)))
	a.phone = int32(r.IntN(1000000))
	if !arrival {
		a.c = int8(r.IntN(int(a.w) + 1))
	}
	return a
}

// buildRPEs groups communes into RPE areas: one RPE per EPCI, several for
// big EPCIs (communes of more than ~0.8 x rpeTargetAMs AMs alone, the others
// in groups of consecutive codes), then sizes their staff.
func (g *deptGen) buildRPEs() {
	r := newRand(g.cfg.seed, g.d.code, "rpe")
	amsPer := make([]int, len(g.communes))
	for _, a := range g.ams {
		if a.startM == g.cfg.first {
			amsPer[a.commune]++
		}
	}
	byEPCI := map[string][]int{}
	var keys []string
	for i, c := range g.communes {
		if _, ok := byEPCI[c.epci]; !ok {
			keys = append(keys, c.epci)
		}
		byEPCI[c.epci] = append(byEPCI[c.epci], i)
	}
	sort.Strings(keys)
	type group struct {
		epci     string
		communes []int
		whole    bool
	}
	var groups []group
	for _, k := range keys {
		cs := byEPCI[k]
		total := 0
		for _, i := range cs {
			total += amsPer[i]
		}
		n := int(math.Round(float64(total) / rpeTargetAMs))
		if n <= 1 {
			groups = append(groups, group{epci: k, communes: cs, whole: true})
			continue
		}
		target := float64(total) / float64(n)
		var rest []int
		for _, i := range cs {
			if float64(amsPer[i]) >= 0.8*target {
				groups = append(groups, group{epci: k, communes: []int{i}})
			} else {
				rest = append(rest, i)
			}
		}
		var cur []int
		acc := 0
		for _, i := range rest {
			cur = append(cur, i)
			acc += amsPer[i]
			if float64(acc) >= target {
				groups = append(groups, group{epci: k, communes: cur})
				cur, acc = nil, 0
			}
		}
		if len(cur) > 0 {
			if float64(acc) < target/2 && len(groups) > 0 && groups[len(groups)-1].epci == k && len(groups[len(groups)-1].communes) > 1 {
				last := &groups[len(groups)-1]
				last.communes = append(last.communes, cur...)
			} else {
				groups = append(groups, group{epci: k, communes: cur})
			}
		}
	}
	totalAMs := 0
	for _, n := range amsPer {
		totalAMs += n
	}
	for gi, gr := range groups {
		sort.Ints(gr.communes)
		rp := rpe{communes: gr.communes}
		rp.id = "RPE" + g.code3 + pad3(gi+1)
		main := gr.communes[0]
		for _, i := range gr.communes {
			g.communes[i].rpe = gi
			rp.amCount += amsPer[i]
			if g.communes[i].pop > g.communes[main].pop {
				main = i
			}
		}
		name := g.cfg.refs.epciName[gr.epci]
		switch {
		case gr.whole && name != "" && len(gr.communes) > 1:
			rp.name = "Relais petite enfance – " + name
		default:
			rp.name = "Relais petite enfance de " + g.communes[main].name
			if len(gr.communes) > 1 {
				rp.name += " et environs"
			}
		}
		if gr.whole && len(gr.communes) > 1 {
			rp.manager = managerTypes[choose(r, []float64{0.10, 0.55, 0.10, 0.15, 0.08, 0.02})]
		} else {
			rp.manager = managerTypes[choose(r, []float64{0.45, 0.05, 0.20, 0.20, 0.08, 0.02})]
		}
		rp.nAct = 0.85 + 0.3*r.Float64()
		g.rpes = append(g.rpes, rp)
	}
	// missions renforcées: a quarter of the RPEs, drawn at random
	for _, ri := range r.Perm(len(g.rpes))[:int(math.Round(reinforcedShare*float64(len(g.rpes))))] {
		rp := &g.rpes[ri]
		rp.gu = r.Float64() < 0.75
		rp.ap = r.Float64() < 0.45
		rp.promo = r.Float64() < 0.45
		if !rp.gu && !rp.ap && !rp.promo {
			rp.promo = true
		}
	}
	// staff: FTE proportional to AMs, 0.5-3, scaled so the département has
	// about amPerFTE approved AMs per FTE.
	want := float64(totalAMs) / amPerFTE
	lo, hi := 0.1, 10.0
	for range 40 {
		s := (lo + hi) / 2
		sum := 0.0
		for _, rp := range g.rpes {
			sum += fteOf(s, rp)
		}
		if sum > want {
			hi = s
		} else {
			lo = s
		}
	}
	for i := range g.rpes {
		g.rpes[i].fte = fteOf((lo+hi)/2, g.rpes[i])
	}
	for i := range g.ams {
		a := &g.ams[i]
		a.rpe = int32(g.communes[a.commune].rpe)
		g.rpes[a.rpe].ams = append(g.rpes[a.rpe].ams, int32(i))
	}
	for ri := range g.rpes {
		rp := &g.rpes[ri]
		tc, ta := 0.0, 0.0
		for _, i := range rp.communes {
			tc += g.communes[i].children + 0.01
			ta += float64(amsPer[i]) + 0.5
			rp.cumChildren = append(rp.cumChildren, tc)
			rp.cumAMs = append(rp.cumAMs, ta)
		}
	}
}

func fteOf(s float64, rp rpe) float64 {
	v := s * float64(rp.amCount) / amPerFTE * rp.nAct
	return clamp(math.Round(v*10)/10, 0.5, 3)
}

var managerTypes = []string{"commune", "EPCI", "CCAS/CIAS", "association", "mutuelle", "autre public"}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
