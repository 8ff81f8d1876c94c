package demo

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// ---- RPE register (XLSX) ----

var rpeHeader = []string{"Identifiant RPE", "Nom du relais", "Type de gestionnaire", "Communes couvertes", "ETP animateurs", "Missions renforcées"}

func fteLabel(v float64) string { return string(appendDec1(nil, v)) }

func (g *deptGen) writeRPERegister() error {
	rel := "rpe/registre_rpe_" + g.d.code + ".xlsx"
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "RPE"); err != nil {
		return err
	}
	// fixed properties: the file must not depend on when it was written
	if err := f.SetDocProps(&excelize.DocProperties{
		Creator: "observatoire demo", LastModifiedBy: "observatoire demo",
		Created: "2026-01-01T00:00:00Z", Modified: "2026-01-01T00:00:00Z",
		Title: "Registre des relais petite enfance", Language: "fr-FR",
	}); err != nil {
		return err
	}
	set := func(row int, vals []string) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		v := make([]any, len(vals))
		for i, s := range vals {
			v[i] = s
		}
		return f.SetSheetRow("RPE", cell, &v)
	}
	if err := set(1, []string{"Registre des relais petite enfance – " + g.d.name}); err != nil {
		return err
	}
	if err := set(3, rpeHeader); err != nil {
		return err
	}
	row := 4
	for _, rp := range g.rpes {
		var cs []byte
		for k, i := range rp.communes {
			if k > 0 {
				cs = append(cs, ", "...)
			}
			cs = append(cs, g.communes[i].code...)
		}
		var ms []byte
		for _, m := range []struct {
			on   bool
			name string
		}{{rp.gu, "guichet unique"}, {rp.ap, "analyse de pratique"}, {rp.promo, "promotion de l'activité"}} {
			if m.on {
				if len(ms) > 0 {
					ms = append(ms, ", "...)
				}
				ms = append(ms, m.name...)
			}
		}
		if err := set(row, []string{rp.id, rp.name, rp.manager, string(cs), fteLabel(rp.fte), string(ms)}); err != nil {
			return err
		}
		row++
	}
	bad := 0
	if g.cfg.bad {
		// one bad row: negative staff and no commune covered
		if err := set(row, []string{"RPE" + g.code3 + "999", "Relais fictif (ligne erronée)", "commune", "", "-1,0", ""}); err != nil {
			return err
		}
		bad = 1
	}
	path := filepath.Join(g.cfg.dir, filepath.FromSlash(rel))
	if err := mkdirFor(path); err != nil {
		return err
	}
	if err := f.SaveAs(path); err != nil {
		return err
	}
	g.stats = append(g.stats, fileStat{rel: rel, source: SrcRPERegister, rows: int64(len(g.rpes) + bad), bad: bad})
	return nil
}

// ---- RPE activity ----

const (
	evPermanence = iota
	evPhone
	evEmail
	evInPerson
	evAppointment
	evAtelier
	evCollective
	evMeeting
	evConference
	evTraining
	evPractice
)

var eventLabels = []string{"Permanence", "Contact téléphonique", "Contact courriel", "Contact physique", "Rendez-vous",
	"Atelier d'éveil", "Temps collectif", "Réunion", "Conférence", "Formation continue", "Analyse de la pratique"}

var publicLabels = []string{"Parent", "Assistant maternel", "Garde à domicile", "Partenaire"}

var themeLabels = []string{"Recherche d'un mode d'accueil", "Contrat et rémunération", "Formalités employeur", "Conflit", "Formation", "Métier et agrément", "Autre"}

// topic mix per public (same order as themeLabels).
var themeMix = [][]float64{
	{0.45, 0.25, 0.18, 0.04, 0, 0, 0.08},
	{0, 0.30, 0.08, 0.08, 0.18, 0.22, 0.14},
	{0, 0.35, 0.15, 0.05, 0.15, 0.15, 0.15},
	{0.10, 0, 0, 0, 0.10, 0.20, 0.60},
}

// contactsPerFTE: contacts (phone, e-mail, in person, appointment) per FTE
// and month, before seasonality.
const contactsPerFTE = 95

var seasonActivity = [13]float64{0, 1.0, 0.95, 1.05, 0.95, 0.95, 1.05, 0.75, 0.35, 1.25, 1.05, 1.0, 0.8}
var seasonAtelier = [13]float64{0, 1.0, 1.0, 1.05, 0.95, 1.0, 1.05, 0.6, 0.15, 0.9, 1.05, 1.0, 0.8}

type event struct {
	date          day
	kind          int8
	public, theme int8 // -1: empty
	commune       int32
	nAM, nEnf     int16
	nPar          int16
	pFrom, pTo    int32 // participants in the arena
}

var activityHeader = []string{"rpe", "date", "type", "public", "theme", "commune", "nb_am", "nb_enfants", "nb_parents", "participants"}

func (g *deptGen) writeActivity(r *rand.Rand, m month) error {
	rel := "activite/activite_rpe_" + g.d.code + "_" + m.String() + ".csv"
	c, err := g.open(rel, SrcRPEActivity, activityHeader, int(m), []defect{
		{5, g.unknown}, {7, "-3"}, {1, impossibleDate(m.year())}, {0, ""},
	})
	if err != nil {
		return err
	}
	var workdays []day
	for d := m.first(); d <= m.last(); d++ {
		if wd := d.weekday(); wd != 0 && wd != 6 {
			workdays = append(workdays, d)
		}
	}
	var (
		evs      []event
		arena    []int32
		atCand   []int32
		atCum    []float64
		trCand   []int32
		trCum    []float64
		partsBuf []byte
		sorted   []event
		counts   [31*11 + 1]int
	)
	sa, st := seasonActivity[m.num()], seasonAtelier[m.num()]
	for ri := range g.rpes {
		rp := &g.rpes[ri]
		evs, arena = evs[:0], arena[:0]
		atCand, atCum, trCand, trCum = atCand[:0], atCum[:0], trCand[:0], trCum[:0]
		ta, tt := 0.0, 0.0
		for _, ai := range rp.ams {
			a := &g.ams[ai]
			if !a.approvedIn(m) || a.suspendedIn(m) || a.dormant {
				continue
			}
			if a.c > 0 && a.atelier > 0 {
				ta += float64(a.atelier)
				atCand = append(atCand, ai)
				atCum = append(atCum, ta)
			}
			tt += 1 + float64(a.atelier)
			trCand = append(trCand, ai)
			trCum = append(trCum, tt)
		}
		wd := func() day { return workdays[r.IntN(len(workdays))] }
		sample := func(k int, cand []int32, cum []float64) (int32, int32) {
			from := int32(len(arena))
			k = min(k, len(cand))
			for tries := 0; int(int32(len(arena))-from) < k && tries < 8*k; tries++ {
				ai := cand[pick(r, cum)]
				if !slices.Contains(arena[from:], ai) {
					arena = append(arena, ai)
				}
			}
			return from, int32(len(arena))
		}
		fte := rp.fte
		// contacts
		for range poisson(r, fte*contactsPerFTE*sa) {
			e := event{date: wd(), kind: int8(evPhone + choose(r, []float64{0.45, 0.27, 0.13, 0.15})), commune: -1}
			e.public = int8(choose(r, []float64{0.55, 0.38, 0.04, 0.03}))
			e.theme = int8(choose(r, themeMix[e.public]))
			switch e.public {
			case 0:
				e.commune = int32(rp.communes[pick(r, rp.cumChildren)])
				e.nPar = 1
				if e.kind == evAppointment && r.Float64() < 0.25 {
					e.nPar = 2
				}
			case 1:
				e.commune = int32(rp.communes[pick(r, rp.cumAMs)])
				e.nAM = 1
			case 2:
				e.commune = int32(rp.communes[pick(r, rp.cumChildren)])
			case 3:
				if r.Float64() < 0.4 {
					e.commune = int32(rp.communes[pick(r, rp.cumChildren)])
				}
			}
			if r.Float64() < 0.06 {
				e.commune = -1
			}
			if (e.kind == evInPerson || e.kind == evAppointment) && e.public == 0 && r.Float64() < 0.2 {
				e.nEnf = 1
			}
			evs = append(evs, e)
		}
		collective := func(kind int) event { return event{date: wd(), kind: int8(kind), public: -1, theme: -1, commune: -1} }
		for range poisson(r, fte*4*sa) {
			e := collective(evPermanence)
			e.nPar, e.nAM, e.nEnf = int16(poisson(r, 2.5)), int16(poisson(r, 1.5)), int16(poisson(r, 1))
			evs = append(evs, e)
		}
		for range poisson(r, fte*7*st) {
			e := collective(evAtelier)
			e.pFrom, e.pTo = sample(3+r.IntN(6), atCand, atCum)
			if e.pTo == e.pFrom {
				arena = arena[:e.pFrom]
				continue
			}
			e.nAM = int16(e.pTo - e.pFrom)
			for _, ai := range arena[e.pFrom:e.pTo] {
				e.nEnf += int16(min(int(g.ams[ai].c), 1+r.IntN(3)))
			}
			if r.Float64() < 0.1 {
				e.nPar = int16(1 + r.IntN(2))
			}
			evs = append(evs, e)
		}
		for range poisson(r, fte*0.7*st) {
			e := collective(evCollective)
			e.nAM = int16(4 + r.IntN(10))
			e.nEnf = e.nAM*2 + int16(r.IntN(4))
			e.nPar = int16(r.IntN(8))
			evs = append(evs, e)
		}
		for range poisson(r, 2*sa) {
			e := collective(evMeeting)
			if r.Float64() < 0.3 {
				e.nAM = int16(5 + r.IntN(20))
			}
			evs = append(evs, e)
		}
		for range poisson(r, 0.3*sa) {
			e := collective(evConference)
			e.nPar, e.nAM = int16(5+r.IntN(35)), int16(3+r.IntN(20))
			evs = append(evs, e)
		}
		training := 0.6 * st
		practice := 0.1 * st
		if rp.ap {
			practice = 1.0 * st
		}
		for _, tr := range []struct {
			kind   int
			lambda float64
			k      int
		}{{evTraining, training, 5 + r.IntN(8)}, {evPractice, practice, 5 + r.IntN(6)}} {
			for range poisson(r, tr.lambda) {
				e := collective(tr.kind)
				e.pFrom, e.pTo = sample(tr.k, trCand, trCum)
				if e.pTo == e.pFrom {
					continue
				}
				e.nAM = int16(e.pTo - e.pFrom)
				evs = append(evs, e)
			}
		}
		// by date then kind, stable (a counting sort: keys are few)
		clear(counts[:])
		for _, e := range evs {
			counts[int(e.date-m.first())*len(eventLabels)+int(e.kind)+1]++
		}
		for k := 1; k < len(counts); k++ {
			counts[k] += counts[k-1]
		}
		sorted = slices.Grow(sorted[:0], len(evs))[:len(evs)]
		for _, e := range evs {
			k := int(e.date-m.first())*len(eventLabels) + int(e.kind)
			sorted[counts[k]] = e
			counts[k]++
		}
		for _, e := range sorted {
			c.str(rp.id)
			c.date(e.date)
			c.str(eventLabels[e.kind])
			if e.public >= 0 {
				c.str(publicLabels[e.public])
				c.str(themeLabels[e.theme])
			} else {
				c.empty()
				c.empty()
			}
			if e.commune >= 0 {
				c.str(g.communes[e.commune].code)
			} else {
				c.empty()
			}
			c.int(int(e.nAM))
			c.int(int(e.nEnf))
			c.int(int(e.nPar))
			partsBuf = partsBuf[:0]
			for k, ai := range arena[e.pFrom:e.pTo] {
				if k > 0 {
					partsBuf = append(partsBuf, '|')
				}
				partsBuf = append(partsBuf, g.ams[ai].id...)
			}
			c.bytes(partsBuf)
			c.end()
		}
	}
	return g.done(c)
}

// ---- family requests ----

var requestHeader = []string{"id_demande", "rpe", "nom_parent", "telephone", "courriel", "commune", "date_reception", "age_enfant_mois",
	"date_debut_souhaitee", "horaires_atypiques", "handicap", "mode_souhaite", "date_premiere_reponse", "issue", "date_issue"}

var seasonRequests = [13]float64{0, 1.1, 1.0, 1.05, 1.0, 1.0, 1.05, 0.85, 0.6, 1.25, 1.1, 1.0, 0.8}

var modeLabels = []string{"assistant maternel", "crèche", "indifférent"}

const (
	outAM = iota
	outCreche
	outOther
	outNone
	outWithdrawn
	outPending
)

var outcomeLabels = []string{"assistant maternel trouvé", "crèche trouvée", "autre solution", "sans solution", "abandon", "en cours"}

// found-outcome mix per wanted mode: AM, crèche, other.
var foundMix = [][]float64{{0.85, 0.05, 0.10}, {0.35, 0.55, 0.10}, {0.60, 0.30, 0.10}}

type request struct {
	commune             int32
	recv, start, answer day
	outDay              day
	age, mode, out      int8
	atyp, hand          bool
	first, last         uint8
	phone               int32
}

func (g *deptGen) requestID(b []byte, y, seq int) []byte {
	b = append(b, 'D')
	b = append(b, g.d.code...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-')
	for p := 100000; p > 1 && seq < p; p /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(seq), 10)
}

func (g *deptGen) writeRequests(r *rand.Rand, m month) error {
	rel := "demandes/demandes_" + g.d.code + "_" + m.String() + ".csv"
	c, err := g.open(rel, SrcFamilyRequest, requestHeader, int(m), []defect{
		{5, g.unknown}, {6, impossibleDate(m.year())}, {6, ""},
	})
	if err != nil {
		return err
	}
	c.idCol = 0
	c.freshID = func(b []byte, n int) []byte { return g.requestID(b, m.year(), 990000+n) }
	end := g.cfg.to.last()
	births := g.birthsY[g.yearIndex(m.year())]
	reqs := g.reqBuf[:0]
	for i := range g.communes {
		cm := &g.communes[i]
		rp := &g.rpes[cm.rpe]
		n := poisson(r, float64(births[i])/12*requestRate*seasonRequests[m.num()])
		for range n {
			q := request{commune: int32(i)}
			q.recv = m.first() + day(r.IntN(m.days()))
			switch k := choose(r, []float64{0.02, 0.40, 0.22, 0.28, 0.08}); k {
			case 0:
				q.age = int8(-1 - r.IntN(9))
			case 1:
				q.age = int8(2 + r.IntN(3))
			case 2:
				q.age = int8(5 + r.IntN(7))
			case 3:
				q.age = int8(12 + r.IntN(13))
			default:
				q.age = int8(25 + r.IntN(12))
			}
			q.start = q.recv + day(20+r.IntN(220))
			if r.Float64() < 0.5 {
				y, mo, _ := q.start.ymd()
				q.start = (mkMonth(y, mo) + 1).first()
			}
			q.atyp = r.Float64() < 0.10
			q.hand = r.Float64() < 0.02
			q.mode = int8(choose(r, []float64{0.45, 0.30, 0.25}))
			need := 0
			if q.atyp {
				need |= reqAtypical
			}
			if q.hand {
				need |= reqDisability
			}
			if q.age < 18 {
				need |= reqInfant
			}
			// first answer: faster at a guichet unique, long tail, some never
			med, sigma, never := 6.5, 1.0, 0.08
			if rp.gu {
				med, sigma, never = 3.5, 0.8, 0.03
			}
			if r.Float64() >= never {
				q.answer = q.recv + day(math.Round(med*math.Exp(sigma*r.NormFloat64())))
			}
			// outcome: unmet when no declared vacant place fits the request
			pU := 0.45
			switch {
			case g.fit[i*8+need] > 0:
				pU = 0.11
			case g.fitRPE[int(cm.rpe)*8+need] > 0:
				pU = 0.30
			case g.fit[i*8] > 0:
				pU = 0.55
			}
			if q.atyp {
				pU *= 1.6
			}
			if q.hand {
				pU *= 1.8
			}
			if q.age < 12 {
				pU *= 1.2
			}
			if q.mode == 1 {
				pU *= 1.2
			}
			pU = math.Min(pU, 0.9)
			u := r.Float64()
			switch {
			case q.answer == 0:
				if u < 0.5 {
					q.out, q.outDay = outWithdrawn, q.recv+day(30+r.IntN(90))
				} else {
					q.out, q.outDay = outNone, q.start+day(r.IntN(30))
				}
			case u < pU:
				q.out, q.outDay = outNone, max(q.start, q.answer)+day(r.IntN(30))
			case u < pU+0.05:
				q.out, q.outDay = outWithdrawn, q.answer+day(10+r.IntN(80))
			default:
				q.out = int8(choose(r, foundMix[q.mode]))
				span := max(7, int(q.start-q.answer))
				q.outDay = q.answer + day(3+r.IntN(span))
			}
			if q.answer > end {
				q.answer = 0
			}
			if q.outDay > end {
				q.out, q.outDay = outPending, 0
			}
			q.first, q.last, q.phone = uint8(r.IntN(len(parentFirstNames))), uint8(r.IntN(len(lastNames))), int32(r.IntN(1000000))
			reqs = append(reqs, q)
		}
	}
	// numbered in the order received
	slices.SortStableFunc(reqs, func(a, b request) int { return int(a.recv - b.recv) })
	g.reqBuf = reqs
	var b []byte
	y := m.year()
	for _, q := range reqs {
		cm := &g.communes[q.commune]
		g.reqSeq[y]++
		c.bytes(g.requestID(b[:0], y, g.reqSeq[y]))
		c.str(g.rpes[cm.rpe].id)
		b = append(b[:0], parentFirstNames[q.first]...)
		b = append(b, ' ')
		b = append(b, lastNames[q.last]...)
		c.bytes(b)
		c.bytes(appendPhone(b[:0], int(q.phone)))
		b = append(b[:0], parentFirstASCII[q.first]...)
		b = append(b, '.')
		b = append(b, lastASCII[q.last]...)
		b = append(b, "@exemple.fr"...)
		c.bytes(b)
		c.str(cm.code)
		c.date(q.recv)
		c.int(int(q.age))
		c.date(q.start)
		c.yn(q.atyp)
		c.yn(q.hand)
		c.str(modeLabels[q.mode])
		c.optDate(q.answer)
		c.str(outcomeLabels[q.out])
		c.optDate(q.outDay)
		c.end()
	}
	return g.done(c)
}
