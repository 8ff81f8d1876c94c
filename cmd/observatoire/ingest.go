package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/ingest"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

type ingestFlags struct {
	source, profile string
	dryRun, inbox   bool
	demo            bool
}

func (f *ingestFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.source, "source", "", "force the source contract (population, am_register, availability, rpe_register, rpe_activity, family_request, collective_places, caf_rate, drees)")
	fl.StringVar(&f.profile, "profile", "", "force a mapping profile by name")
	fl.BoolVar(&f.dryRun, "dry-run", false, "validate only: report what would load, write nothing")
	fl.BoolVar(&f.inbox, "inbox", false, "take new files from the inbox folder (ingest.inbox)")
	fl.BoolVar(&f.demo, "demo", false, "demo data: use the built-in pseudonym key when none is configured")
}

func (a *app) ingestOptions(f *ingestFlags) (ingest.Options, error) {
	o := ingest.Options{
		Secret:         a.cfg.Ingest.Secret,
		Demo:           f.demo,
		MaxRejectShare: a.cfg.Ingest.MaxRejectShare,
		DryRun:         f.dryRun,
		Source:         f.source,
		Profile:        f.profile,
		ProfilesDir:    a.cfg.Ingest.ProfilesDir,
		Progress:       os.Stderr,
		Log:            a.log,
	}
	if o.Secret == "" && !o.Demo {
		return o, errors.New("no pseudonym key: set OBSERVATOIRE_SECRET (or ingest.secret in the config file); only demo data may use the built-in key (--demo)")
	}
	return o, nil
}

// ingestFiles runs ingest on paths (or the inbox), prints the summary and
// returns an error when a file failed or was refused.
func (a *app) ingestFiles(cmd *cobra.Command, f *ingestFlags, paths []string, run *warehouse.Run, db dbHandle) (ingest.Result, error) {
	o, err := a.ingestOptions(f)
	if err != nil {
		return ingest.Result{}, err
	}
	ctx := cmd.Context()
	if err := ingest.LoadReference(ctx, db); err != nil {
		return ingest.Result{}, fmt.Errorf("reference territories: %w", err)
	}
	var res ingest.Result
	if f.inbox {
		res, err = ingest.Inbox(ctx, db, a.cfg.Ingest.Inbox, o)
	} else {
		res, err = ingest.Files(ctx, db, paths, o)
	}
	res.WriteSummary(cmd.OutOrStdout())
	if run != nil {
		for _, fr := range res.Files {
			run.RowsIn += fr.Read
			run.RowsOut += fr.Accepted
			run.Quarantined += fr.Rejected
		}
	}
	if err != nil {
		return res, err
	}
	var failed []error
	for _, fr := range res.Files {
		if fr.Err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", fr.Path, fr.Err))
		}
	}
	return res, errors.Join(failed...)
}

func newIngestCmd(a *app) *cobra.Command {
	var f ingestFlags
	cmd := &cobra.Command{
		Use:   "ingest [FILE|DIR]...",
		Short: "Load source files into the warehouse (validated, pseudonymised, one transaction per file)",
		Long: `ingest recognises each file's source and layout from its mapping profile,
validates every row (bad rows go to meta.quarantine with file, line, column
and reason), replaces personal identifiers by keyed pseudonyms, and loads each
file in one transaction. The same file twice changes nothing; a corrected
export for the same source, sender and period replaces the earlier one.
It exits non-zero when a file is refused or fails.`,
		Example: `  observatoire ingest --demo var/demo
  OBSERVATOIRE_SECRET=... observatoire ingest exports/activite_2026-03.xlsx
  observatoire ingest --inbox
  observatoire ingest --dry-run --source rpe_activity export.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !f.inbox {
				return errors.New("name files or folders to ingest, or use --inbox")
			}
			db, err := a.openWriter(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return a.recordRun(cmd.Context(), db, "ingest", "", func(run *warehouse.Run) error {
				_, err := a.ingestFiles(cmd, &f, args, run, db)
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
}
