package benchnational

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/demo"
)

// Dataset is the generated input of a benchmark: the base window (Months
// months ending at To) in Base, and the month after it, alone, in Next.
type Dataset struct {
	Key  string `json:"key"`  // cache key: generator options + hash of internal/demo
	Dir  string `json:"dir"`  // cache entry: Base, Next and manifest.json
	Base string `json:"base"` // the national (or smoke) set
	Next string `json:"next"` // the files of month To+1 only
	// NextMonth is To + 1 month ("2026-11").
	NextMonth string `json:"next_month"`
	From, To  string

	Files      int              `json:"files"`
	Bytes      int64            `json:"bytes"`
	Rows       map[string]int64 `json:"rows"` // per source, bad rows included
	Bad        int64            `json:"bad_rows"`
	NextFiles  int              `json:"next_files"`
	NextBytes  int64            `json:"next_bytes"`
	NextRows   map[string]int64 `json:"next_rows"`
	Generated  time.Duration    `json:"generated_ns"` // time the generator took (both sets), when made
	GeneratedT string           `json:"generated_at"`
	Cached     bool             `json:"cached"` // taken from the cache by this run
}

// TotalRows is the rows of every source of the base set.
func (d *Dataset) TotalRows() int64 { return sum(d.Rows) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// datasetKey hashes the generator options and the Go sources of
// internal/demo (and the embedded territories it reads), so that the cached
// set is regenerated exactly when one of them changes.
func datasetKey(root string, o demo.Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "scale=%s deps=%s months=%d to=%s seed=%d bad=%v\n", o.Scale, strings.Join(o.Departements, ","), o.Months, o.To, o.Seed, o.BadRows)
	var files []string
	for _, pat := range []string{"internal/demo/*.go", "data/territories/*"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			return "", err
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no generator sources under %s/internal/demo", root)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(root, f)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// nextMonth returns the month after "YYYY-MM".
func nextMonth(m string) (string, error) {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return "", fmt.Errorf("month %q: %w", m, err)
	}
	return t.AddDate(0, 1, 0).Format("2006-01"), nil
}

// prepareDataset returns the cached set for o under cacheDir, generating
// it when missing. The month after the window is made by generating the
// window extended by one month (same seed, same start) and keeping only the
// files of that month, as the sources would send them: availability,
// activity, requests and the AM register of that month; the yearly files
// (population, CAF places) and the RPE workbook are not re-sent.
// Entries of other keys under cacheDir are removed (4 GB each nationally).
func prepareDataset(ctx context.Context, root, cacheDir string, o demo.Options, log io.Writer) (*Dataset, error) {
	key, err := datasetKey(root, o)
	if err != nil {
		return nil, err
	}
	next, err := nextMonth(o.To)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cacheDir, key)
	manifest := filepath.Join(dir, "manifest.json")
	if b, err := os.ReadFile(manifest); err == nil {
		var d Dataset
		if err := json.Unmarshal(b, &d); err == nil && d.Key == key {
			d.Dir, d.Base, d.Next = dir, filepath.Join(dir, "base"), filepath.Join(dir, "next")
			d.Cached = true
			fmt.Fprintf(log, "dataset: cached %s (%d files, %s, %d rows)\n", dir, d.Files, size(d.Bytes), d.TotalRows())
			return &d, nil
		}
	}
	// A stale entry of the same set (older generator or options of this
	// scale), or a half-written one of this key. Sets of another scale stay:
	// a region run must not throw away the 4.5 GB national set.
	label := cacheLabel(o)
	if ents, err := os.ReadDir(cacheDir); err == nil {
		for _, e := range ents {
			p := filepath.Join(cacheDir, e.Name())
			if e.IsDir() && isCacheEntry(p) && (e.Name() == key || entryLabel(p) == "" || entryLabel(p) == label) {
				fmt.Fprintf(log, "dataset: removing stale cache entry %s\n", p)
				if err := os.RemoveAll(p); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Marks the folder as ours before anything big is written in it.
	if err := os.WriteFile(filepath.Join(dir, ".benchnational"), []byte(key+"\n"+label+"\n"), 0o644); err != nil {
		return nil, err
	}
	d := &Dataset{Key: key, Dir: dir, Base: filepath.Join(dir, "base"), Next: filepath.Join(dir, "next"), NextMonth: next}
	t0 := time.Now()
	fmt.Fprintf(log, "dataset: generating %s scale, %d months to %s into %s\n", o.Scale, o.Months, o.To, d.Base)
	bo := o
	bo.Dir = d.Base
	s, err := demo.Generate(ctx, bo)
	if err != nil {
		return nil, err
	}
	d.From, d.To = s.From, s.To
	d.Files, d.Rows, d.Bad = len(s.Files), s.Rows, demo.BadRowCount(s)
	if d.Bytes, err = dirBytes(d.Base); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "dataset: %d files, %s, %d rows in %s\n", d.Files, size(d.Bytes), d.TotalRows(), time.Since(t0).Round(time.Millisecond))

	// The next month: the same window one month longer, keeping that month's files.
	t1 := time.Now()
	tmp := filepath.Join(dir, "next.tmp")
	os.RemoveAll(tmp)
	no := o
	no.Dir, no.To, no.Months = tmp, next, o.Months+1
	ns, err := demo.Generate(ctx, no)
	if err != nil {
		return nil, err
	}
	d.NextRows = map[string]int64{}
	suffix := "_" + next + "."
	for _, rel := range ns.Files {
		if !strings.Contains(filepath.Base(rel), suffix) {
			continue
		}
		dst := filepath.Join(d.Next, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(tmp, filepath.FromSlash(rel)), dst); err != nil {
			return nil, err
		}
		d.NextFiles++
		d.NextRows[sourceOf(rel)] += ns.FileRows[rel]
	}
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	if d.NextFiles == 0 {
		return nil, fmt.Errorf("dataset: the generator wrote no file for %s", next)
	}
	if d.NextBytes, err = dirBytes(d.Next); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "dataset: next month %s: %d files, %s in %s\n", next, d.NextFiles, size(d.NextBytes), time.Since(t1).Round(time.Millisecond))
	d.Generated = time.Since(t0)
	d.GeneratedT = time.Now().UTC().Format(time.RFC3339)
	b, _ := json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		return nil, err
	}
	return d, nil
}

// isCacheEntry: a folder the harness made (it holds our marker file).
// cacheLabel names the set a cache entry holds, whatever its key: the
// scale and, below national, the département asked for.
func cacheLabel(o demo.Options) string {
	if o.Scale == demo.ScaleNational {
		return o.Scale
	}
	return o.Scale + "/" + strings.Join(o.Departements, ",")
}

// entryLabel is the label written in an entry's marker ("" for entries
// written before labels).
func entryLabel(p string) string {
	b, err := os.ReadFile(filepath.Join(p, ".benchnational"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return ""
	}
	return strings.TrimSpace(lines[1])
}

func isCacheEntry(p string) bool {
	_, err := os.Stat(filepath.Join(p, ".benchnational"))
	return err == nil
}

// sourceOf maps a generated file to its source contract, by folder.
func sourceOf(rel string) string {
	dir, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	switch dir {
	case "population":
		return demo.SrcPopulation
	case "pmi":
		return demo.SrcAMRegister
	case "disponibilites":
		return demo.SrcAvailability
	case "rpe":
		return demo.SrcRPERegister
	case "activite":
		return demo.SrcRPEActivity
	case "demandes":
		return demo.SrcFamilyRequest
	case "caf":
		return demo.SrcCollectivePlaces
	}
	return dir
}

func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// warmCache reads every file once so that the first timed step does not
// pay for a cold page cache the others do not.
func warmCache(dirs ...string) (int64, error) {
	var n int64
	buf := make([]byte, 1<<20)
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			m, err := io.CopyBuffer(io.Discard, f, buf)
			n += m
			return err
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// listFiles returns the files under dir, relative, slash-separated, sorted.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out, err
}
