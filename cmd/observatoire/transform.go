package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
	"github.com/rpe-observatoire/observatoire/transform"
)

type transformFlags struct {
	fullRefresh bool
	from, to    string
}

func (f *transformFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.fullRefresh, "full-refresh", false, "rebuild every model from scratch instead of only the months touched by new data")
	fl.StringVar(&f.from, "from", "", "first month to recompute (YYYY-MM), for backfills")
	fl.StringVar(&f.to, "to", "", "last month to recompute (YYYY-MM), for backfills")
}

func (a *app) transform(cmd *cobra.Command, db dbHandle, f *transformFlags, months []time.Time, run *warehouse.Run) error {
	if !f.fullRefresh {
		// The snapshot published after an incremental transform starts
		// from a copy of the previous one: made now, it overlaps the models.
		a.discardEarlyCopy()
		a.earlyCopy = analyst.StartEarlyCopy(cmd.Context(), a.cfg.Analyst.Snapshot)
	}
	res, err := transform.Run(cmd.Context(), db, transform.Options{
		FullRefresh:   f.fullRefresh,
		Months:        months,
		AMUnder3Ratio: a.cfg.Transform.AMUnder3Ratio,
		From:          f.from,
		To:            f.to,
		RunID:         run.ID,
		Log:           a.log,
	})
	run.TestsKO += int64(res.TestsFailed)
	fmt.Fprintf(cmd.OutOrStdout(), "transform: %d models, %d data tests failed\n", len(res.Models), res.TestsFailed)
	return err
}

func newTransformCmd(a *app) *cobra.Command {
	var f transformFlags
	cmd := &cobra.Command{
		Use:   "transform",
		Short: "Run the SQL models: staging tables, then every indicator at every level and period",
		Long: `transform runs the SQL models of sql/ in dependency order, each in its own
transaction, with their data tests. By default it recomputes only the months
touched by data loaded since the last run; --full-refresh rebuilds everything
(both give the same tables). A failing model leaves its previous table in place
and skips the models that depend on it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openWriter(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return a.recordRun(cmd.Context(), db, "transform", joinNonEmpty("..", f.from, f.to), func(run *warehouse.Run) error {
				return a.transform(cmd, db, &f, nil, run)
			})
		},
	}
	f.register(cmd)
	return cmd
}
