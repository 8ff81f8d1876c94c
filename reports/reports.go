// Package reports writes the observatory's periodic diagnostic: one report
// per territory and period, comparison reports for CAF advisers and an
// index, as a static site (one shared echarts asset, relative links, works
// from file://) and as standalone single-file HTML reports that open
// offline from an e-mail attachment.
//
// Reports read indicators only through the mart.published_indicator(k)
// macro (statistical confidentiality applied by the warehouse) and names
// and labels from ref.territory and mart.indicator_catalog.
package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options of a build.
type Options struct {
	OutDir               string   // site root; standalone files in OutDir/standalone/
	MinCount             int      // confidentiality threshold, default 5
	MinCommunePopulation int      // communes get their own report above this population (default 10000)
	Periods              []string // optional filter; default: every year, the latest quarter and the latest month
	CommuneGeoJSON       string   // optional GeoJSON of communes (properties code/nom, INSEE_COM...) for a commune map
	Now                  time.Time

	// Standalone chooses which reports also get a standalone file:
	// "latest" (default) the latest selected year (else the latest selected
	// period) of every territory, "all" every report, "none" none.
	Standalone string
	// Workers renders pages in parallel (default GOMAXPROCS).
	Workers int
}

// Result of a build.
type Result struct {
	Pages      int    // site pages written (territory, comparison and index pages)
	Standalone int    // standalone files written
	Index      string // path of index.html
	Bytes      int64  // bytes written (site and standalone)

	// Phases (wall time): reading the warehouse, rendering and writing.
	Load   time.Duration `json:"-"`
	Render time.Duration `json:"-"`
	// CPU time (user + system, every thread of the process: Go and DuckDB)
	// of the same phases; the machine may be shared.
	LoadCPU, RenderCPU time.Duration `json:"-"`
}

// processCPU is the user+system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxMinCount is the largest confidentiality threshold: int.mask_interval
// packs each masking interval's bounds in 14 bits.
const maxMinCount = 16383

// Build writes the site into a temporary sibling of opt.OutDir and renames
// it into place at the end, so a failed build never replaces the published
// site.
func Build(ctx context.Context, db *sql.DB, opt Options) (Result, error) {
	if opt.OutDir == "" {
		return Result{}, errors.New("reports: OutDir is empty")
	}
	if opt.MinCount <= 0 {
		opt.MinCount = 5
	}
	if opt.MinCount > maxMinCount {
		return Result{}, fmt.Errorf("reports: min_count %d is above %d, the largest threshold the masking intervals hold (int.mask_interval)", opt.MinCount, maxMinCount)
	}
	if opt.MinCommunePopulation <= 0 {
		opt.MinCommunePopulation = 10000
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	switch opt.Standalone {
	case "":
		opt.Standalone = "latest"
	case "latest", "all", "none":
	default:
		return Result{}, fmt.Errorf("reports: Standalone %q: want latest, all or none", opt.Standalone)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	out, err := filepath.Abs(opt.OutDir)
	if err != nil {
		return Result{}, err
	}

	cpu0 := processCPU()
	w, err := load(ctx, db, opt)
	if err != nil {
		return Result{}, err
	}
	cpu1 := processCPU()
	b := &builder{w: w, opt: opt}
	if opt.CommuneGeoJSON != "" {
		g, err := loadCommuneGeo(opt.CommuneGeoJSON)
		if err != nil {
			return Result{}, err
		}
		g.prepare(w)
		b.geo = g
	}

	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".building-")
	if err != nil {
		return Result{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Result{}, err
	}

	rstart := time.Now()
	res, err := b.write(ctx, tmp)
	if err != nil {
		return Result{}, err
	}
	res.Load, res.Render = w.loadTime, time.Since(rstart)
	res.LoadCPU, res.RenderCPU = cpu1-cpu0, processCPU()-cpu1

	// Swap the new site in.
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return Result{}, fmt.Errorf("reports: move the previous site away: %w", err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		if old != "" {
			os.Rename(old, out)
		}
		return Result{}, fmt.Errorf("reports: move the new site in place: %w", err)
	}
	ok = true
	if old != "" {
		os.RemoveAll(old)
	}
	res.Index = filepath.Join(out, "index.html")
	return res, nil
}

// job is one page to render.
type job struct {
	t       *territory
	p       *period
	compare bool
	alone   bool // also write the standalone file
}

// write renders everything under dir.
func (b *builder) write(ctx context.Context, dir string) (Result, error) {
	var res Result
	a, err := newAssets()
	if err != nil {
		return res, err
	}
	n, err := a.writeSite(dir)
	if err != nil {
		return res, err
	}
	res.Bytes += n

	jobs := b.jobs()
	// Commune map assets: one per area, shared by its pages.
	if b.geo != nil {
		done := map[string]bool{}
		if err := os.MkdirAll(filepath.Join(dir, "assets", "geo"), 0o755); err != nil {
			return res, err
		}
		for _, j := range jobs {
			if j.compare {
				continue
			}
			area := j.t
			if area.Level == "commune" && area.parent != nil {
				area = area.parent
			}
			key, codes := b.geo.areaFor(area)
			if key == "" || done[key] {
				continue
			}
			done[key] = true
			js := b.geo.script(key, codes)
			if err := os.WriteFile(filepath.Join(dir, "assets", "geo", key+".js"), js, 0o644); err != nil {
				return res, err
			}
			res.Bytes += int64(len(js))
		}
	}

	// Directories first, then pages in parallel.
	dirs := map[string]bool{filepath.Join(dir, "standalone"): true}
	for _, j := range jobs {
		rel := pagePath(j.t, j.p)
		if j.compare {
			rel = comparePath(j.t, j.p)
		}
		dirs[filepath.Dir(filepath.Join(dir, rel))] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, err
		}
	}
	var pages, alone atomic.Int64
	var bytes atomic.Int64
	ch := make(chan job)
	errc := make(chan error, b.opt.Workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range b.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRenderer(a)
			for j := range ch {
				n, s, err := b.renderJob(r, dir, j)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				pages.Add(1)
				bytes.Add(n)
				if s > 0 {
					alone.Add(1)
					bytes.Add(s)
				}
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errc:
		return res, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// Index pages.
	r := newRenderer(a)
	n, np, err := b.writeIndexes(r, dir, jobs)
	if err != nil {
		return res, err
	}
	res.Pages = int(pages.Load()) + np
	res.Standalone = int(alone.Load())
	res.Bytes += bytes.Load() + n
	return res, nil
}

// jobs lists the pages to render.
func (b *builder) jobs() []job {
	var out []job
	var sel []*period
	for _, p := range b.w.periods {
		if p.selected {
			sel = append(sel, p)
		}
	}
	// The standalone period of a territory: latest selected year, else the
	// latest selected period it has data for.
	aloneFor := func(t *territory) *period {
		var best *period
		for _, p := range sel {
			if b.w.block(t, p) == nil {
				continue
			}
			if best == nil || (p.Kind == "year") && (best.Kind != "year" || p.Start.After(best.Start)) ||
				best.Kind != "year" && p.Kind != "year" && p.Start.After(best.Start) {
				best = p
			}
		}
		return best
	}
	for _, t := range b.w.terrs {
		if !t.page {
			continue
		}
		var ap *period
		if b.opt.Standalone == "latest" {
			ap = aloneFor(t)
		}
		for _, p := range sel {
			if b.w.block(t, p) == nil {
				continue
			}
			out = append(out, job{t: t, p: p, alone: b.opt.Standalone == "all" || p == ap})
			if b.hasComparison(t, p) {
				out = append(out, job{t: t, p: p, compare: true})
			}
		}
	}
	return out
}

func (b *builder) renderJob(r *renderer, dir string, j job) (int64, int64, error) {
	var pm *pageModel
	if j.compare {
		pm = b.comparePage(j.t, j.p, siteLinks(2))
	} else {
		pm = b.territoryPage(j.t, j.p, siteLinks(2))
	}
	n, err := r.writePage(filepath.Join(dir, filepath.FromSlash(pm.Path)), pm, false, "../../", b.geoScript(pm))
	if err != nil {
		return 0, 0, err
	}
	if !j.alone {
		return n, 0, nil
	}
	spm := b.territoryPage(j.t, j.p, linker{standalone: true})
	name := standalonePath(j.t, j.p)
	s, err := r.writePage(filepath.Join(dir, filepath.FromSlash(name)), spm, true, "", b.geoScript(spm))
	return n, s, err
}

func (b *builder) geoScript(pm *pageModel) []byte {
	if pm.geoKey == "" || b.geo == nil {
		return nil
	}
	area := pm.Territory
	if area.Level == "commune" && area.parent != nil {
		area = area.parent
	}
	key, codes := b.geo.areaFor(area)
	return b.geo.script(key, codes)
}
