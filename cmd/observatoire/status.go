package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/ops"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func init() {
	extraCommands = append(extraCommands, newStatusCmd)
}

// statusReport is what 'observatoire status' shows (and prints as JSON).
type statusReport struct {
	Now       time.Time             `json:"now"`
	Warehouse string                `json:"warehouse"`
	ReadFrom  string                `json:"read_from"` // the warehouse, the analyst snapshot while a writer holds it, or "" (nothing readable)
	Lock      lockStatus            `json:"writer_lock"`
	LastRuns  []warehouse.RunRecord `json:"last_runs"`
	Schedule  []scheduledStatus     `json:"schedule"`
	Freshness ops.Freshness         `json:"freshness"`
}

type lockStatus struct {
	Held   bool              `json:"held"`
	Holder *warehouse.Holder `json:"holder,omitempty"`
}

type scheduledStatus struct {
	Job         string               `json:"job"`
	Command     string               `json:"command"`
	Spec        string               `json:"spec"`
	Next        []time.Time          `json:"next"`
	LastRun     *warehouse.RunRecord `json:"last_run,omitempty"`
	LastSuccess *time.Time           `json:"last_success,omitempty"`
}

func newStatusCmd(a *app) *cobra.Command {
	var format, at string
	var notify, senders bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say how the observatory is doing: last run per job, next scheduled times, who holds the warehouse, late sources and RPE",
		Long: `status shows
  - whether a writer holds the warehouse, and who (pid, host, command, since);
  - the last run of every job, and when it last succeeded;
  - the next times of every [[schedule.jobs]] job;
  - data freshness per source and per sender (RPE, département): for each
    source of [[freshness.sources]], the latest period whose export is due,
    whether it arrived, and which senders have not sent it (from
    meta.file_ledger).

--notify sends the late sources to notify.command / notify.webhook (the
'freshness' job of the schedule runs 'status --notify').`,
		Example: `  observatoire status
  observatoire status --senders          # every sender of every source
  observatoire status --format json
  observatoire status --notify           # notify late sources`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			loc := a.location()
			now := time.Now().In(loc)
			if at != "" {
				t, err := time.ParseInLocation("2006-01-02", at, loc)
				if err != nil {
					return fmt.Errorf("--at: want YYYY-MM-DD: %w", err)
				}
				now = t
			}
			rep := statusReport{Now: now, Warehouse: a.cfg.Warehouse.Path, ReadFrom: a.cfg.Warehouse.Path}
			held, h, err := warehouse.LockState(a.cfg.Warehouse.Path)
			if err != nil {
				return err
			}
			rep.Lock.Held = held
			if held {
				rep.Lock.Holder = &h
			}
			db, note, err := a.openReader(cmd.Context(), notify)
			switch {
			case err != nil && (notify || !errors.Is(err, warehouse.ErrLocked)):
				return err
			case err != nil:
				// Held by a writer and no snapshot: say what can be said.
				rep.ReadFrom = ""
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %v\nnote: run history and freshness are unavailable until it ends (no analyst snapshot at %s)\n",
					err, a.cfg.Analyst.Snapshot)
			default:
				defer db.Close()
			}
			if note != "" {
				rep.ReadFrom = a.cfg.Analyst.Snapshot
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			ctx := cmd.Context()
			okAt := map[string]time.Time{}
			if db != nil {
				if rep.LastRuns, err = warehouse.LastRuns(ctx, db); err != nil {
					return err
				}
				if okAt, err = warehouse.LastSuccess(ctx, db); err != nil {
					return err
				}
			}
			for _, j := range a.cfg.Schedule.Jobs {
				s := scheduledStatus{Job: j.Name, Command: j.Command, Spec: j.Spec}
				if s.Next, err = ops.Next(j.Spec, loc, now, 2); err != nil {
					return fmt.Errorf("job %q: spec %q: %w", j.Name, j.Spec, err)
				}
				for i := range rep.LastRuns {
					if rep.LastRuns[i].Job == j.Name {
						s.LastRun = &rep.LastRuns[i]
					}
				}
				if t, ok := okAt[j.Name]; ok {
					s.LastSuccess = &t
				}
				rep.Schedule = append(rep.Schedule, s)
			}
			exps := make([]ops.Expectation, len(a.cfg.Freshness.Sources))
			for i, e := range a.cfg.Freshness.Sources {
				exps[i] = ops.Expectation(e)
			}
			rep.Freshness.Now = now
			if db != nil {
				if rep.Freshness, err = ops.CheckFreshness(ctx, db, exps, now); err != nil {
					return err
				}
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				a.writeStatus(cmd.OutOrStdout(), rep, okAt, loc, senders)
			}
			if notify {
				return a.notifyLate(cmd, rep.Freshness)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "table", "table or json")
	fl.BoolVar(&notify, "notify", false, "notify late sources and senders (notify.command, notify.webhook)")
	fl.BoolVar(&senders, "senders", false, "list every sender of every source, not only the late ones")
	fl.StringVar(&at, "at", "", "judge freshness as on this day (YYYY-MM-DD) instead of today")
	return cmd
}

func (a *app) notifyLate(cmd *cobra.Command, f ops.Freshness) error {
	probs := f.Problems()
	if len(probs) == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "freshness: every expected export has arrived; nothing to notify")
		return nil
	}
	n := a.notifier()
	if !n.Enabled() {
		fmt.Fprintln(cmd.OutOrStdout(), "freshness: late sources, but no notify.command or notify.webhook is configured")
		return nil
	}
	abs, _ := filepath.Abs(a.cfg.Ingest.Inbox)
	return n.Notify(cmd.Context(), ops.Event{
		Kind:    ops.EventSourceLate,
		Summary: fmt.Sprintf("%d source(s) late or incomplete as of %s", len(probs), f.Now.Format("2006-01-02")),
		Job:     ops.JobFrom(cmd.Context()),
		Details: probs,
		Look: []string{
			"observatoire status --senders   (every sender's last period and load time)",
			"meta.file_ledger (source, sender, period, loaded_at)",
			"the inbox, for files not yet ingested: " + abs,
			"expected dates: [[freshness.sources]] in the config file (docs/operations.md)",
		},
	})
}

func (a *app) writeStatus(out io.Writer, rep statusReport, okAt map[string]time.Time, loc *time.Location, allSenders bool) {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	size := ""
	if st, err := os.Stat(rep.Warehouse); err == nil {
		size = fmt.Sprintf(" (%.1f MB)", float64(st.Size())/1e6)
	}
	fmt.Fprintf(out, "Warehouse %s%s\n", rep.Warehouse, size)
	if rep.Lock.Held {
		fmt.Fprintf(out, "  writer: %s\n", rep.Lock.Holder)
	} else {
		fmt.Fprintln(out, "  writer: none (free)")
	}
	switch rep.ReadFrom {
	case rep.Warehouse:
	case "":
		fmt.Fprintln(out, "  (history and freshness unavailable while the writer runs)")
	default:
		fmt.Fprintf(out, "  (history and freshness read from the snapshot %s)\n", rep.ReadFrom)
	}

	fmt.Fprintln(out, "\nLast run per job")
	if rep.ReadFrom == "" {
		fmt.Fprintln(out, "  unavailable while the writer runs")
	} else if len(rep.LastRuns) == 0 {
		fmt.Fprintln(out, "  no run recorded yet")
	} else {
		t := table{header: []string{"JOB", "STATUS", "STARTED", "DURATION", "LAST OK", "ERROR"}, right: map[int]bool{3: true}}
		for _, r := range rep.LastRuns {
			t.add(r.Job, r.Status, ts(r.Started), formatDuration(r.Duration()), ts(okAt[r.Job]), dash(shorten(r.Error, 70)))
		}
		t.write(out, "  ")
	}

	fmt.Fprintf(out, "\nSchedule (%s)\n", loc)
	if len(rep.Schedule) == 0 {
		fmt.Fprintln(out, "  no [[schedule.jobs]] in the config")
	} else {
		t := table{header: []string{"JOB", "COMMAND", "SPEC", "LAST RUN", "NEXT"}}
		for _, s := range rep.Schedule {
			last := "never"
			if s.LastRun != nil {
				last = fmt.Sprintf("%s %s", s.LastRun.Status, ts(s.LastRun.Started))
			}
			t.add(s.Job, s.Command, s.Spec, last, formatTimes(s.Next, loc))
		}
		t.write(out, "  ")
	}

	f := rep.Freshness
	fmt.Fprintf(out, "\nData freshness on %s\n", f.Now.Format("2006-01-02"))
	if rep.ReadFrom == "" {
		fmt.Fprintln(out, "  unavailable while the writer runs")
		return
	}
	if !f.Ledger {
		fmt.Fprintln(out, "  nothing ingested yet (no meta.file_ledger)")
		return
	}
	t := table{header: []string{"SOURCE", "EVERY", "DUE PERIOD", "DUE ON", "LATEST", "LOADED", "SENDERS", "STATE"}, right: map[int]bool{6: true}}
	for _, s := range f.Sources {
		t.add(s.Source, s.Every, s.ExpectedPeriod, s.Due.Format("2006-01-02"), dash(s.LastPeriod), ts(s.LastLoaded), fmt.Sprint(len(s.Senders)), s.State())
	}
	t.write(out, "  ")
	any := false
	for _, s := range f.Sources {
		var rows []ops.SenderState
		for _, se := range s.Senders {
			if allSenders || se.Missing {
				rows = append(rows, se)
			}
		}
		if len(rows) == 0 {
			continue
		}
		if !any {
			fmt.Fprintln(out)
			any = true
		}
		title := "Senders of " + s.Source
		if !allSenders {
			title = fmt.Sprintf("Not sent %s %s (due %s)", s.Source, s.ExpectedPeriod, s.Due.Format("2006-01-02"))
		}
		fmt.Fprintf(out, "%s\n", title)
		t := table{header: []string{"SENDER", "LAST PERIOD", "LOADED", "FILES", "MISSING"}, right: map[int]bool{3: true}}
		for _, se := range rows {
			miss := "-"
			if se.Missing {
				miss = "yes"
			}
			t.add(dash(se.Sender), se.LastPeriod, ts(se.LastLoaded), fmt.Sprint(se.Files), miss)
		}
		t.write(out, "  ")
	}
}
