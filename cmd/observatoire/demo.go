package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/demo"
)

func newDemoCmd(a *app) *cobra.Command {
	var o demo.Options
	var dep string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate deterministic demo exports for a real département (every source, 24+ months)",
		Long: `demo writes synthetic exports, in the layouts ingest reads, for the real
communes and populations of a département (or its région, or all of France):
population, AM register, monthly availability, RPE register (XLSX), RPE activity,
family requests and collective places, with a few deliberately bad rows.
The same options always give byte-identical files.`,
		Example: `  observatoire demo --out var/demo
  observatoire demo --out /tmp/bzh --departement 29 --scale region
  observatoire run --demo var/demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Departements = []string{dep}
			start := time.Now()
			sum, err := demo.Generate(cmd.Context(), o)
			if err != nil {
				return err
			}
			var rows int64
			for _, n := range sum.Rows {
				rows += n
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo: %d files, %d rows in %s (%s)\n", len(sum.Files), rows, o.Dir, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "out", "var/demo", "output folder")
	f.StringVar(&dep, "departement", "35", "département code (its région with --scale region)")
	f.StringVar(&o.Scale, "scale", "departement", "departement, region or national")
	f.Int64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVar(&o.To, "to", "2026-10", "last month generated (YYYY-MM)")
	f.IntVar(&o.Months, "months", 24, "number of months (at least 24)")
	f.BoolVar(&o.BadRows, "bad-rows", true, "include a few deliberately bad rows")
	return cmd
}
