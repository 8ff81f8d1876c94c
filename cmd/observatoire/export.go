package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
)

func init() {
	extraCommands = append(extraCommands, newExportCmd)
}

func newExportCmd(a *app) *cobra.Command {
	var o analyst.ExportOptions
	var tables, partitionBy, snapshot string
	cmd := &cobra.Command{
		Use:   "export --out DIR",
		Short: "Write the indicator tables as Parquet, partitioned by period (Hive layout), for Spark, Trino or DuckDB",
		Long: `export writes tables of the analysts' snapshot under DIR, one folder per table
(DIR/<schema>/<table>/). Tables that have the partition columns (by default
period_kind and period, as mart.indicator) are split Hive-style:

  DIR/mart/indicator/period_kind=year/period=2025/data_0.parquet
  DIR/mart/indicator/period_kind=month/period=2025-03/data_0.parquet

The others are one file (DIR/mart/indicator_catalog/data_0.parquet). DIR/_manifest.json
lists the tables, their row counts, columns and French descriptions. DIR is
built beside itself and swapped in when complete; an existing DIR is replaced
only if it is a previous export. docs/analyst.md shows how Spark, Trino and
DuckDB read it. The figures are exact (small counts included).`,
		Example: `  observatoire export --out var/export
  observatoire export --out /srv/share/rpe --tables 'mart.indicator,ref.territory'
  observatoire export --format csv --out var/export-csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Tables, err = analyst.ParsePatterns(tables); err != nil {
				return fmt.Errorf("--tables: %w", err)
			}
			o.PartitionBy = nil
			for _, c := range strings.Split(partitionBy, ",") {
				if c = strings.TrimSpace(c); c != "" {
					o.PartitionBy = append(o.PartitionBy, c)
				}
			}
			if o.PartitionBy == nil {
				o.PartitionBy = []string{}
			}
			ao := a.analystOptions(snapshot, -1)
			o.Snapshot, o.MemoryLimit, o.Threads = ao.Snapshot, ao.MemoryLimit, ao.Threads
			m, err := analyst.Export(cmd.Context(), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, t := range m.Tables {
				part := ""
				if len(t.PartitionBy) > 0 {
					part = " by " + strings.Join(t.PartitionBy, ", ")
				}
				fmt.Fprintf(out, "%-28s %10d rows  %s%s\n", t.Name, t.Rows, path.Join(o.Dir, t.Path), part)
			}
			fmt.Fprintf(out, "export: %d tables in %s (%s)\n", len(m.Tables), o.Dir, m.Format)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Dir, "out", "", "output folder (required)")
	fl.StringVar(&o.Format, "format", "parquet", "parquet or csv")
	fl.StringVar(&tables, "tables", strings.Join(analyst.DefaultExportTables, ","), "tables to export: schema.table patterns, comma-separated")
	fl.StringVar(&partitionBy, "partition-by", strings.Join(analyst.DefaultPartitionBy, ","), "Hive partition columns, used for the tables that have them all (empty: no partitioning)")
	fl.StringVar(&snapshot, "snapshot", "", "snapshot file (default analyst.snapshot)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
