package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/internal/config"
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

// openWriter opens the warehouse for writing.
func (a *app) openWriter(ctx context.Context) (*sql.DB, error) {
	return warehouse.Open(ctx, a.warehouseOptions())
}

// recordRun wraps a stage in a meta.run row: running, then ok or failed.
func (a *app) recordRun(ctx context.Context, db *sql.DB, job, period string, fn func(*warehouse.Run) error) error {
	host, _ := os.Hostname()
	run, err := warehouse.StartRun(ctx, db, job, period, os.Getpid(), host)
	if err != nil {
		return err
	}
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
	if runErr != nil {
		return fmt.Errorf("%s (run %d): %w", job, run.ID, runErr)
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
