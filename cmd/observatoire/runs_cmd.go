package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/ops"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func init() {
	extraCommands = append(extraCommands, newRunsCmd)
}

func newRunsCmd(a *app) *cobra.Command {
	var f warehouse.RunFilter
	var since, format string
	var wide bool
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the run history (meta.run): job, period, start, end, status, rows, quarantined rows, failed data tests, error",
		Long: `runs lists the recorded runs, newest first: manual commands (job = the
command) and scheduled jobs (job = its name in the config), with their period,
start, duration, status (running, ok, failed, interrupted, abandoned), rows
read and written, rows quarantined, data tests failed and error.

It reads the warehouse read-only; while a writer holds it, it reads the
analyst snapshot instead (and says so).`,
		Example: `  observatoire runs
  observatoire runs --job nightly --status failed
  observatoire runs --since 2026-11-01 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				t, err := time.ParseInLocation("2006-01-02", since, a.location())
				if err != nil {
					return fmt.Errorf("--since: want YYYY-MM-DD: %w", err)
				}
				f.Since = t
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			db, note, err := a.openReader(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			runs, err := warehouse.ListRuns(cmd.Context(), db, f)
			if err != nil {
				return err
			}
			if format == "json" {
				if runs == nil {
					runs = []warehouse.RunRecord{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(runs)
			}
			if len(runs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no run recorded yet")
				return nil
			}
			return writeRunsTable(cmd.OutOrStdout(), runs, a.location(), wide)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Job, "job", "", "only this job")
	fl.StringVar(&f.Status, "status", "", "only this status: running, ok, failed, interrupted, abandoned")
	fl.StringVar(&since, "since", "", "only runs started on or after this day (YYYY-MM-DD)")
	fl.IntVar(&f.Limit, "limit", 50, "at most this many runs (0 = all)")
	fl.StringVar(&format, "format", "table", "table or json")
	fl.BoolVar(&wide, "wide", false, "do not shorten errors")
	return cmd
}

func writeRunsTable(out io.Writer, runs []warehouse.RunRecord, loc *time.Location, wide bool) error {
	t := table{header: []string{"RUN", "JOB", "COMMAND", "TRIGGER", "PERIOD", "STARTED", "DURATION", "STATUS",
		"ROWS IN", "ROWS OUT", "QUARANTINED", "TESTS KO", "ERROR"}, right: map[int]bool{0: true, 6: true, 8: true, 9: true, 10: true, 11: true}}
	for _, r := range runs {
		trigger := r.Trigger
		if r.Attempt > 1 {
			trigger += fmt.Sprintf(" #%d", r.Attempt)
		}
		errText := r.Error
		if !wide {
			errText = shorten(errText, 70)
		}
		t.add(fmt.Sprint(r.ID), r.Job, dash(r.Command), dash(trigger), dash(r.Period), r.Started.In(loc).Format("2006-01-02 15:04:05"),
			formatDuration(r.Duration()), r.Status, fmt.Sprint(r.RowsIn), fmt.Sprint(r.RowsOut), fmt.Sprint(r.Quarantined),
			fmt.Sprint(r.TestsFailed), dash(errText))
	}
	return t.write(out, "")
}

// table aligns columns: text to the left, numbers (right[i]) to the right.
type table struct {
	header []string
	right  map[int]bool
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(out io.Writer, indent string) error {
	width := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{t.header}, t.rows...) {
		b.WriteString(indent)
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case t.right[i]:
				b.WriteString(pad + c)
			case i == len(r)-1:
				b.WriteString(c)
			default:
				b.WriteString(c + pad)
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// shorten puts an error on one line of at most n characters.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// location is where times are shown: the schedule's time zone.
func (a *app) location() *time.Location {
	loc, err := ops.LoadLocation(a.cfg.Schedule.TimeZone)
	if err != nil {
		return time.Local
	}
	return loc
}

// openReader opens the warehouse read-only for status and runs. While a
// writer holds it (DuckDB allows one process then), it falls back to the
// analyst snapshot unless strict, and the note says so.
func (a *app) openReader(ctx context.Context, strict bool) (*sql.DB, string, error) {
	path := a.cfg.Warehouse.Path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("no warehouse at %s yet: run 'observatoire run' (or 'make demo') first", path)
	}
	o := a.warehouseOptions()
	o.ReadOnly = true
	var db *sql.DB
	held, h, err := warehouse.LockState(path)
	if err == nil && held {
		err = &warehouse.LockedError{Warehouse: path, Holder: h}
	} else if err == nil {
		db, err = warehouse.Open(ctx, o)
	}
	if err == nil || strict || !errors.Is(err, warehouse.ErrLocked) {
		return db, "", err
	}
	snap := a.cfg.Analyst.Snapshot
	if st, serr := os.Stat(snap); serr == nil {
		o.Path = snap
		if sdb, serr := warehouse.Open(ctx, o); serr == nil {
			return sdb, fmt.Sprintf("note: %v\nnote: showing the analyst snapshot %s of %s instead",
				err, snap, st.ModTime().In(a.location()).Format("2006-01-02 15:04")), nil
		}
	}
	return nil, "", err
}

// validateMonthRange checks a backfill's --from/--to (YYYY-MM, from <= to).
func validateMonthRange(from, to string) error {
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = time.Parse("2006-01", from); err != nil {
			return fmt.Errorf("--from %q: want a month YYYY-MM", from)
		}
	}
	if to != "" {
		if t, err = time.Parse("2006-01", to); err != nil {
			return fmt.Errorf("--to %q: want a month YYYY-MM", to)
		}
	}
	if from != "" && to != "" && t.Before(f) {
		return fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return nil
}
