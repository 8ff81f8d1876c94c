package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
)

func init() {
	extraCommands = append(extraCommands, newSchemaCmd)
}

func newSchemaCmd(a *app) *cobra.Command {
	var format, snapshot string
	var tablesOnly, indicators bool
	cmd := &cobra.Command{
		Use:   "schema [PATTERN]",
		Short: "List the snapshot's tables and columns with their French descriptions",
		Long: `schema lists the tables, views and table macros of the analysts' snapshot with
their columns, types and French descriptions (the data dictionary: comments
the transform and the model files give, or a dictionary table), then the
indicator catalog (mart.indicator_catalog). PATTERN selects tables:
mart.indicator, mart.*, *territory ('*' is a wildcard; a bare name matches
any schema).`,
		Example: `  observatoire schema
  observatoire schema 'mart.*'
  observatoire schema --tables
  observatoire schema --indicators
  observatoire schema --format json mart.indicator`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: use text or json", format)
			}
			pattern := ""
			if len(args) == 1 {
				pattern = args[0]
			}
			s, err := analyst.Open(cmd.Context(), a.analystOptions(snapshot, -1))
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			var rels []analyst.Relation
			if !indicators {
				if rels, err = analyst.Describe(ctx, s.Conn(), pattern); err != nil {
					return err
				}
				if len(rels) == 0 && pattern != "" {
					return fmt.Errorf("no table of the snapshot matches %q ('observatoire schema --tables' lists them)", pattern)
				}
			}
			var cat []analyst.Indicator
			if indicators || pattern == "" && !tablesOnly {
				if cat, err = analyst.Catalog(ctx, s.Conn()); err != nil {
					return err
				}
			}
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(struct {
					Snapshot   string              `json:"snapshot"`
					Tables     []analyst.Relation  `json:"tables,omitempty"`
					Indicators []analyst.Indicator `json:"indicators,omitempty"`
				}{s.Info.Describe(), rels, cat})
			}
			fmt.Fprintf(out, "# %s\n\n", s.Info.Describe())
			switch {
			case indicators:
			case tablesOnly:
				if err := analyst.WriteTables(out, rels); err != nil {
					return err
				}
			default:
				if err := analyst.WriteSchema(out, rels); err != nil {
					return err
				}
			}
			if len(cat) > 0 {
				if !indicators {
					fmt.Fprintln(out)
				}
				fmt.Fprintf(out, "# Indicators (mart.indicator_catalog, %d): indicator, unit, label\n\n", len(cat))
				return analyst.WriteCatalog(out, cat)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "text", "text or json")
	fl.BoolVar(&tablesOnly, "tables", false, "one line per table, without the columns")
	fl.BoolVar(&indicators, "indicators", false, "only the indicator catalog")
	fl.StringVar(&snapshot, "snapshot", "", "snapshot file (default analyst.snapshot)")
	return cmd
}
