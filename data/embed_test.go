package data

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCommunes(t *testing.T) {
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	if len(communes) <= 34000 {
		t.Fatalf("%d communes, want > 34000", len(communes))
	}
	byCode := make(map[string]Commune, len(communes))
	for _, c := range communes {
		if _, dup := byCode[c.Code]; dup {
			t.Errorf("commune %s twice", c.Code)
		}
		byCode[c.Code] = c
	}

	rennes, ok := byCode["35238"]
	if !ok {
		t.Fatal("35238 (Rennes) missing")
	}
	if rennes.Name != "Rennes" || rennes.EPCI != "243500139" || rennes.Departement != "35" || rennes.Region != "53" {
		t.Errorf("Rennes = %+v", rennes)
	}
	if rennes.Population < 200000 {
		t.Errorf("Rennes population %d", rennes.Population)
	}

	paris, ok := byCode["75056"]
	if !ok || paris.EPCI == "" {
		t.Fatalf("75056 (Paris) = %+v", paris)
	}
	p1, ok := byCode["75101"]
	if !ok {
		t.Fatal("75101 (Paris 1er) missing")
	}
	if p1.Type != "arrondissement-municipal" || p1.EPCI != paris.EPCI {
		t.Errorf("75101 = %+v, want arrondissement-municipal in EPCI %s", p1, paris.EPCI)
	}

	epcis, err := EPCIs()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, e := range epcis {
		known[e.Code] = true
	}
	for _, c := range communes {
		if c.EPCI != "" && !known[c.EPCI] {
			t.Errorf("commune %s: EPCI %s not in epci.csv", c.Code, c.EPCI)
		}
	}
}

func TestDepartementsRegionsEPCIs(t *testing.T) {
	deps, err := Departements()
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != 101 {
		t.Errorf("%d départements, want 101", len(deps))
	}
	regs, err := Regions()
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 18 {
		t.Errorf("%d régions, want 18", len(regs))
	}
	regCodes := map[string]bool{}
	for _, r := range regs {
		regCodes[r.Code] = true
	}
	for _, d := range deps {
		if !regCodes[d.Region] {
			t.Errorf("département %s: région %s not in regions.csv", d.Code, d.Region)
		}
	}
	epcis, err := EPCIs()
	if err != nil {
		t.Fatal(err)
	}
	if len(epcis) <= 1200 {
		t.Errorf("%d EPCI, want > 1200", len(epcis))
	}
	for _, e := range epcis {
		if len(e.Code) != 9 {
			t.Errorf("EPCI %q: SIREN not 9 characters", e.Code)
		}
	}
}

func TestCommuneMerges(t *testing.T) {
	communes, err := Communes()
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]bool{}
	for _, c := range communes {
		current[c.Code] = true
	}
	b, err := ReadFile("territories/commune_merges.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || len(recs[0]) != 2 || recs[0][0] != "old_code" || recs[0][1] != "code" {
		t.Fatalf("commune_merges.csv: header %v, %d records", recs[0], len(recs))
	}
	if len(recs) < 1000 {
		t.Errorf("commune_merges.csv: only %d rows", len(recs)-1)
	}
	for _, r := range recs[1:] {
		if r[0] == r[1] {
			t.Errorf("merge %s -> itself", r[0])
		}
		if current[r[0]] {
			t.Errorf("old code %s is a current commune", r[0])
		}
		if !current[r[1]] {
			t.Errorf("old code %s maps to %s, not a current commune", r[0], r[1])
		}
	}
}

func TestAssets(t *testing.T) {
	js, err := ReadFile("assets/echarts.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) == 0 {
		t.Error("assets/echarts.min.js is empty")
	}
	svg, err := ReadFile("assets/france-departements.svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<svg`, `name="35"`, `name="2A"`, `name="2B"`, `name="01"`, `name="95"`} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("france-departements.svg lacks %s", want)
		}
	}
	if n := bytes.Count(svg, []byte("<path ")); n != 96 {
		t.Errorf("france-departements.svg has %d paths, want 96", n)
	}
	if _, err := ReadFile("assets/LICENSES.md"); err != nil {
		t.Error(err)
	}
}
