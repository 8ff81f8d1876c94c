package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rpe-observatoire/observatoire/data"
	"github.com/xuri/excelize/v2"
)

// ---- helpers: reading the files back as ingest would ----

func generate(t *testing.T, opt Options) Summary {
	t.Helper()
	s, err := Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readCSV reads a generated file, checking the encoding rules of
// docs/source-layouts.md (UTF-8, CRLF on every line, ';').
func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		t.Fatalf("%s: not UTF-8", path)
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("%s: BOM", path)
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) || bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		t.Fatalf("%s: not CRLF throughout", path)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = ';'
	all, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return all[0], all[1:]
}

var communeSet = func() map[string]bool {
	cs, err := data.Communes()
	if err != nil {
		panic(err)
	}
	m := map[string]bool{}
	for _, c := range cs {
		m[c.Code] = true
	}
	return m
}()

func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse("02/01/2006", s)
	return t, err == nil && len(s) == 10
}

func optDateOK(s string) bool { _, ok := parseDate(s); return s == "" || ok }
func dateOK(s string) bool    { _, ok := parseDate(s); return ok }
func natOK(s string) bool     { n, err := strconv.Atoi(s); return err == nil && n >= 0 }
func ynOK(s string) bool      { return s == "oui" || s == "non" }
func decOK(s string) bool {
	if strings.Contains(s, ".") {
		return false
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	return err == nil && v >= 0
}
func inSet(s string, set ...string) bool { return slices.Contains(set, s) }

// layout is one source's documented header and a row validator: the rows it
// rejects must be exactly the deliberately bad ones.
type layout struct {
	source string
	header []string
	valid  func(r []string) bool
}

var layouts = map[string]layout{
	"population": {SrcPopulation, []string{"code_commune", "annee", "enfants_0_2", "naissances"}, func(r []string) bool {
		return communeSet[r[0]] && natOK(r[1]) && decOK(r[2]) && natOK(r[3])
	}},
	"pmi": {SrcAMRegister, []string{"numero_agrement", "nom", "prenom", "adresse", "telephone", "courriel", "commune_exercice", "exercice_mam",
		"date_agrement", "date_fin", "statut", "places_agreees", "places_moins_3_ans", "annee_naissance"}, func(r []string) bool {
		p, _ := strconv.Atoi(r[11])
		u, err := strconv.Atoi(r[12])
		return r[0] != "" && r[1] != "" && r[2] != "" && communeSet[r[6]] && ynOK(r[7]) && dateOK(r[8]) && optDateOK(r[9]) &&
			inSet(r[10], "en activité", "suspendu", "retiré", "cessation") && p >= 1 && p <= 4 && err == nil && u >= 0 && u <= p && natOK(r[13])
	}},
	"disponibilites": {SrcAvailability, []string{"numero_agrement", "commune", "date_declaration", "enfants_accueillis", "places_disponibles", "date_disponibilite",
		"tranche_age", "avant_7h", "apres_20h", "samedi", "dimanche", "nuit", "periscolaire", "mercredi", "vacances", "handicap", "occasionnel"}, func(r []string) bool {
		ok := r[0] != "" && communeSet[r[1]] && optDateOK(r[2]) && natOK(r[3]) && natOK(r[4]) && optDateOK(r[5]) &&
			inSet(r[6], "moins de 18 mois", "18 mois - 3 ans", "plus de 3 ans", "tous âges")
		for _, v := range r[7:] {
			ok = ok && ynOK(v)
		}
		return ok
	}},
	"activite": {SrcRPEActivity, []string{"rpe", "date", "type", "public", "theme", "commune", "nb_am", "nb_enfants", "nb_parents", "participants"}, func(r []string) bool {
		return r[0] != "" && dateOK(r[1]) && inSet(r[2], eventLabels...) && (r[3] == "" || inSet(r[3], publicLabels...)) &&
			(r[4] == "" || inSet(r[4], themeLabels...)) && (r[5] == "" || communeSet[r[5]]) && natOK(r[6]) && natOK(r[7]) && natOK(r[8])
	}},
	"demandes": {SrcFamilyRequest, []string{"id_demande", "rpe", "nom_parent", "telephone", "courriel", "commune", "date_reception", "age_enfant_mois",
		"date_debut_souhaitee", "horaires_atypiques", "handicap", "mode_souhaite", "date_premiere_reponse", "issue", "date_issue"}, func(r []string) bool {
		age, err := strconv.Atoi(r[7])
		return r[0] != "" && r[1] != "" && communeSet[r[5]] && dateOK(r[6]) && err == nil && age >= -9 && age <= 36 && dateOK(r[8]) &&
			ynOK(r[9]) && ynOK(r[10]) && inSet(r[11], modeLabels...) && optDateOK(r[12]) && inSet(r[13], outcomeLabels...) && optDateOK(r[14])
	}},
	"caf": {SrcCollectivePlaces, []string{"date_reference", "num_commune", "nom_commune", "numero_EPCI", "nom_EPCI", "numero_departement", "nom_departement",
		"places_EAJE_PSU", "places_hors_EAJE_PSU", "places_EAJE_ensemble", "places_prescolarisation", "places_assistante_maternelle",
		"places_salariee_domicile", "places_accueil_individuel_ensemble", "places_offertes_ensemble"}, func(r []string) bool {
		ok := natOK(r[0]) && communeSet[r[1]] && r[2] != ""
		for _, v := range r[7:] {
			ok = ok && natOK(v)
		}
		return ok
	}},
}

// readRPE reads the RPE register workbook: title, empty row, header, rows.
func readRPE(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("RPE")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 4 || !strings.HasPrefix(rows[0][0], "Registre des relais petite enfance – ") || len(rows[1]) != 0 {
		t.Fatalf("%s: title rows %q", path, rows[:min(3, len(rows))])
	}
	if want := []string{"Identifiant RPE", "Nom du relais", "Type de gestionnaire", "Communes couvertes", "ETP animateurs", "Missions renforcées"}; !slices.Equal(rows[2], want) {
		t.Fatalf("%s: header %q", path, rows[2])
	}
	return rows[3:]
}

func rpeRowValid(r []string) bool {
	for len(r) < 6 {
		r = append(r, "")
	}
	ok := r[0] != "" && r[1] != "" && inSet(r[2], managerTypes...) && r[3] != "" && decOK(r[4])
	for _, c := range strings.Split(r[3], ", ") {
		ok = ok && communeSet[c]
	}
	if r[5] != "" {
		for _, m := range strings.Split(r[5], ", ") {
			ok = ok && inSet(m, "guichet unique", "analyse de pratique", "promotion de l'activité")
		}
	}
	return ok
}

func hashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ---- tests ----

func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  func(dir string) Options
	}{
		{"48 defaults", func(dir string) Options { o := DefaultOptions(dir); o.Departements = []string{"48"}; return o }},
		{"23 seed 7, 30 months to 2025-06, 2 workers", func(dir string) Options {
			return Options{Dir: dir, Departements: []string{"23", "48"}, Seed: 7, To: "2025-06", Months: 30, BadRows: true, Workers: 2}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			sa := generate(t, tc.opt(a))
			sb := generate(t, tc.opt(b))
			ha, hb := hashes(t, a), hashes(t, b)
			if len(ha) != len(sa.Files) {
				t.Fatalf("%d files on disk, summary lists %d", len(ha), len(sa.Files))
			}
			for f, h := range ha {
				if hb[f] != h {
					t.Errorf("%s differs between two runs", f)
				}
			}
			sa.Dir, sb.Dir = "", ""
			if !slices.Equal(sa.Files, sb.Files) || sa.Rows[SrcRPEActivity] != sb.Rows[SrcRPEActivity] {
				t.Errorf("summaries differ")
			}
		})
	}
	// another seed gives other data
	a, b := t.TempDir(), t.TempDir()
	o := DefaultOptions(a)
	o.Departements = []string{"48"}
	generate(t, o)
	o.Dir, o.Seed = b, 2
	generate(t, o)
	if hashes(t, a)["disponibilites/disponibilites_48_2026-10.csv"] == hashes(t, b)["disponibilites/disponibilites_48_2026-10.csv"] {
		t.Error("seed 2 wrote the same availability as seed 1")
	}
}

// TestLayouts checks every file of a small département: name, header,
// encoding, and that the rows a strict reader rejects are exactly the bad
// rows the summary announces (read = accepted + rejected).
func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		dept string
		bad  bool
	}{{"48", true}, {"48", false}, {"2A", true}} {
		t.Run(tc.dept+"/bad="+strconv.FormatBool(tc.bad), func(t *testing.T) {
			dir := t.TempDir()
			o := DefaultOptions(dir)
			o.Departements, o.BadRows = []string{tc.dept}, tc.bad
			s := generate(t, o)
			// 3 years (2024-2026) x (population + caf), 24 x (availability,
			// activity, requests), 5 register snapshots (window start, then every 6 months), 1 workbook
			if got, want := len(s.Files), 3*2+24*3+5+1; got != want {
				t.Errorf("%d files, want %d", got, want)
			}
			perSource := map[string]int64{}
			kinds := map[string]bool{}
			for _, f := range s.Files {
				dirName := strings.Split(f, "/")[0]
				if !strings.Contains(filepath.Base(f), "_"+tc.dept) {
					t.Errorf("%s: name does not carry the département", f)
				}
				var rows [][]string
				var valid func([]string) bool
				if dirName == "rpe" {
					if f != "rpe/registre_rpe_"+tc.dept+".xlsx" {
						t.Errorf("unexpected %s", f)
					}
					rows, valid = readRPE(t, filepath.Join(dir, f)), rpeRowValid
					perSource[SrcRPERegister] += int64(len(rows))
				} else {
					l, ok := layouts[dirName]
					if !ok {
						t.Fatalf("unexpected file %s", f)
					}
					var header []string
					header, rows = readCSV(t, filepath.Join(dir, f))
					if !slices.Equal(header, l.header) {
						t.Errorf("%s: header %q", f, header)
					}
					valid = l.valid
					perSource[l.source] += int64(len(rows))
				}
				rejected := 0
				for _, r := range rows {
					if !valid(r) {
						rejected++
					}
				}
				if int64(len(rows)) != s.FileRows[f] {
					t.Errorf("%s: %d rows, summary says %d", f, len(rows), s.FileRows[f])
				}
				if rejected != s.Bad[f] {
					t.Errorf("%s: %d rows rejected, summary says %d bad", f, rejected, s.Bad[f])
				}
				if tc.bad && rejected == 0 {
					t.Errorf("%s: no bad row", f)
				}
				kinds[dirName] = true
			}
			if len(kinds) != 7 {
				t.Errorf("file kinds %v", kinds)
			}
			for _, src := range Sources {
				if perSource[src] != s.Rows[src] || s.Rows[src] == 0 {
					t.Errorf("%s: %d rows read, summary %d", src, perSource[src], s.Rows[src])
				}
			}
			if !tc.bad && BadRowCount(s) != 0 {
				t.Errorf("BadRows false: %d bad rows", BadRowCount(s))
			}
			if tc.bad {
				var total int64
				for _, v := range s.Rows {
					total += v
				}
				if share := float64(BadRowCount(s)) / float64(total); share > 0.005 {
					t.Errorf("bad rows are %.2f%% of rows", share*100)
				}
			}
		})
	}
}

// calibration holds what TestCalibration measures on the generated rows.
type calibration struct {
	children                           float64
	coverage, am, eaje, ecole, home    float64
	amApproved, amActive               int
	fte                                float64
	amPerFTE, meanAge, share55         float64
	placesPerAM, under3Ratio           float64
	underactive, stale                 float64
	medianDelay, within8, unmet        float64
	atypUnmet, plainUnmet, requests    float64
	rpes, rpesRenforcees, ateliersPart float64
	rpeCommunesOK                      bool
}

func measure(t *testing.T, dir, dept string, to month) calibration {
	t.Helper()
	var c calibration
	y := strconv.Itoa(to.year())
	valid := func(l string) func([]string) bool { return layouts[l].valid }
	_, rows := readCSV(t, filepath.Join(dir, "population", "population_"+dept+"_"+y+".csv"))
	for _, r := range rows {
		if valid("population")(r) {
			v, _ := strconv.ParseFloat(strings.Replace(r[2], ",", ".", 1), 64)
			c.children += v
		}
	}
	var psu, hors, ecole, home float64
	_, rows = readCSV(t, filepath.Join(dir, "caf", "nbpla_pe_com_"+dept+"_"+y+".csv"))
	for _, r := range rows {
		if valid("caf")(r) {
			n := func(i int) float64 { v, _ := strconv.Atoi(r[i]); return float64(v) }
			psu, hors, ecole, home = psu+n(7), hors+n(8), ecole+n(10), home+n(12)
		}
	}
	type amRec struct {
		places, under3, birth int
		approved              bool
	}
	reg := map[string]amRec{}
	_, rows = readCSV(t, filepath.Join(dir, "pmi", "registre_am_"+dept+"_"+to.String()+".csv"))
	var places, under3, ages, old int
	for _, r := range rows {
		if !valid("pmi")(r) {
			continue
		}
		p, _ := strconv.Atoi(r[11])
		u, _ := strconv.Atoi(r[12])
		b, _ := strconv.Atoi(r[13])
		a := amRec{p, u, b, r[9] == ""}
		reg[r[0]] = a
		if a.approved {
			c.amApproved++
			places += p
			under3 += u
			ages += to.year() - b
			if to.year()-b >= 55 {
				old++
			}
		}
	}
	c.placesPerAM = float64(places) / float64(c.amApproved)
	c.under3Ratio = float64(under3) / float64(places)
	c.meanAge = float64(ages) / float64(c.amApproved)
	c.share55 = 100 * float64(old) / float64(c.amApproved)

	// availability over the last three months
	underMonths := map[string]int{}
	var amU3 float64
	for k := 2; k >= 0; k-- {
		m := to - month(k)
		_, rows = readCSV(t, filepath.Join(dir, "disponibilites", "disponibilites_"+dept+"_"+m.String()+".csv"))
		for _, r := range rows {
			if !valid("disponibilites")(r) {
				continue
			}
			a, ok := reg[r[0]]
			if !ok {
				t.Fatalf("availability of %s, not in the register", r[0])
			}
			kids, _ := strconv.Atoi(r[3])
			avail, _ := strconv.Atoi(r[4])
			if avail > 0 && a.places-kids > 0 {
				underMonths[r[0]]++
			}
			if k == 0 {
				if kids > 0 {
					c.amActive++
					amU3 += float64(a.under3)
				}
				d, ok := parseDate(r[2])
				if !ok || d.Before(time.Date(to.year(), time.Month(to.num()), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -6, 0)) {
					c.stale++
				}
			}
		}
	}
	underactive := 0
	for _, n := range underMonths {
		if n == 3 {
			underactive++
		}
	}
	c.underactive = 100 * float64(underactive) / float64(c.amActive)
	c.stale = 100 * c.stale / float64(c.amApproved)
	pct := func(v float64) float64 { return 100 * v / c.children }
	c.am, c.eaje, c.ecole, c.home = pct(amU3), pct(psu+hors), pct(ecole), pct(home)
	c.coverage = c.am + c.eaje + c.ecole + c.home

	// RPE register
	rpeRows := readRPE(t, filepath.Join(dir, "rpe", "registre_rpe_"+dept+".xlsx"))
	covered := map[string]int{}
	for _, r := range rpeRows {
		if !rpeRowValid(r) {
			continue
		}
		c.rpes++
		v, _ := strconv.ParseFloat(strings.Replace(r[4], ",", ".", 1), 64)
		if v < 0.5 || v > 3 {
			t.Errorf("RPE %s: %v FTE", r[0], v)
		}
		c.fte += v
		if len(r) > 5 && r[5] != "" {
			c.rpesRenforcees++
		}
		for _, cc := range strings.Split(r[3], ", ") {
			covered[cc]++
		}
	}
	c.rpeCommunesOK = true
	for _, r := range rows { // last availability file: every AM's commune is covered once
		if valid("disponibilites")(r) && covered[r[1]] != 1 {
			c.rpeCommunesOK = false
		}
	}
	_, popRows := readCSV(t, filepath.Join(dir, "population", "population_"+dept+"_"+y+".csv"))
	for _, r := range popRows {
		if valid("population")(r) && covered[r[0]] != 1 {
			c.rpeCommunesOK = false
		}
	}
	c.amPerFTE = float64(c.amApproved) / c.fte

	// ateliers: distinct participants over the last month / active
	_, rows = readCSV(t, filepath.Join(dir, "activite", "activite_rpe_"+dept+"_"+to.String()+".csv"))
	seen := map[string]bool{}
	for _, r := range rows {
		if valid("activite")(r) && r[2] == "Atelier d'éveil" {
			for _, p := range strings.Split(r[9], "|") {
				if _, ok := reg[p]; !ok {
					t.Fatalf("atelier participant %q not in the register", p)
				}
				seen[p] = true
			}
		}
	}
	c.ateliersPart = 100 * float64(len(seen)) / float64(c.amActive)

	// requests over the whole window
	var delays []float64
	var closed, unmet, atyp, atypUnmet, plain, plainUnmet, answered8 float64
	files, _ := filepath.Glob(filepath.Join(dir, "demandes", "demandes_"+dept+"_*.csv"))
	for _, f := range files {
		_, rows = readCSV(t, f)
		for _, r := range rows {
			if !valid("demandes")(r) {
				continue
			}
			c.requests++
			recv, _ := parseDate(r[6])
			if ans, ok := parseDate(r[12]); ok {
				d := ans.Sub(recv).Hours() / 24
				delays = append(delays, d)
				if d <= 8 {
					answered8++
				}
			}
			if r[13] == "en cours" {
				continue
			}
			closed++
			none := r[13] == "sans solution"
			if none {
				unmet++
			}
			age, _ := strconv.Atoi(r[7])
			switch {
			case r[9] == "oui":
				atyp++
				if none {
					atypUnmet++
				}
			case r[10] == "non" && age >= 18:
				plain++
				if none {
					plainUnmet++
				}
			}
		}
	}
	sort.Float64s(delays)
	c.medianDelay = delays[len(delays)/2]
	c.within8 = 100 * answered8 / c.requests
	c.unmet = 100 * unmet / closed
	c.atypUnmet = 100 * atypUnmet / atyp
	c.plainUnmet = 100 * plainUnmet / plain
	return c
}

func TestCalibration35(t *testing.T) {
	dir := t.TempDir()
	s := generate(t, DefaultOptions(dir))
	to, _ := parseMonth(s.To)
	c := measure(t, dir, "35", to)
	t.Logf("%+v", c)
	for _, ch := range []struct {
		name      string
		v, lo, hi float64
	}{
		{"coverage rate", c.coverage, 55, 65},
		{"AM part", c.am, 28, 36},
		{"EAJE part", c.eaje, 18, 26},
		{"école part", c.ecole, 2, 4.5},
		{"home part", c.home, 1, 3.5},
		{"children per inhabitant %", 100 * c.children / 1120666, 2.9, 3.5},
		{"approved AMs per FTE", c.amPerFTE, 60, 75},
		{"places per AM", c.placesPerAM, 3.2, 3.5},
		{"under-3 places / places", c.under3Ratio, 0.77, 0.85},
		{"active / approved %", 100 * float64(c.amActive) / float64(c.amApproved), 82, 95},
		{"mean AM age", c.meanAge, 46, 50},
		{"AMs 55+ %", c.share55, 18, 40},
		{"under-active 3+ months % of active", c.underactive, 5, 20},
		{"stale or never declared %", c.stale, 15, 35},
		{"median answer delay, days", c.medianDelay, 2, 21},
		{"answered within 8 days %", c.within8, 40, 85},
		{"unmet share %", c.unmet, 12, 28},
		{"RPEs with missions renforcées %", 100 * c.rpesRenforcees / c.rpes, 20, 30},
		{"atelier participants last month % of active", c.ateliersPart, 15, 80},
		{"requests per month", c.requests / 24, 250, 600},
	} {
		if !(ch.v >= ch.lo && ch.v <= ch.hi) {
			t.Errorf("%s = %.2f, want %v-%v", ch.name, ch.v, ch.lo, ch.hi)
		}
	}
	if c.atypUnmet < 1.5*c.plainUnmet {
		t.Errorf("unmet: atypical %.1f%%, plain %.1f%%: no signal", c.atypUnmet, c.plainUnmet)
	}
	if !c.rpeCommunesOK {
		t.Error("some commune is not covered by exactly one RPE")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   Options
		depts int
		err   bool
	}{
		{"default département", Options{Dir: "x"}, 1, false},
		{"region of 35", Options{Dir: "x", Departements: []string{"35"}, Scale: ScaleRegion}, 4, false},
		{"region of 971", Options{Dir: "x", Departements: []string{"971"}, Scale: ScaleRegion}, 1, false},
		{"national", Options{Dir: "x", Scale: ScaleNational}, 101, false},
		{"two départements, one twice", Options{Dir: "x", Departements: []string{"35", "2A", "35"}}, 2, false},
		{"unknown département", Options{Dir: "x", Departements: []string{"99"}}, 0, true},
		{"unknown scale", Options{Dir: "x", Scale: "monde"}, 0, true},
		{"too few months", Options{Dir: "x", Months: 12}, 0, true},
		{"bad To", Options{Dir: "x", To: "2026-13"}, 0, true},
		{"no dir", Options{}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := resolve(tc.opt)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if err == nil && len(cfg.depts) != tc.depts {
				t.Errorf("%d départements, want %d", len(cfg.depts), tc.depts)
			}
		})
	}
	cfg, _ := resolve(Options{Dir: "x"})
	if cfg.first.String() != "2024-11" || cfg.to.String() != "2026-10" || cfg.seed != 1 {
		t.Errorf("defaults: %v %v %d", cfg.first, cfg.to, cfg.seed)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := DefaultOptions(t.TempDir())
	o.Departements = []string{"48"}
	if _, err := Generate(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestDates(t *testing.T) {
	for _, d := range []time.Time{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)} {
		got := mkDay(d.Year(), int(d.Month()), d.Day())
		if want := day(d.Unix() / 86400); got != want {
			t.Errorf("%v: %d, want %d", d, got, want)
		}
		if y, m, dd := got.ymd(); y != d.Year() || m != int(d.Month()) || dd != d.Day() {
			t.Errorf("%v: ymd %d %d %d", d, y, m, dd)
		}
		if got.weekday() != int(d.Weekday()) {
			t.Errorf("%v: weekday %d", d, got.weekday())
		}
		if s := string(appendDate(nil, got)); s != d.Format("02/01/2006") {
			t.Errorf("%v: %s", d, s)
		}
	}
	if s := string(appendDec1(nil, 123.44)); s != "123,4" {
		t.Error(s)
	}
	if math.Abs(float64(mkMonth(2026, 2).days())-28) > 0 {
		t.Error("february")
	}
}
