package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
	"github.com/rpe-observatoire/observatoire/transform"
)

func init() {
	extraCommands = append(extraCommands, newSQLCmd, newSnapshotCmd)
	afterSuccessfulRun = append(afterSuccessfulRun, publishSnapshotAfterRun)
}

// publishSnapshotAfterRun publishes the analyst snapshot once a transform or
// a full run has succeeded (the run is marked ok only after it):
// incrementally when it can be, copying only what the run rebuilt.
func publishSnapshotAfterRun(ctx context.Context, a *app, db *sql.DB, job string) error {
	if job != "transform" && job != "run" {
		return nil
	}
	_, err := a.publishSnapshot(ctx, db, job, false)
	return err
}

// publishSnapshot copies the warehouse into the analyst snapshot, adding the
// model files' French descriptions where the warehouse has no comment. The
// model tables' versions (meta.model_state, through transform.TableStates)
// let analyst.Publish copy only what changed since the previous snapshot;
// full publishes everything anew (the versions are still recorded).
func (a *app) publishSnapshot(ctx context.Context, db *sql.DB, job string, full bool) (analyst.PublishResult, error) {
	exclude, err := analyst.ParsePatterns(a.cfg.Analyst.Exclude)
	if err != nil {
		return analyst.PublishResult{}, fmt.Errorf("analyst.exclude: %w", err)
	}
	var changes []analyst.TableChange
	if states, err := transform.TableStates(ctx, db, a.cfg.Transform.AMUnder3Ratio); err != nil {
		a.log.Warn("model table versions unavailable: the analyst snapshot is published in full", "err", err)
	} else {
		changes = snapshotChanges(states)
	}
	res, err := analyst.Publish(ctx, db, analyst.PublishOptions{
		Path:         a.cfg.Analyst.Snapshot,
		Exclude:      exclude,
		Job:          job,
		Descriptions: a.modelDescriptions(),
		Changes:      changes,
		Full:         full,
		Log:          a.log,
		EarlyCopy:    a.takeEarlyCopy(),
	})
	if err != nil {
		return res, fmt.Errorf("publish the analyst snapshot: %w", err)
	}
	if res.Fallback != nil {
		a.log.Warn("incremental analyst snapshot failed: published in full instead", "err", res.Fallback)
	}
	if len(res.Repaired) > 0 {
		a.log.Warn("analyst snapshot: tables changed outside their recorded version were copied whole", "tables", strings.Join(res.Repaired, ","))
	}
	args := []any{"path", res.Path, "mode", res.Mode, "tables", res.Tables, "copied", res.Copied, "windowed", res.Windowed, "kept", res.Kept,
		"emptied", res.Emptied, "rows", res.Rows, "bytes", res.Bytes, "duration", res.Duration.Round(time.Millisecond)}
	if res.Reason != "" && res.Fallback == nil {
		args = append(args, "why", res.Reason)
	}
	a.log.Info("analyst snapshot published", args...)
	return res, nil
}

// takeEarlyCopy hands the early copy of the snapshot, if a transform
// started one, to the publication, which discards it whatever happens.
func (a *app) takeEarlyCopy() *analyst.EarlyCopy {
	c := a.earlyCopy
	a.earlyCopy = nil
	return c
}

// discardEarlyCopy removes an early copy no publication took (the run
// failed, or published nothing).
func (a *app) discardEarlyCopy() {
	if err := a.takeEarlyCopy().Discard(); err != nil {
		a.log.Warn("analyst snapshot", "err", err)
	}
}

// snapshotChanges turns the model tables' states into the snapshot's table
// versions: a table's version is its last successful build's time; after an
// incremental build, its window applies on top of the version before it.
func snapshotChanges(states []transform.TableState) []analyst.TableChange {
	version := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04:05.000000")
	}
	changes := make([]analyst.TableChange, 0, len(states))
	for _, s := range states {
		c := analyst.TableChange{Table: s.Table, Version: version(s.BuiltAt), Base: version(s.PrevBuiltAt)}
		if s.Mode == "incremental" && c.Base != "" {
			c.Window, c.Setup = s.Window, s.SessionSQL
		}
		changes = append(changes, c)
	}
	return changes
}

// modelDescriptions are the descriptions of the SQL models' headers, keyed
// "schema.table" and "schema.table.column".
func (a *app) modelDescriptions() map[string]string {
	models, err := transform.Models()
	if err != nil {
		a.log.Warn("model descriptions unavailable for the analyst snapshot", "err", err)
		return nil
	}
	d := map[string]string{}
	for _, m := range models {
		if m.Description != "" {
			d[m.Schema+"."+m.Table] = m.Description
		}
		for _, c := range m.Columns {
			if c.Description != "" {
				d[m.Schema+"."+m.Table+"."+c.Name] = c.Description
			}
		}
	}
	return d
}

func newSnapshotCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "snapshot",
		Short: "Publish the analysts' read-only snapshot of the warehouse now",
		Long: `snapshot copies the warehouse into the read-only snapshot that 'observatoire sql',
'schema' and 'export' read (analyst.snapshot). Every successful 'transform' and
'run' does it on its own, incrementally when it can (only the tables and months
the run rebuilt are copied); this command is for a first snapshot of an existing
warehouse, after changing analyst.exclude, or to rebuild the snapshot from
scratch: it always makes a full copy, a new file that owes nothing to the
previous snapshot (the next incremental publications start from it). It takes
the writer lock like any pipeline step, and is recorded in the run history.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openWriter(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return a.recordRun(cmd.Context(), db, "snapshot", "", func(run *warehouse.Run) error {
				res, err := a.publishSnapshot(cmd.Context(), db, "snapshot", true)
				run.RowsOut = res.Rows
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "snapshot: %s (%d tables, %d copied empty, %d rows, %.1f MB)\n",
						res.Path, res.Tables, res.Emptied, res.Rows, float64(res.Bytes)/1e6)
				}
				return err
			})
		},
	}
}

type sqlFlags struct {
	file, format, out, snapshot string
	maxRows                     int
	timeout                     time.Duration
}

func newSQLCmd(a *app) *cobra.Command {
	var f sqlFlags
	cmd := &cobra.Command{
		Use:   `sql ["SELECT ..."]`,
		Short: "Query the warehouse's read-only snapshot: one statement, a file, or an interactive shell",
		Long: `sql runs SQL (DuckDB dialect) on the analysts' snapshot: a read-only copy of the
warehouse published after each successful transform or run, so analysts never
block the pipeline and the pipeline never blocks them.

The query comes from the argument, from --file (- for standard input), from
standard input when it is not a terminal, or else from an interactive shell
(history, multi-line statements ending with ';', .tables, .schema NAME, .help).

The session is sandboxed: the snapshot cannot be modified, files and the
network cannot be read or written (no COPY, read_csv, read_text, ATTACH,
INSTALL/LOAD), settings cannot be changed (SET, RESET, PRAGMA), and a
statement running longer than analyst.query_timeout is cancelled. Results are
saved with --format and --out instead: the table format shows at most
analyst.max_rows rows and says when it truncated; csv, json, parquet and xlsx
write every row. With several statements, csv/json/parquet/xlsx hold the last
one's result (the earlier ones may prepare it, e.g. CREATE TEMP TABLE).

The figures are exact, small counts included: anything published must go
through mart.published_indicator(k), as the reports do. See docs/analyst.md.`,
		Example: `  observatoire sql "SELECT * FROM mart.indicator WHERE code = '243500139' LIMIT 20"
  observatoire sql -f coverage.sql --out coverage.xlsx
  observatoire sql --format parquet --out epci.parquet "FROM mart.indicator WHERE level = 'epci'"
  echo "SELECT count(*) FROM mart.indicator" | observatoire sql --format csv
  observatoire sql          # interactive shell`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSQL(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "read the SQL from this file (- = standard input)")
	fl.StringVar(&f.format, "format", "", "output format: table, csv, json, parquet, xlsx (default: from --out's extension, else table)")
	fl.StringVarP(&f.out, "out", "o", "", "write the result to this file (written whole or not at all)")
	fl.IntVar(&f.maxRows, "max-rows", -1, "rows shown by the table format, 0 = all (default analyst.max_rows)")
	fl.DurationVar(&f.timeout, "timeout", -1, "per-statement timeout, 0 = none (default analyst.query_timeout)")
	fl.StringVar(&f.snapshot, "snapshot", "", "snapshot file (default analyst.snapshot)")
	return cmd
}

func (a *app) analystOptions(snapshot string, timeout time.Duration) analyst.Options {
	o := analyst.Options{
		Snapshot:     a.cfg.Analyst.Snapshot,
		MemoryLimit:  a.cfg.Analyst.MemoryLimit,
		Threads:      a.cfg.Warehouse.Threads,
		QueryTimeout: a.cfg.Analyst.QueryTimeout,
		MaxTempSize:  a.cfg.Analyst.MaxTempSize,
	}
	if snapshot != "" {
		o.Snapshot = snapshot
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = a.cfg.Warehouse.MemoryLimit
	}
	if timeout >= 0 {
		o.QueryTimeout = timeout
	}
	return o
}

func (a *app) runSQL(cmd *cobra.Command, f *sqlFlags, args []string) error {
	ctx := cmd.Context()
	format := analyst.Format("")
	if f.format != "" {
		var err error
		if format, err = analyst.ParseFormat(f.format); err != nil {
			return err
		}
	} else if f.out != "" {
		format = analyst.FormatForPath(f.out)
	}
	if format == "" {
		format = analyst.FormatTable
	}
	maxRows := a.cfg.Analyst.MaxRows
	if f.maxRows >= 0 {
		maxRows = f.maxRows
	}
	if f.out == "" && format.Binary() && isatty.IsTerminal(os.Stdout.Fd()) {
		return fmt.Errorf("%s output is binary: name a file with --out", format)
	}

	var query string
	switch {
	case len(args) == 1 && f.file != "":
		return errors.New("give the SQL as an argument or with --file, not both")
	case len(args) == 1:
		query = args[0]
	case f.file == "-":
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return err
		}
		query = string(b)
	case f.file != "":
		b, err := os.ReadFile(f.file)
		if err != nil {
			return err
		}
		query = string(b)
	case !isatty.IsTerminal(os.Stdin.Fd()):
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return err
		}
		query = string(b)
	}

	s, err := analyst.Open(ctx, a.analystOptions(f.snapshot, f.timeout))
	if err != nil {
		return err
	}
	defer s.Close()

	if query == "" && len(args) == 0 && f.file == "" {
		if f.out != "" || format.Binary() {
			return errors.New("the interactive shell writes to the terminal: give the SQL as an argument or with --file to use --out")
		}
		return a.shell(ctx, s, format, maxRows)
	}
	if strings.TrimSpace(query) == "" {
		return errors.New("no SQL statement")
	}

	out := analyst.Output{Format: format, MaxRows: maxRows, More: "--max-rows N shows more, --format csv --out FILE writes them all"}
	if f.out == "" {
		out.W = cmd.OutOrStdout()
		return s.Run(ctx, query, out)
	}
	return writeAtomically(f.out, func(w io.Writer) error {
		out.W = w
		return s.Run(ctx, query, out)
	})
}

// writeAtomically writes a file through a temporary one renamed into place,
// so a failed query leaves no half-written result.
func writeAtomically(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (a *app) shell(ctx context.Context, s *analyst.Session, format analyst.Format, maxRows int) error {
	history := a.cfg.Analyst.History
	switch history {
	case "off", "none":
		history = ""
	case "":
		if home, err := os.UserHomeDir(); err == nil {
			history = filepath.Join(home, ".observatoire_sql_history")
		}
	}
	term, err := analyst.NewTerminal(history)
	if err != nil {
		return err
	}
	defer term.Close()
	// Ctrl-C at the prompt is a key (readline drops the line); while a
	// statement runs the terminal is cooked and Ctrl-C is a SIGINT, which
	// cancels that statement only. It is taken from main's handler, which
	// stops the whole command on the first signal; SIGTERM still does.
	signal.Reset(os.Interrupt)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	interrupts := make(chan struct{}, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-sigs:
				select {
				case interrupts <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				term.Close() // SIGTERM: unblock the prompt
				return
			case <-stop:
				return
			}
		}
	}()
	sh := &analyst.Shell{Session: s, In: term, Out: term.Stdout(), Format: format, MaxRows: maxRows, Interrupts: interrupts}
	return sh.Run(ctx)
}
