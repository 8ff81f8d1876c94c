package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/analyst"
	"github.com/rpe-observatoire/observatoire/internal/config"
	"github.com/rpe-observatoire/observatoire/internal/ops"
	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// app carries what every command shares: the loaded configuration and the
// logger. Flags set on the root override the config file and environment.
type app struct {
	configPath  string
	warehouse   string
	memoryLimit string
	threads     int
	logLevel    string

	cfg config.Config
	log *slog.Logger

	// earlyCopy is the copy of the analyst snapshot a transform starts
	// before its models run, for the publication after it (sql.go); the
	// run that started it discards whatever is left of it.
	earlyCopy *analyst.EarlyCopy
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:   "observatoire",
		Short: "Relais Petite Enfance observatory: ingest, transform and report territorial childcare indicators",
		Long: `observatoire ingests RPE activity exports, childminder registers and
availability, family requests and official figures into a DuckDB warehouse,
computes the territorial diagnostic's indicators with SQL models, and publishes
HTML reports in French.

Data flows one way: sources -> ingest -> warehouse -> transform -> reports.
Configuration: flags > environment variables > config file (observatoire.toml)
> defaults; 'observatoire config' lists every key.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.load(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", os.Getenv("OBSERVATOIRE_CONFIG"), "config file (default ./observatoire.toml when present; env OBSERVATOIRE_CONFIG)")
	pf.StringVar(&a.warehouse, "warehouse", "", "warehouse DuckDB file (overrides warehouse.path)")
	pf.StringVar(&a.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 2GB (overrides warehouse.memory_limit)")
	pf.IntVar(&a.threads, "threads", 0, "DuckDB threads (overrides warehouse.threads)")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")

	root.AddCommand(
		newDemoCmd(a),
		newIngestCmd(a),
		newTransformCmd(a),
		newReportCmd(a),
		newRunCmd(a),
		newDocsCmd(a),
		newConfigCmd(a),
	)
	for _, extra := range extraCommands {
		root.AddCommand(extra(a))
	}
	return root
}

// afterSuccessfulRun are called, in order, when a recorded job succeeded and
// before it is marked ok (publishing the analyst snapshot, for instance).
var afterSuccessfulRun []func(ctx context.Context, a *app, db *sql.DB, job string) error

// extraCommands lets command files register themselves without editing
// newRootCmd (schedule, sql, status...).
var extraCommands []func(*app) *cobra.Command

func (a *app) load(cmd *cobra.Command) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return err
	}
	if a.warehouse != "" {
		cfg.Warehouse.Path = a.warehouse
	}
	if a.memoryLimit != "" {
		cfg.Warehouse.MemoryLimit = a.memoryLimit
	}
	if a.threads > 0 {
		cfg.Warehouse.Threads = a.threads
	}
	a.cfg = cfg
	return nil
}

func (a *app) warehouseOptions() warehouse.Options {
	return warehouse.Options{
		Path:        a.cfg.Warehouse.Path,
		MemoryLimit: a.cfg.Warehouse.MemoryLimit,
		Threads:     a.cfg.Warehouse.Threads,
		TempDir:     a.cfg.Warehouse.TempDir,
	}
}

// openWriter takes the writer lock (one writer at a time across processes:
// a second one is refused with who holds the warehouse) and opens the
// warehouse for writing; closing the DB releases the lock. A lock left by a
// process that died, and the runs it left 'running', are reported here.
func (a *app) openWriter(ctx context.Context) (*sql.DB, error) {
	holder := warehouse.CurrentHolder(strings.Join(os.Args, " "), ops.JobFrom(ctx))
	db, lock, err := warehouse.OpenWriter(ctx, a.warehouseOptions(), holder)
	if err != nil {
		return nil, err
	}
	if lock.Stale != nil {
		a.log.Warn("cleared a stale writer lock: its holder stopped without releasing it (killed?)",
			"holder", lock.Stale.String(), "known_dead", lock.StaleDead, "lock", warehouse.LockPath(a.cfg.Warehouse.Path))
	}
	if len(lock.AbandonedRuns) > 0 {
		a.log.Warn("runs left 'running' by a process that died are now marked abandoned; their uncommitted work was rolled back",
			"runs", lock.AbandonedRuns)
	}
	return db, nil
}

// recordRun wraps a stage in a meta.run row: running, then ok, failed or
// interrupted. Under 'observatoire schedule' the row carries the job's name,
// trigger and attempt. A failure, or a data test of error severity, is
// notified (notify.command, notify.webhook) unless a retry follows; the
// error returned is then an *ops.RecordedError. A panic is recorded, notified
// and re-raised.
func (a *app) recordRun(ctx context.Context, db *sql.DB, job, period string, fn func(*warehouse.Run) error) (err error) {
	host, _ := os.Hostname()
	start := warehouse.RunStart{Job: job, Period: period, Command: job, Trigger: "manual", Attempt: 1, PID: os.Getpid(), Host: host}
	if name := ops.JobFrom(ctx); name != "" {
		start.Job, start.Trigger, start.Attempt = name, "schedule", ops.AttemptFrom(ctx).N
	}
	run, err := warehouse.BeginRun(ctx, db, start)
	if err != nil {
		return err
	}
	defer a.discardEarlyCopy()
	defer func() {
		if p := recover(); p != nil {
			perr := &ops.PanicError{Value: p, Stack: debug.Stack()}
			a.log.Error("run panicked", "job", start.Job, "run", run.ID, "panic", p, "stack", string(perr.Stack))
			if err := run.Finish(db, perr); err != nil {
				a.log.Error("could not record the end of the run", "run", run.ID, "err", err)
			}
			notified := a.notifyRun(ctx, db, start, run, perr)
			panic(&ops.RecordedError{Job: start.Job, RunID: run.ID, Err: perr, Notified: notified})
		}
	}()
	runErr := fn(run)
	if runErr == nil {
		for _, hook := range afterSuccessfulRun {
			if err := hook(ctx, a, db, job); err != nil {
				runErr = err
				break
			}
		}
	}
	if err := run.Finish(db, runErr); err != nil {
		a.log.Error("could not record the end of the run", "run", run.ID, "err", err)
	}
	notified := a.notifyRun(ctx, db, start, run, runErr)
	if runErr != nil {
		return &ops.RecordedError{Job: start.Job, RunID: run.ID, Err: runErr, Notified: notified}
	}
	return nil
}

func newConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "List every configuration key with its environment variable, default and meaning",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprint(out, config.Docs())
			fmt.Fprintln(out)
			fmt.Fprintf(out, "Effective warehouse: %s\n", a.cfg.Warehouse.Path)
			return nil
		},
	}
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
