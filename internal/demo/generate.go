package demo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/rpe-observatoire/observatoire/data"
)

// Scale presets.
const (
	ScaleDepartement = "departement"
	ScaleRegion      = "region"
	ScaleNational    = "national"
)

// Defaults.
const (
	DefaultTo     = "2026-10"
	DefaultMonths = 24
	MinMonths     = 24
)

// Options drives Generate.
type Options struct {
	Dir          string   // output root (created if missing)
	Departements []string // départements to generate ("35"); default ["35"]; scale presets fill it
	Scale        string   // ScaleDepartement (default), ScaleRegion (all départements of the region of Departements[0]), ScaleNational (all 101)
	Seed         int64    // default 1
	To           string   // last month "YYYY-MM", default DefaultTo (fixed, so output never depends on today's date)
	Months       int      // number of months ending at To, default and minimum 24
	// BadRows: write the deliberately bad rows described in the package
	// documentation. A Go bool cannot default to true: the zero Options has
	// no bad rows; DefaultOptions (and the CLI) set it to true.
	BadRows bool
	// Workers: départements generated at once; default GOMAXPROCS. The output
	// does not depend on it.
	Workers int
}

// DefaultOptions returns the documented defaults (département 35, seed 1,
// 24 months ending at DefaultTo, bad rows on) writing under dir.
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, Departements: []string{"35"}, Scale: ScaleDepartement, Seed: 1, To: DefaultTo, Months: DefaultMonths, BadRows: true}
}

// Summary reports what Generate wrote.
type Summary struct {
	Dir          string
	Departements []string         // départements generated, in order
	From, To     string           // first and last month "YYYY-MM"
	Files        []string         // every file written, relative to Dir, slash-separated, sorted
	Rows         map[string]int64 // per source (Sources): data rows written, bad rows included (header and title rows excluded)
	FileRows     map[string]int64 // per file: data rows written, bad rows included
	Bad          map[string]int   // per file: deliberately bad rows (every file has an entry, possibly 0)
}

// BadRowCount returns the number of deliberately bad rows written in all
// files: an ingest of the whole output must read Σ Rows rows, accept
// Σ Rows - BadRowCount and reject BadRowCount.
func BadRowCount(s Summary) int64 {
	var n int64
	for _, v := range s.Bad {
		n += int64(v)
	}
	return n
}

// BadBySource returns the deliberately bad rows per source.
func (s Summary) BadBySource() map[string]int64 {
	out := map[string]int64{}
	for f, n := range s.Bad {
		out[sourceOfFile(f)] += int64(n)
	}
	return out
}

func sourceOfFile(rel string) string {
	for _, p := range []struct{ prefix, src string }{
		{"population/", SrcPopulation}, {"pmi/", SrcAMRegister}, {"disponibilites/", SrcAvailability},
		{"rpe/", SrcRPERegister}, {"activite/", SrcRPEActivity}, {"demandes/", SrcFamilyRequest}, {"caf/", SrcCollectivePlaces},
	} {
		if len(rel) >= len(p.prefix) && rel[:len(p.prefix)] == p.prefix {
			return p.src
		}
	}
	return ""
}

// config is Options resolved.
type config struct {
	dir    string
	seed   int64
	first  month
	to     month
	bad    bool
	depts  []deptRef
	refs   *refData
	months int
}

type deptRef struct {
	code, name, region string
}

// Generate writes the synthetic exports for the chosen départements under
// opt.Dir. The same options always produce byte-identical files.
func Generate(ctx context.Context, opt Options) (Summary, error) {
	cfg, err := resolve(opt)
	if err != nil {
		return Summary{}, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(cfg.depts))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]fileStat, len(cfg.depts))
	errs := make([]error, len(cfg.depts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = generateDept(ctx, cfg, cfg.depts[i])
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	for i := range cfg.depts {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	// report the error that stopped the others, not their cancellation
	for _, pass := range []bool{false, true} {
		for i, err := range errs {
			if err != nil && (pass || !errors.Is(err, context.Canceled)) {
				return Summary{}, fmt.Errorf("demo: département %s: %w", cfg.depts[i].code, err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}

	s := Summary{Dir: cfg.dir, From: cfg.first.String(), To: cfg.to.String(),
		Rows: map[string]int64{}, FileRows: map[string]int64{}, Bad: map[string]int{}}
	for _, src := range Sources {
		s.Rows[src] = 0
	}
	for i, d := range cfg.depts {
		s.Departements = append(s.Departements, d.code)
		for _, f := range results[i] {
			s.Files = append(s.Files, f.rel)
			s.Rows[f.source] += f.rows
			s.FileRows[f.rel] = f.rows
			s.Bad[f.rel] = f.bad
		}
	}
	sort.Strings(s.Files)
	return s, nil
}

func resolve(opt Options) (*config, error) {
	cfg := &config{dir: opt.Dir, seed: opt.Seed, bad: opt.BadRows, months: opt.Months}
	if cfg.dir == "" {
		return nil, fmt.Errorf("demo: no output directory")
	}
	if cfg.seed == 0 {
		cfg.seed = 1
	}
	toS := opt.To
	if toS == "" {
		toS = DefaultTo
	}
	to, ok := parseMonth(toS)
	if !ok {
		return nil, fmt.Errorf("demo: To %q is not a month YYYY-MM", opt.To)
	}
	cfg.to = to
	if cfg.months == 0 {
		cfg.months = DefaultMonths
	}
	if cfg.months < MinMonths {
		return nil, fmt.Errorf("demo: Months %d: at least %d", opt.Months, MinMonths)
	}
	cfg.first = to - month(cfg.months-1)

	refs, err := loadRefs()
	if err != nil {
		return nil, err
	}
	cfg.refs = refs
	wanted := opt.Departements
	if len(wanted) == 0 {
		wanted = []string{"35"}
	}
	scale := opt.Scale
	if scale == "" {
		scale = ScaleDepartement
	}
	byCode := map[string]deptRef{}
	for _, d := range refs.depts {
		byCode[d.code] = d
	}
	for _, w := range wanted {
		if _, ok := byCode[w]; !ok {
			return nil, fmt.Errorf("demo: unknown département %q", w)
		}
	}
	switch scale {
	case ScaleDepartement:
		seen := map[string]bool{}
		for _, w := range wanted {
			if !seen[w] {
				seen[w] = true
				cfg.depts = append(cfg.depts, byCode[w])
			}
		}
	case ScaleRegion:
		reg := byCode[wanted[0]].region
		for _, d := range refs.depts {
			if d.region == reg {
				cfg.depts = append(cfg.depts, d)
			}
		}
	case ScaleNational:
		cfg.depts = slices.Clone(refs.depts)
	default:
		return nil, fmt.Errorf("demo: unknown scale %q (departement, region, national)", opt.Scale)
	}
	return cfg, nil
}

// refData is the reference data every département needs.
type refData struct {
	depts    []deptRef
	communes map[string][]data.Commune // by département, sorted by code
	known    map[string]bool           // every commune code of the COG
	epciName map[string]string
	regName  map[string]string
}

var (
	refsOnce sync.Once
	refsVal  *refData
	refsErr  error
)

func loadRefs() (*refData, error) {
	refsOnce.Do(func() { refsVal, refsErr = readRefs() })
	return refsVal, refsErr
}

// plmParents are the communes split into municipal arrondissements: the
// generator works on the arrondissements (as INSEE and the CAF do) and skips
// the parent commune, whose population is their sum.
var plmParents = map[string]bool{"75056": true, "69123": true, "13055": true}

func readRefs() (*refData, error) {
	ds, err := data.Departements()
	if err != nil {
		return nil, err
	}
	cs, err := data.Communes()
	if err != nil {
		return nil, err
	}
	es, err := data.EPCIs()
	if err != nil {
		return nil, err
	}
	rs, err := data.Regions()
	if err != nil {
		return nil, err
	}
	r := &refData{communes: map[string][]data.Commune{}, known: map[string]bool{}, epciName: map[string]string{}, regName: map[string]string{}}
	for _, d := range ds {
		r.depts = append(r.depts, deptRef{code: d.Code, name: d.Name, region: d.Region})
	}
	sort.Slice(r.depts, func(i, j int) bool { return r.depts[i].code < r.depts[j].code })
	for _, c := range cs {
		r.known[c.Code] = true
		if plmParents[c.Code] {
			continue
		}
		r.communes[c.Departement] = append(r.communes[c.Departement], c)
	}
	for k := range r.communes {
		v := r.communes[k]
		sort.Slice(v, func(i, j int) bool { return v[i].Code < v[j].Code })
	}
	for _, e := range es {
		r.epciName[e.Code] = e.Name
	}
	for _, g := range rs {
		r.regName[g.Code] = g.Name
	}
	return r, nil
}

// unknownCommune returns a well-formed commune code of the département that
// is not in the COG ("35999"), for the bad rows.
func (r *refData) unknownCommune(dept string) string {
	prefix := dept
	if len(dept) == 2 {
		for n := 999; n >= 900; n-- {
			c := fmt.Sprintf("%s%03d", prefix, n)
			if !r.known[c] {
				return c
			}
		}
	}
	for n := 99; n >= 90; n-- {
		c := fmt.Sprintf("%s%02d", prefix, n)
		if !r.known[c] {
			return c
		}
	}
	return "99999"
}
