// Command benchnational runs the national benchmark (make bench-national):
// it generates the national demo set once into a cache, then times, side by
// side, observatoire's ingest, transform and report against bare DuckDB,
// one new month added incrementally against the full rebuild, and the peak
// RSS of every step, and writes the results to docs/benchmarks.md and
// docs/benchmarks.json. See package benchnational.
//
//	benchnational [flags]        run the benchmark
//	benchnational bare ingest|transform -db F ...   a bare DuckDB baseline (the harness runs it as a subprocess)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/benchnational"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		os.Exit(benchnational.BareMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	c := benchnational.DefaultConfig()
	flag.StringVar(&c.Observatoire, "bin", c.Observatoire, "observatoire binary to time (make build)")
	flag.StringVar(&c.CacheDir, "cache", c.CacheDir, "cache of generated data sets (regenerated when the options or internal/demo change)")
	flag.StringVar(&c.WorkDir, "work", c.WorkDir, "scratch folder for the warehouses and logs (emptied at start)")
	flag.StringVar(&c.Scale, "scale", c.Scale, "departement, region or national")
	flag.StringVar(&c.Departement, "departement", c.Departement, "département (scale departement or region)")
	flag.IntVar(&c.Months, "months", c.Months, "months of the base set (the incremental step adds one)")
	flag.StringVar(&c.To, "to", c.To, "last month of the base set")
	flag.IntVar(&c.Threads, "threads", c.Threads, "DuckDB threads for every step, baselines included")
	flag.StringVar(&c.MemoryLimit, "memory-limit", c.MemoryLimit, "DuckDB memory_limit for every step, baselines included")
	flag.StringVar(&c.MaxRejectShare, "max-reject-share", c.MaxRejectShare, "ingest.max_reject_share (the demo's bad RPE-workbook row is over 5 % in small départements)")
	flag.DurationVar(&c.StepTimeout, "step-timeout", c.StepTimeout, "longest a step may run before it is stopped and recorded as failed")
	flag.StringVar(&c.Results, "results", c.Results, "Markdown results file whose generated section is replaced (empty = none)")
	flag.StringVar(&c.JSON, "json", c.JSON, "machine-readable results (empty = none)")
	flag.BoolVar(&c.Keep, "keep", c.Keep, "keep the warehouses of the work folder")
	flag.StringVar(&c.Only, "only", c.Only, `"ingest": stop after the ingest steps (bare and observatoire)`)
	render := flag.Bool("render", false, "only rewrite the results file from the JSON results (no run)")
	flag.Parse()
	if *render {
		res, err := benchnational.Rerender(c.JSON, c.Results)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchnational:", err)
			os.Exit(1)
		}
		fmt.Print(res.Markdown())
		return
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchnational:", err)
		os.Exit(1)
	}
	c.Bare = []string{exe, "bare"}
	c.Log = os.Stderr
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	start := time.Now()
	res, err := benchnational.Run(ctx, c)
	if res != nil {
		fmt.Println()
		fmt.Print(res.Markdown())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchnational:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "benchnational: done in %s on %d cores\n", time.Since(start).Round(time.Second), runtime.NumCPU())
}
