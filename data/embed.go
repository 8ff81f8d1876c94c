// Package data holds the reference data and static assets the observatory
// ships with: the official territories (COG 2026, derived from the npm package
// @etalab/decoupage-administratif by scripts/derive-refdata.sh) and the
// JavaScript/SVG assets that reports embed so they open offline.
//
// Everything here is committed and embedded in the binary: a user's machine
// needs neither npm nor network access.
package data

import (
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"strconv"
)

// Territories holds territories/*.csv (comma-separated, UTF-8, with header).
//
//go:embed territories/*.csv
var Territories embed.FS

// Assets holds assets/* (echarts.min.js, france-departements.svg, ...).
//
//go:embed assets/*
var Assets embed.FS

// Commune is one row of territories/communes.csv: a current commune
// (type "commune-actuelle") or a municipal arrondissement of Paris, Lyon or
// Marseille (type "arrondissement-municipal").
type Commune struct {
	Code        string // COG code, 5 characters ("35238", "2A004", "75101")
	Name        string
	Type        string
	Departement string // "35", "2A", "971"
	Region      string // "53"
	EPCI        string // SIREN of the EPCI, empty when the commune has none
	Population  int    // municipal population
}

// Communes reads territories/communes.csv.
func Communes() ([]Commune, error) {
	var out []Commune
	err := readCSV("territories/communes.csv", []string{"code", "nom", "type", "departement", "region", "epci", "population"},
		func(rec []string) error {
			pop, err := strconv.Atoi(rec[6])
			if err != nil && rec[6] != "" {
				return fmt.Errorf("population %q: %w", rec[6], err)
			}
			out = append(out, Commune{Code: rec[0], Name: rec[1], Type: rec[2], Departement: rec[3], Region: rec[4], EPCI: rec[5], Population: pop})
			return nil
		})
	return out, err
}

// Departement is one row of territories/departements.csv.
type Departement struct {
	Code   string
	Name   string
	Region string
}

// Departements reads territories/departements.csv.
func Departements() ([]Departement, error) {
	var out []Departement
	err := readCSV("territories/departements.csv", []string{"code", "nom", "region"}, func(rec []string) error {
		out = append(out, Departement{Code: rec[0], Name: rec[1], Region: rec[2]})
		return nil
	})
	return out, err
}

// Region is one row of territories/regions.csv.
type Region struct {
	Code string
	Name string
}

// Regions reads territories/regions.csv.
func Regions() ([]Region, error) {
	var out []Region
	err := readCSV("territories/regions.csv", []string{"code", "nom"}, func(rec []string) error {
		out = append(out, Region{Code: rec[0], Name: rec[1]})
		return nil
	})
	return out, err
}

// EPCI is one row of territories/epci.csv.
type EPCI struct {
	Code string // SIREN, 9 digits
	Name string
	Type string // CC, CA, CU, METRO, MET69
}

// EPCIs reads territories/epci.csv.
func EPCIs() ([]EPCI, error) {
	var out []EPCI
	err := readCSV("territories/epci.csv", []string{"code", "nom", "type"}, func(rec []string) error {
		out = append(out, EPCI{Code: rec[0], Name: rec[1], Type: rec[2]})
		return nil
	})
	return out, err
}

// readCSV streams an embedded CSV file, checking that its header starts with
// the wanted columns, and hands each record to fn.
func readCSV(name string, header []string, fn func([]string) error) error {
	f, err := Territories.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	got, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	if len(got) < len(header) {
		return fmt.Errorf("%s: header %v, want %v", name, got, header)
	}
	for i, h := range header {
		if got[i] != h {
			return fmt.Errorf("%s: column %d is %q, want %q", name, i+1, got[i], h)
		}
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fn(rec); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

// ReadFile returns an embedded file by its path under data/
// ("territories/communes.csv", "assets/echarts.min.js").
func ReadFile(name string) ([]byte, error) {
	if b, err := fs.ReadFile(Territories, name); err == nil {
		return b, nil
	}
	return fs.ReadFile(Assets, name)
}
