package analyst

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// SandboxError is a statement the sandbox refused, by policy or because
// DuckDB's locked configuration or read-only mode stopped it.
type SandboxError struct {
	Reason string // short, for people
	Cause  error  // DuckDB's own error, when there is one
}

// SandboxPrefix starts every SandboxError message.
const SandboxPrefix = "analyst access is read-only and sandboxed: "

func (e *SandboxError) Error() string {
	msg := SandboxPrefix + e.Reason
	if e.Cause != nil {
		first, _, _ := strings.Cut(e.Cause.Error(), "\n")
		msg += " [DuckDB: " + first + "]"
	}
	return msg
}

func (e *SandboxError) Unwrap() error { return e.Cause }

// TimeoutError is a statement stopped by the query timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("query cancelled after %s (analyst.query_timeout; --timeout changes it for one command)", e.After)
}

// Reasons given to analysts, one per kind of refusal.
const (
	reasonFiles      = "files cannot be read or written (COPY, EXPORT, read_csv, read_text, read_parquet, glob...); save a result with --format csv|json|parquet|xlsx --out FILE"
	reasonExtensions = "extensions cannot be installed or loaded (icu, json and parquet are built in)"
	reasonSettings   = "settings cannot be changed (SET, RESET and PRAGMA that change settings are refused); SET VARIABLE and USE are allowed"
	reasonAttach     = "no other database can be attached or detached: only the snapshot is available"
	reasonReadOnly   = "the snapshot cannot be modified; CREATE TEMP TABLE / TEMP VIEW hold your own intermediate results for the session"
	reasonPrepare    = "PREPARE and EXECUTE are not available; write the statement itself"
)

// duckdbRefusals map DuckDB's own messages to the reasons above, first match
// wins.
var duckdbRefusals = []struct{ substr, reason string }{
	{"/extensions/", reasonExtensions},
	{"extensions is disabled", reasonExtensions},
	{"file system operations are disabled", reasonFiles},
	{"configuration has been locked", reasonSettings},
	{"attached in read-only mode", reasonReadOnly},
	{"database in read-only mode", reasonAttach},
	{"disabled through configuration", reasonFiles},
	{"disabled by configuration", reasonFiles},
}

// settingCall matches CALL of the pragma functions that change a setting.
var settingCall = regexp.MustCompile(`(?i)^\s*CALL\s+("?)(enable|disable|force|verify|set|reset)_\w*`)

// check applies the statement policy on top of DuckDB's own sandbox (which is
// the real barrier): it refuses what changes the session or reaches outside
// the snapshot, with a clear reason, before DuckDB runs anything.
func (s *Session) check(ctx context.Context, stmt string) (duckdb.StmtType, error) {
	var typ duckdb.StmtType
	err := s.conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("analyst: not a DuckDB connection")
		}
		// Prepare (without context) refuses multi-statement text instead of
		// running all but the last statement.
		st, err := c.Prepare(stmt) //nolint:staticcheck // see above
		if err != nil {
			return err
		}
		defer st.Close()
		typ, err = st.(*duckdb.Stmt).StatementType()
		return err
	})
	if err != nil {
		if strings.Contains(err.Error(), "multi-statement") {
			// One statement DuckDB expands into several (PIVOT creates a
			// TEMP enum type first): run it as a whole.
			return duckdb.STATEMENT_TYPE_MULTI, nil
		}
		return typ, explain(ctx, err, s.opts.QueryTimeout)
	}
	words := firstWords(stmt, 2)
	switch typ {
	case duckdb.STATEMENT_TYPE_SET, duckdb.STATEMENT_TYPE_VARIABLE_SET:
		if len(words) > 0 && words[0] == "USE" || len(words) == 2 && words[1] == "VARIABLE" {
			return typ, nil
		}
		return typ, &SandboxError{Reason: reasonSettings}
	case duckdb.STATEMENT_TYPE_PRAGMA:
		// Pragmas that only read (table_info, show_tables, version...) are
		// rewritten to SELECT by DuckDB and never get here.
		return typ, &SandboxError{Reason: reasonSettings}
	case duckdb.STATEMENT_TYPE_CALL:
		if settingCall.MatchString(StripLeadingComments(stmt)) {
			return typ, &SandboxError{Reason: reasonSettings}
		}
	case duckdb.STATEMENT_TYPE_LOAD, duckdb.STATEMENT_TYPE_EXTENSION:
		return typ, &SandboxError{Reason: reasonExtensions}
	case duckdb.STATEMENT_TYPE_ATTACH, duckdb.STATEMENT_TYPE_DETACH:
		return typ, &SandboxError{Reason: reasonAttach}
	case duckdb.STATEMENT_TYPE_COPY, duckdb.STATEMENT_TYPE_EXPORT:
		return typ, &SandboxError{Reason: reasonFiles}
	case duckdb.STATEMENT_TYPE_PREPARE, duckdb.STATEMENT_TYPE_EXECUTE:
		return typ, &SandboxError{Reason: reasonPrepare}
	}
	return typ, nil
}

// returnsRows tells the statements whose result is worth showing.
func returnsRows(t duckdb.StmtType) bool {
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN, duckdb.STATEMENT_TYPE_CALL,
		duckdb.STATEMENT_TYPE_MULTI, duckdb.STATEMENT_TYPE_PRAGMA:
		return true
	}
	return false
}

// explain turns DuckDB's errors into the analyst's: sandbox refusals, the
// timeout, cancellation. Anything else (syntax, unknown column) is kept as is.
func explain(ctx context.Context, err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var se *SandboxError
	var te *TimeoutError
	if errors.As(err, &se) || errors.As(err, &te) {
		return err
	}
	if ctx != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return &TimeoutError{After: timeout}
		case errors.Is(ctx.Err(), context.Canceled):
			return errors.New("query cancelled")
		}
	}
	msg := err.Error()
	for _, r := range duckdbRefusals {
		if strings.Contains(msg, r.substr) {
			return &SandboxError{Reason: r.reason, Cause: err}
		}
	}
	return err
}

// Output says how results are written.
type Output struct {
	Format  Format
	W       io.Writer
	MaxRows int    // table format: rows shown before it says it truncated; 0 = all
	More    string // table format: how to see more rows, appended to the truncation notice
}

// Run executes the statements of text in order. The table format writes the
// result of every statement that returns rows; the other formats write the
// last statement's result only (earlier ones prepare it: TEMP tables,
// variables). Each statement has its own timeout.
func (s *Session) Run(ctx context.Context, text string, out Output) error {
	stmts := Statements(text)
	if len(stmts) == 0 {
		return errors.New("no SQL statement")
	}
	shown := 0
	for i, stmt := range stmts {
		last := i == len(stmts)-1
		write := last || out.Format == FormatTable
		if err := s.runOne(ctx, stmt, write, out, &shown); err != nil {
			if len(stmts) > 1 {
				return fmt.Errorf("statement %d of %d: %w", i+1, len(stmts), err)
			}
			return err
		}
	}
	return nil
}

func (s *Session) runOne(ctx context.Context, stmt string, write bool, out Output, shown *int) error {
	qctx, cancel := s.queryContext(ctx)
	defer cancel()
	typ, err := s.check(qctx, stmt)
	if err != nil {
		return err
	}
	if write && out.Format == FormatParquet {
		_, err := s.writeParquet(qctx, stmt, out.W)
		return explain(qctx, err, s.opts.QueryTimeout)
	}
	rows, err := s.conn.QueryContext(qctx, stmt)
	if err != nil {
		return explain(qctx, err, s.opts.QueryTimeout)
	}
	defer rows.Close()
	if !write || out.Format == FormatTable && !returnsRows(typ) {
		for rows.Next() {
		}
		return explain(qctx, rows.Err(), s.opts.QueryTimeout)
	}
	res, err := newResult(qctx, rows)
	if err != nil {
		return explain(qctx, err, s.opts.QueryTimeout)
	}
	switch out.Format {
	case FormatTable:
		if *shown > 0 {
			fmt.Fprintln(out.W)
		}
		*shown++
		err = writeTable(out.W, res, out.MaxRows, out.More)
	case FormatCSV:
		err = writeCSV(out.W, res)
	case FormatJSON:
		err = writeJSON(out.W, res)
	case FormatXLSX:
		err = writeXLSX(out.W, res)
	default:
		err = fmt.Errorf("unknown format %q", out.Format)
	}
	return explain(qctx, err, s.opts.QueryTimeout)
}

func (s *Session) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.QueryTimeout > 0 {
		return context.WithTimeout(ctx, s.opts.QueryTimeout)
	}
	return context.WithCancel(ctx)
}

// Query runs one read statement through the sandbox and returns its rows
// (for .tables, .schema and the schema command).
func (s *Session) Query(ctx context.Context, stmt string, args ...any) (*sql.Rows, error) {
	if _, err := s.check(ctx, stmt); err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, stmt, args...)
	return rows, explain(ctx, err, s.opts.QueryTimeout)
}
