package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
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
	if restore, err := shareDuckDBMemory(cmd.Context(), db, a.cfg.Warehouse.MemoryLimit, reportDuckDBShare); err != nil {
		return reports.Result{}, err
	} else {
		defer restore()
	}
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

// shareDuckDBMemory lowers DuckDB's memory_limit to share of its value for
// the duration of a stage that keeps its data in Go; restore sets it back.
// The value is the configured one (warehouse.memory_limit), else DuckDB's
// own (its default, 80 % of the RAM).
func shareDuckDBMemory(ctx context.Context, db dbHandle, configured string, share float64) (restore func(), err error) {
	cur := configured
	if cur == "" {
		if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&cur); err != nil {
			return nil, fmt.Errorf("memory_limit: %w", err)
		}
	}
	bytes, err := parseBytes(cur)
	if err != nil {
		return nil, fmt.Errorf("memory_limit %q: %w", cur, err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", int64(float64(bytes)*share))); err != nil {
		return nil, fmt.Errorf("memory_limit: %w", err)
	}
	return func() {
		db.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("SET memory_limit = '%dB'", bytes))
	}, nil
}

// parseBytes reads a DuckDB memory size: "2GB", "1.8 GiB", "953.6 MiB",
// "512MB", "1000000B".
func parseBytes(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("not a size")
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, err
	}
	units := map[string]float64{"B": 1, "BYTES": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
	m, ok := units[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", strings.TrimSpace(s[i:]))
	}
	return int64(v * m), nil
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
