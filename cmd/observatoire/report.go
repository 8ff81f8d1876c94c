package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
	"github.com/rpe-observatoire/observatoire/reports"
)

// reportGoMemory bounds the Go heap while the reports are built (figures
// kept in memory plus per-page garbage), so that a national build stays
// within the machine's budget. GOMEMLIMIT, when set, wins.
const reportGoMemory = 1 << 30

// reportDuckDBShare is the part of DuckDB's memory_limit the report leaves
// it: the figures live in Go, DuckDB only streams them out. Nationally
// (44,577 pages, 2 cores) the load phase took the same time at 1 GB as at
// 2 GB, and the process peaked at 2.24 GiB instead of 3.12-3.32 GiB.
const reportDuckDBShare = 0.5

func (a *app) report(cmd *cobra.Command, db dbHandle) (reports.Result, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(reportGoMemory))
	}
	restore, err := warehouse.ShareMemory(cmd.Context(), db, a.cfg.Warehouse.MemoryLimit, reportDuckDBShare)
	if err != nil {
		return reports.Result{}, err
	}
	defer restore()
	start := time.Now()
	res, err := reports.Build(cmd.Context(), db, reports.Options{
		OutDir:               a.cfg.Reports.OutDir,
		MinCount:             a.cfg.Reports.MinCount,
		MinCommunePopulation: a.cfg.Reports.MinCommunePopulation,
		CommuneGeoJSON:       a.cfg.Reports.CommuneGeoJSON,
		Now:                  time.Now(),
	})
	if err != nil {
		return res, err
	}
	el := time.Since(start)
	fmt.Fprintf(cmd.OutOrStdout(), "report: %d pages, %d standalone files in %s (%.0f pages/s)\n",
		res.Pages, res.Standalone, el.Round(time.Millisecond), float64(res.Pages)/el.Seconds())
	fmt.Fprintf(cmd.OutOrStdout(), "report phases: load %s (CPU %s), render %s (CPU %s, %.0f pages/CPU-s)\n",
		res.Load.Round(time.Millisecond), res.LoadCPU.Round(time.Millisecond), res.Render.Round(time.Millisecond), res.RenderCPU.Round(time.Millisecond),
		float64(res.Pages)/res.RenderCPU.Seconds())
	fmt.Fprintf(cmd.OutOrStdout(), "report index: %s\n", res.Index)
	return res, nil
}

func newReportCmd(a *app) *cobra.Command {
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Publish the HTML reports (site + standalone files) from the indicators",
		Long: `report writes a report per territory and period, a comparison report and
an index, in French, into reports.out_dir: a site whose pages share one asset
file, and a standalone single HTML file per report that opens offline. Figures
resting on fewer than reports.min_count people are masked. The site is built in
a temporary folder and swapped in only when complete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			db, err := a.openWriter(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return a.recordRun(cmd.Context(), db, "report", "", func(run *warehouse.Run) error {
				res, err := a.report(cmd, db)
				run.RowsOut = int64(res.Pages)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the report build to this file")
	return cmd
}
