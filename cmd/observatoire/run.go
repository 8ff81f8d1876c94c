package main

import (
	"database/sql"
	"errors"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// dbHandle is what stages receive.
type dbHandle = *sql.DB

func newRunCmd(a *app) *cobra.Command {
	var inf ingestFlags
	var tf transformFlags
	cmd := &cobra.Command{
		Use:   "run [FILE|DIR]...",
		Short: "Ingest, transform and report in one go (the main job)",
		Long: `run ingests the named files (or the inbox with --inbox), runs the models
for the months the new data touches, and publishes the reports. Nothing is
published when a step fails: reports come last, and are built in a temporary
folder swapped in only when complete, so a failed or interrupted run leaves
the published reports as they were.

--from/--to recompute a range of months (a backfill); the run is recorded
with that period.`,
		Example: `  observatoire run --demo var/demo
  observatoire run --inbox
  observatoire run --from 2025-01 --to 2025-12   # backfill a range of months`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateMonthRange(tf.from, tf.to); err != nil {
				return err
			}
			db, err := a.openWriter(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return a.recordRun(cmd.Context(), db, "run", joinNonEmpty("..", tf.from, tf.to), func(run *warehouse.Run) error {
				if len(args) > 0 || inf.inbox {
					res, err := a.ingestFiles(cmd, &inf, args, run, db)
					if err != nil {
						// Files that loaded stay loaded; we still refuse to
						// publish reports from a partial batch.
						return errors.Join(errors.New("ingest failed: reports not published"), err)
					}
					if err := a.transform(cmd, db, &tf, res.Months, run); err != nil {
						return err
					}
				} else if err := a.transform(cmd, db, &tf, nil, run); err != nil {
					return err
				}
				// Last step, and only after every other succeeded.
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				res, err := a.report(cmd, db)
				run.RowsOut += int64(res.Pages)
				return err
			})
		},
	}
	inf.register(cmd)
	tf.register(cmd)
	return cmd
}
