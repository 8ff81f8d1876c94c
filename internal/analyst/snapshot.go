package analyst

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// PublishOptions configure a snapshot publication.
type PublishOptions struct {
	Path    string   // the snapshot file analysts open (config analyst.snapshot)
	Exclude []string // schema.table patterns (path.Match syntax) copied empty
	Job     string   // the pipeline job that published it, recorded in the snapshot
	// Descriptions (French) are written as COMMENT ON in the snapshot where
	// the warehouse has no comment, so DuckDB, 'observatoire schema' and the
	// export all see them. Keys: "schema.table" and "schema.table.column".
	Descriptions map[string]string
	// Changes are the versions of the tables that have one (the model
	// tables) and the rows their last build rewrote. With them the
	// publication is incremental when it can be (see Publish); nil: full.
	Changes []TableChange
	// Full publishes in full even with Changes (whose versions are still
	// recorded, so the next publication can be incremental).
	Full bool
	Now  func() time.Time
	// Log receives a debug line per step (table copied, window replaced,
	// checkpoint...) with its duration; nil = none.
	Log *slog.Logger
	// EarlyCopy, when not nil, is a copy of the snapshot at Path started
	// before the run (StartEarlyCopy): an incremental publication starts
	// from it instead of copying the file then. Publish discards it
	// whatever happens.
	EarlyCopy *EarlyCopy
}

// TableChange is the version of one warehouse table and what its last
// change rewrote. Versions are opaque strings: equal versions mean equal
// content. The warehouse's tables must change only through what their
// versions say (for the model tables, transform's builds).
type TableChange struct {
	Table   string // "schema.table"
	Version string // the table's version now; "" = unknown (copied whole)
	Base    string // the version Window applies on top of; "" = none
	// Window is a SQL predicate over the table's rows: the table is its
	// Base content with the rows matching Window deleted and the new rows
	// matching it inserted. "" = rewritten whole.
	Window string
	// Setup holds the statements Window needs (variables, TEMP macros), run
	// on the publishing connection before it is evaluated.
	Setup string
}

// Publication modes.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// PublishResult says what was published.
type PublishResult struct {
	Path string
	Mode string // ModeFull or ModeIncremental
	// Reason says why the publication was full ("" when incremental).
	Reason string
	// Fallback is the error of an incremental publication that failed
	// unexpectedly: the snapshot was then published in full.
	Fallback error
	Tables   int // tables with their rows (not excluded)
	Copied   int // of which copied whole
	Windowed int // of which only the rows of their window were replaced
	Kept     int // of which left as the previous snapshot had them (same version, or same rows)
	// Repaired are tables whose row count differed from the warehouse's
	// after their window was applied or with their version unchanged: they
	// were copied whole (something changed them outside their versions).
	Repaired []string
	Emptied  int   // excluded tables, copied without rows
	Rows     int64 // rows written
	Bytes    int64 // size of the snapshot file
	Duration time.Duration
}

// DefaultExclude is the default of analyst.exclude: raw source rows and the
// quarantine (which keeps rejected values verbatim) stay out of the snapshot.
const DefaultExclude = "raw.*,meta.quarantine*"

// ParsePatterns splits a comma-separated list of schema.table patterns.
func ParsePatterns(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if _, err := path.Match(p, "x.y"); err != nil || !strings.Contains(p, ".") {
			return nil, fmt.Errorf("bad table pattern %q: want schema.table, * as a wildcard (e.g. raw.*)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func matchAny(patterns []string, schema, table string) bool {
	name := strings.ToLower(schema + "." + table)
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// snapshotAlias is the name the snapshot being written is attached under.
const snapshotAlias = "analyst_snapshot_next"

// snapshotFormat changes when what Publish writes changes: a snapshot of
// another format is republished in full.
const snapshotFormat = "2"

// Publish writes the snapshot of the warehouse db (the pipeline's writer
// connection) into <Path>.tmp and renames it over Path. The rename is
// atomic: analysts opening the snapshot get the previous file or the new
// one, and a session already open keeps reading the file it opened.
//
// A full publication attaches a new file, copies the catalog with COPY FROM
// DATABASE ... (SCHEMA), then the rows with one INSERT ... SELECT per
// table, so every schema, table, view, macro, sequence and comment is
// there, and the excluded tables exist but are empty (views over them still
// bind).
//
// An incremental publication starts from a copy of the previous snapshot
// and rewrites only what changed: a table whose version (Changes) is the
// one the previous snapshot recorded is left as it is; one whose previous
// version is the Base of its change gets its Window's rows deleted and
// re-read from the warehouse; any other table (no version, or a version the
// previous snapshot does not have) is emptied and copied whole, unless it is
// small and has the same rows as the previous snapshot's. The deletions
// come first, then a checkpoint, then the insertions, so the new rows reuse
// the freed blocks. A row count check after each kept or windowed table
// copies whole a table changed outside its versions.
//
// It is made only when the previous snapshot was made from the same catalog
// (tables, columns, views, macros, comments, descriptions, DuckDB version,
// snapshot format) with the same excluded tables, so the copy holds exactly
// what a full publication would, and never a row of an excluded table: the
// chain of snapshots it continues started with a full publication of the
// same exclusions, which wrote them empty. It is not made either when most
// rows are to be copied whole (a full refresh), or when the file has grown
// past maxGrowth times its size after the last full publication. In any
// of these cases, or when anything fails on the way (except cancellation,
// which leaves the previous snapshot and no temporary file), the
// publication is full; the result says why.
//
// Publish runs inside the pipeline, which holds the warehouse's writer lock,
// so two publications never overlap.
func Publish(ctx context.Context, db *sql.DB, o PublishOptions) (res PublishResult, err error) {
	start := time.Now()
	defer func() { err = errors.Join(err, o.EarlyCopy.Discard()) }()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Path == "" {
		return res, errors.New("publish snapshot: no snapshot path (analyst.snapshot)")
	}
	tmp := o.Path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
		return res, err
	}
	// A crash may have left a half-written copy, or an early copy.
	if err := removeTmp(tmp); err != nil {
		return res, err
	}
	if o.EarlyCopy == nil {
		if err := removeTmp(earlyCopyPath(o.Path)); err != nil {
			return res, err
		}
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	p := &publication{conn: conn, o: o, tmp: tmp, changes: map[string]TableChange{}}
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&p.src); err != nil {
		return res, err
	}
	if p.tables, err = baseTables(ctx, conn, p.src); err != nil {
		return res, err
	}
	for _, t := range p.tables {
		if matchAny(o.Exclude, t.schema, t.name) {
			p.excluded = append(p.excluded, t.fullName())
		}
	}
	for _, c := range o.Changes {
		p.changes[strings.ToLower(strings.TrimSpace(c.Table))] = c
	}
	t0 := time.Now()
	if p.catalog, err = catalogFingerprint(ctx, conn, p.src, o.Descriptions); err != nil {
		return res, fmt.Errorf("publish snapshot: %w", err)
	}
	p.debug("catalog fingerprint", t0)

	var reason string
	switch {
	case o.Full:
		reason = "full publication asked"
	case o.Changes == nil:
		reason = "no table versions given"
	default:
		r, ierr := p.incremental(ctx)
		var not notIncremental
		switch {
		case ierr == nil:
			res = r
		case ctx.Err() != nil:
			return res, ctx.Err()
		case errors.As(ierr, &not):
			reason = not.reason
		default:
			res.Fallback = ierr
			reason = "the incremental publication failed: " + ierr.Error()
		}
	}
	if reason != "" {
		// The early copy is of no use to a full publication: free its
		// disk space before the full copy is written.
		if err := o.EarlyCopy.Discard(); err != nil {
			return res, err
		}
		fallback := res.Fallback
		if res, err = p.full(ctx); err != nil {
			return res, err
		}
		res.Reason, res.Fallback = reason, fallback
	}

	t0 = time.Now()
	if err := syncFile(tmp); err != nil {
		removeTmp(tmp)
		return res, err
	}
	if err := os.Rename(tmp, o.Path); err != nil {
		removeTmp(tmp)
		return res, fmt.Errorf("publish snapshot: %w", err)
	}
	syncDir(filepath.Dir(o.Path))
	p.debug("fsync and rename", t0)
	res.Path = o.Path
	if st, err := os.Stat(o.Path); err == nil {
		res.Bytes = st.Size()
	}
	res.Duration = time.Since(start)
	return res, nil
}

// publication is one Publish call.
type publication struct {
	conn     *sql.Conn
	o        PublishOptions
	src      string // the warehouse's catalog name
	tmp      string
	tables   []table                // the warehouse's base tables
	excluded []string               // schema.table copied empty, in tables' order
	changes  map[string]TableChange // by lower-case schema.table
	catalog  string                 // fingerprint of the warehouse's catalog
	// fullBytes is the size of the file after the last full publication
	// of the chain an incremental one continues (NULL for a full one: the
	// next publication reads the file's size).
	fullBytes any
}

// notIncremental is why a publication cannot be incremental (an expected
// case, not a failure).
type notIncremental struct{ reason string }

func (e notIncremental) Error() string { return e.reason }

func (p *publication) debug(step string, t0 time.Time, args ...any) {
	p.o.Log.Debug("snapshot step", append([]any{"step", step, "ms", time.Since(t0).Milliseconds()}, args...)...)
}

func (p *publication) change(t table) (TableChange, bool) {
	c, ok := p.changes[strings.ToLower(t.fullName())]
	return c, ok
}

func (p *publication) isExcluded(t table) bool {
	return matchAny(p.o.Exclude, t.schema, t.name)
}

// write attaches <Path>.tmp, runs fill, writes the snapshot's own meta
// tables and detaches (a checkpoint: one file, no WAL). On failure the
// tmp files are removed.
func (p *publication) write(ctx context.Context, fill func() error, mode string, versions map[string]string) (err error) {
	if _, err := p.conn.ExecContext(ctx, fmt.Sprintf(`ATTACH %s AS %s`, quoteLiteral(p.tmp), snapshotAlias)); err != nil {
		removeTmp(p.tmp)
		return fmt.Errorf("publish snapshot: attach %s: %w", p.tmp, err)
	}
	attached := true
	defer func() {
		if attached {
			_, _ = p.conn.ExecContext(context.WithoutCancel(ctx), `DETACH `+snapshotAlias)
		}
		if err != nil {
			removeTmp(p.tmp)
		}
	}()
	if err := fill(); err != nil {
		return err
	}
	if err := p.writeInfo(ctx, mode, versions); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := p.conn.ExecContext(ctx, `DETACH `+snapshotAlias); err != nil {
		return fmt.Errorf("publish snapshot: detach: %w", err)
	}
	attached = false
	p.debug("detach (checkpoint)", t0)
	if _, err := os.Stat(p.tmp + ".wal"); err == nil {
		return fmt.Errorf("publish snapshot: %s.wal left after checkpoint", p.tmp)
	}
	return nil
}

const (
	snapshotInfoComment = `Copie en lecture seule de l''entrepôt pour les analystes : date de publication, traitement qui l''a publiée, tables copiées vides (exclues), ` +
		`mode de publication (full : copie complète ; incremental : copie précédente dont seules les lignes recalculées par le dernier traitement ont été remplacées) ` +
		`et empreinte du catalogue de l''entrepôt copié (tables, colonnes, vues, macros, commentaires).'`
	snapshotTableComment = `Version de chaque table de modèle présente dans la copie des analystes (date de sa dernière construction par le traitement) : ` +
		`la publication suivante laisse telles quelles les tables dont la version n''a pas changé et ne recopie que les lignes recalculées des autres.'`
)

// writeInfo (re)writes meta.analyst_snapshot and meta.analyst_snapshot_table.
func (p *publication) writeInfo(ctx context.Context, mode string, versions map[string]string) error {
	a := snapshotAlias
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + a + `.meta`,
		`CREATE OR REPLACE TABLE ` + a + `.meta.analyst_snapshot (published_at TIMESTAMPTZ, job VARCHAR, source VARCHAR, excluded VARCHAR[], mode VARCHAR, catalog VARCHAR, full_bytes BIGINT)`,
		`COMMENT ON TABLE ` + a + `.meta.analyst_snapshot IS '` + snapshotInfoComment,
		`CREATE OR REPLACE TABLE ` + a + `.meta.analyst_snapshot_table (table_name VARCHAR, version VARCHAR)`,
		`COMMENT ON TABLE ` + a + `.meta.analyst_snapshot_table IS '` + snapshotTableComment,
	} {
		if _, err := p.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("publish snapshot: %w", err)
		}
	}
	var fullBytes any
	if mode == ModeIncremental {
		fullBytes = p.fullBytes
	}
	if _, err := p.conn.ExecContext(ctx, `INSERT INTO `+a+`.meta.analyst_snapshot VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.o.Now(), p.o.Job, p.src, excludedList(p.excluded), mode, p.catalog, fullBytes); err != nil {
		return fmt.Errorf("publish snapshot: %w", err)
	}
	if len(versions) == 0 {
		return nil
	}
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	args := make([]any, 0, 2*len(names))
	b.WriteString(`INSERT INTO ` + a + `.meta.analyst_snapshot_table VALUES `)
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, n, versions[n])
	}
	if _, err := p.conn.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("publish snapshot: %w", err)
	}
	return nil
}

// full copies the whole warehouse into a new <Path>.tmp.
func (p *publication) full(ctx context.Context) (PublishResult, error) {
	res := PublishResult{Mode: ModeFull}
	versions := map[string]string{}
	err := p.write(ctx, func() error {
		t0 := time.Now()
		if _, err := p.conn.ExecContext(ctx, fmt.Sprintf(`COPY FROM DATABASE %s TO %s (SCHEMA)`, quoteIdent(p.src), snapshotAlias)); err != nil {
			return fmt.Errorf("publish snapshot: copy the schema: %w", err)
		}
		p.debug("copy the schema", t0)
		var pending []table
		for _, t := range p.tables {
			if p.isExcluded(t) {
				res.Emptied++
				continue
			}
			pending = append(pending, t)
			if c, ok := p.change(t); ok && c.Version != "" {
				versions[t.fullName()] = c.Version
			}
		}
		// Foreign keys want referenced tables first: retry the failures while
		// the copies make progress.
		for len(pending) > 0 {
			var failed []table
			var lastErr error
			for _, t := range pending {
				t0 := time.Now()
				n, err := p.copyWhole(ctx, t)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					failed, lastErr = append(failed, t), err
					continue
				}
				res.Rows += n
				res.Tables++
				res.Copied++
				p.debug("copy", t0, "table", t.fullName(), "rows", n)
			}
			if len(failed) == len(pending) {
				return lastErr
			}
			pending = failed
		}
		return applyDescriptions(ctx, p.conn, p.o.Descriptions)
	}, ModeFull, versions)
	return res, err
}

// copyWhole inserts every row of the warehouse's table t into the snapshot's.
func (p *publication) copyWhole(ctx context.Context, t table) (int64, error) {
	r, err := p.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s SELECT * FROM %s`, t.in(snapshotAlias), t.in(p.src)))
	if err != nil {
		return 0, fmt.Errorf("publish snapshot: copy %s: %w", t.fullName(), err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}

// incremental updates a copy of the previous snapshot (see Publish). A
// notIncremental error says why it cannot be; any other is a failure.
func (p *publication) incremental(ctx context.Context) (PublishResult, error) {
	res := PublishResult{Mode: ModeIncremental}
	prevInfo, err := os.Stat(p.o.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return res, notIncremental{"no previous snapshot"}
	} else if err != nil {
		return res, err
	}
	if _, err := os.Stat(p.o.Path + ".wal"); err == nil {
		return res, notIncremental{"the previous snapshot has a WAL file"}
	}
	var fks int
	if err := p.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_constraints() WHERE database_name = ? AND constraint_type = 'FOREIGN KEY'`, p.src).Scan(&fks); err != nil {
		return res, err
	}
	if fks > 0 {
		return res, notIncremental{"the warehouse has foreign keys"}
	}
	t0 := time.Now()
	early, err := p.o.EarlyCopy.take(ctx, p.tmp)
	if err != nil {
		return res, err
	}
	if early {
		p.debug("copy the previous snapshot", t0, "early", true, "copy_ms", p.o.EarlyCopy.took.Milliseconds())
	} else {
		if err := copyFile(ctx, p.o.Path, p.tmp); err != nil {
			removeTmp(p.tmp)
			return res, fmt.Errorf("copy the previous snapshot: %w", err)
		}
		p.debug("copy the previous snapshot", t0)
	}
	// No vacuum while the copy is written: at the checkpoint DuckDB would
	// rewrite every row group with deleted rows, most of a big table's
	// tail, which costs about a whole copy of it (mart.indicator of the
	// demo: checkpoint 1.6-2.6 s with, 0.02-0.4 s without, and a smaller
	// file). The room deleted rows leave is reclaimed by the next full
	// publication (the growth bound below).
	restore, err := p.set(ctx, "max_vacuum_tasks", "0")
	if err != nil {
		removeTmp(p.tmp)
		return res, err
	}
	defer restore()
	versions := map[string]string{}
	err = p.write(ctx, func() error {
		var catalog, mode string
		var excluded any
		var fullBytes sql.NullInt64
		if err := p.conn.QueryRowContext(ctx, `SELECT catalog, mode, excluded, full_bytes FROM `+snapshotAlias+`.meta.analyst_snapshot`).Scan(&catalog, &mode, &excluded, &fullBytes); err != nil {
			return notIncremental{"the previous snapshot is of an older format (" + err.Error() + ")"}
		}
		// Deleted rows keep their room in the file (no vacuum): past
		// maxGrowth times its size after the last full publication, the
		// snapshot is written anew.
		base := prevInfo.Size()
		if mode != ModeFull && fullBytes.Valid {
			base = fullBytes.Int64
		}
		p.fullBytes = base
		if grown := prevInfo.Size() - base; grown > minGrowth && float64(prevInfo.Size()) > maxGrowth*float64(base) {
			return notIncremental{fmt.Sprintf("the snapshot grew to %.1f MB, more than %.1f times its %.1f MB after its last full publication: written anew",
				float64(prevInfo.Size())/1e6, maxGrowth, float64(base)/1e6)}
		}
		if catalog != p.catalog {
			return notIncremental{"the warehouse's catalog (tables, columns, views, macros, comments, descriptions) or DuckDB changed since the previous snapshot"}
		}
		if prev := listOfStrings(excluded); strings.Join(prev, ",") != strings.Join(p.excluded, ",") {
			return notIncremental{fmt.Sprintf("the excluded tables changed (analyst.exclude): %v, previously %v", p.excluded, prev)}
		}
		prev := map[string]string{}
		rows, err := p.conn.QueryContext(ctx, `SELECT table_name, version FROM `+snapshotAlias+`.meta.analyst_snapshot_table`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n, v string
			if err := rows.Scan(&n, &v); err != nil {
				rows.Close()
				return err
			}
			prev[strings.ToLower(n)] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The plan: what becomes of each table.
		var plan []step
		var total, whole int64 // rows of the tables with their rows, of those to copy whole
		for _, t := range p.tables {
			if p.isExcluded(t) {
				// Never written by the chain of snapshots this one continues.
				var n int64
				if err := p.conn.QueryRowContext(ctx, `SELECT count(*) FROM `+t.in(snapshotAlias)).Scan(&n); err != nil {
					return err
				}
				if n != 0 {
					return fmt.Errorf("excluded table %s has %d rows in the previous snapshot", t.fullName(), n)
				}
				res.Emptied++
				continue
			}
			c, ok := p.change(t)
			was, had := prev[strings.ToLower(t.fullName())]
			st := step{t: t, c: c, action: "whole"}
			switch {
			case ok && had && c.Version != "" && was == c.Version:
				st.action = "keep"
			case ok && had && c.Base != "" && was == c.Base && c.Window != "":
				st.action = "window"
			case t.rows > compareLimit:
				whole += t.rows
			}
			total += t.rows
			plan = append(plan, st)
			if ok && c.Version != "" {
				versions[t.fullName()] = c.Version
			}
		}
		if float64(whole) > maxWholeShare*float64(total) {
			// After a full refresh, say: deleting and rewriting most of a
			// copy costs more than writing a new file.
			return notIncremental{fmt.Sprintf("most rows are to be copied whole (%d of %d)", whole, total)}
		}
		for i, st := range plan {
			if st.action != "whole" || !st.t.indexed || st.t.rows > compareLimit {
				continue
			}
			// Rewriting a table with an index (a primary key: ref.territory,
			// meta.run...) is slow, its keys deleted then inserted again:
			// such a table is first compared with the previous snapshot's,
			// and left as it is when it has the same rows (they are small
			// and most often unchanged).
			t0 := time.Now()
			same, err := p.sameRows(ctx, st.t)
			if err != nil {
				return err
			}
			p.debug("compare", t0, "table", st.t.fullName(), "same", same)
			if same {
				plan[i].action = "same"
			}
		}
		for _, st := range plan {
			res.Tables++
			switch st.action {
			case "keep", "same":
				res.Kept++
			case "window":
				res.Windowed++
			default:
				res.Copied++
			}
		}
		// The changes are made in one transaction per window session (the
		// statements defining a window's variables and macros run outside
		// it): one commit, rather than two per table, each flushing the
		// WAL. No checkpoint between the deletions and the insertions: it
		// would let the new rows reuse the freed blocks, but on a big table
		// it costs more than the window's copy (the growth bound above
		// keeps the file's size in check).
		var setups []string // distinct, in order; "" first: the steps without a window
		seen := map[string]bool{}
		for _, st := range append([]step{{}}, plan...) {
			if su := st.setup(); !seen[su] {
				seen[su] = true
				setups = append(setups, su)
			}
		}
		for _, su := range setups {
			if strings.TrimSpace(su) != "" {
				if _, err := p.conn.ExecContext(ctx, su); err != nil {
					return fmt.Errorf("setup of a window: %w", err)
				}
			}
			err := p.inTx(ctx, func() error {
				for _, st := range plan {
					if st.setup() != su {
						continue
					}
					n, repaired, err := p.apply(ctx, st.t, st.action, st.c.Window)
					if err != nil {
						return err
					}
					res.Rows += n
					if repaired {
						res.Repaired = append(res.Repaired, st.t.fullName())
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}, ModeIncremental, versions)
	return res, err
}

// set changes a DuckDB setting of the writer's instance and returns what
// sets it back.
func (p *publication) set(ctx context.Context, name, value string) (func(), error) {
	var old string
	if err := p.conn.QueryRowContext(ctx, `SELECT CAST(current_setting(?) AS VARCHAR)`, name).Scan(&old); err != nil {
		return nil, fmt.Errorf("read setting %s: %w", name, err)
	}
	if _, err := p.conn.ExecContext(ctx, fmt.Sprintf(`SET %s = %s`, name, quoteLiteral(value))); err != nil {
		return nil, fmt.Errorf("set %s: %w", name, err)
	}
	return func() {
		if _, err := p.conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`SET %s = %s`, name, quoteLiteral(old))); err != nil {
			p.o.Log.Warn("could not restore a DuckDB setting after the snapshot", "setting", name, "value", old, "err", err)
		}
	}, nil
}

// apply does what the plan says of table t: nothing (keep, same), its
// window's rows (window) or all of them (whole) deleted and copied from
// the warehouse; then, but for a whole copy, the row counts are compared
// and a table that differs is copied whole (repaired). It returns the rows
// written.
func (p *publication) apply(ctx context.Context, t table, action, window string) (n int64, repaired bool, err error) {
	t0 := time.Now()
	switch action {
	case "window":
		if _, err := p.conn.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, t.in(snapshotAlias), window)); err != nil {
			return 0, false, fmt.Errorf("delete the window of %s: %w", t.fullName(), err)
		}
		if n, err = p.insert(ctx, t, window); err != nil {
			return 0, false, err
		}
		p.debug("window", t0, "table", t.fullName(), "rows", n)
	case "whole":
		if _, err := p.conn.ExecContext(ctx, `DELETE FROM `+t.in(snapshotAlias)); err != nil {
			return 0, false, fmt.Errorf("empty %s: %w", t.fullName(), err)
		}
		n, err = p.insert(ctx, t, "")
		p.debug("whole", t0, "table", t.fullName(), "rows", n)
		return n, false, err
	case "same":
		return 0, false, nil
	}
	t0 = time.Now()
	same, err := p.sameCount(ctx, t)
	if err != nil {
		return n, false, err
	}
	p.debug("row count check", t0, "table", t.fullName())
	if same {
		return n, false, nil
	}
	if _, err := p.conn.ExecContext(ctx, `DELETE FROM `+t.in(snapshotAlias)); err != nil {
		return n, false, fmt.Errorf("empty %s: %w", t.fullName(), err)
	}
	m, err := p.insert(ctx, t, "")
	return n + m, true, err
}

// inTx runs fn in a transaction, committed when it succeeds and rolled
// back otherwise (the connection goes back to the pool without one open).
func (p *publication) inTx(ctx context.Context, fn func() error) error {
	if _, err := p.conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = p.conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	t0 := time.Now()
	if _, err := p.conn.ExecContext(ctx, `COMMIT`); err != nil {
		_, _ = p.conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return fmt.Errorf("commit: %w", err)
	}
	p.debug("commit", t0)
	return nil
}

// step is what an incremental publication does to one table.
type step struct {
	t      table
	action string // keep, window, whole; same: to be copied whole, but has the same rows
	c      TableChange
}

// setup is the session the step's statements need.
func (st step) setup() string {
	if st.action == "window" {
		return st.c.Setup
	}
	return ""
}

// insert copies the rows of the warehouse's table t matching where (all
// when empty) into the snapshot's.
func (p *publication) insert(ctx context.Context, t table, where string) (int64, error) {
	if where == "" {
		return p.copyWhole(ctx, t)
	}
	r, err := p.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s SELECT * FROM %s WHERE %s`, t.in(snapshotAlias), t.in(p.src), where))
	if err != nil {
		return 0, fmt.Errorf("copy the window of %s: %w", t.fullName(), err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}

// maxGrowth bounds the growth of the snapshot file through incremental
// publications, relative to its size after the last full one; growths up
// to minGrowth bytes are always allowed (a small file grows by whole
// blocks).
var (
	maxGrowth       = 1.5
	minGrowth int64 = 64 << 20
)

// maxWholeShare is the share of the rows above which, when that many are
// to be copied whole, a new file is written instead.
var maxWholeShare = 0.5

// compareLimit is the size (rows, DuckDB's estimate) up to which a table
// with an index to be copied whole is first compared with the previous
// snapshot's.
var compareLimit int64 = 1_000_000

// sameRows says whether the snapshot's table t has the rows of the
// warehouse's: the same multiset of rows (EXCEPT ALL both ways, where NULLs
// are equal, and so are 0.0 and -0.0: a table with a primary key rewritten
// with DELETE and INSERT would not tell them apart either).
func (p *publication) sameRows(ctx context.Context, t table) (bool, error) {
	var diff int64
	err := p.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT
		(SELECT count(*) FROM (FROM %[1]s EXCEPT ALL FROM %[2]s)) +
		(SELECT count(*) FROM (FROM %[2]s EXCEPT ALL FROM %[1]s))`,
		t.in(snapshotAlias), t.in(p.src))).Scan(&diff)
	if err != nil {
		return false, fmt.Errorf("compare %s: %w", t.fullName(), err)
	}
	return diff == 0, nil
}

func (p *publication) sameCount(ctx context.Context, t table) (bool, error) {
	var same bool
	err := p.conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM %s) = (SELECT count(*) FROM %s)`, t.in(snapshotAlias), t.in(p.src))).Scan(&same)
	return same, err
}

// catalogFingerprint hashes what a full publication copies besides the rows:
// the warehouse's schemas, tables (their DDL, columns, types, defaults,
// comments), views, macros, sequences (not their counters, nor their start,
// which DuckDB moves to the counter when it reopens a file), indexes and
// types, the descriptions added where there is no comment, and the DuckDB
// version and snapshot format that write the file.
func catalogFingerprint(ctx context.Context, q queryer, database string, desc map[string]string) (string, error) {
	h := sha256.New()
	var version string
	if err := q.QueryRowContext(ctx, `SELECT library_version FROM pragma_version()`).Scan(&version); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "format %s\nduckdb %s\n", snapshotFormat, version)
	rows, err := q.QueryContext(ctx, `
		SELECT 'schema', schema_name, '', coalesce(comment, '') FROM duckdb_schemas() WHERE database_name = $1 AND NOT internal
		UNION ALL
		SELECT 'table', schema_name || '.' || table_name, coalesce(sql, ''), coalesce(comment, '') FROM duckdb_tables() WHERE database_name = $1 AND NOT temporary AND NOT internal
		UNION ALL
		SELECT 'column', schema_name || '.' || table_name || '.' || lpad(CAST(column_index AS VARCHAR), 5, '0'),
			concat_ws(' ', column_name, data_type, is_nullable, column_default), coalesce(comment, '')
		FROM duckdb_columns() WHERE database_name = $1 AND NOT internal
		UNION ALL
		SELECT 'view', schema_name || '.' || view_name, coalesce(sql, ''), coalesce(comment, '') FROM duckdb_views() WHERE database_name = $1 AND NOT internal AND NOT temporary
		UNION ALL
		SELECT 'macro', schema_name || '.' || function_name,
			concat_ws(' ', function_type, CAST(parameters AS VARCHAR), CAST(parameter_types AS VARCHAR), macro_definition), coalesce(comment, '')
		FROM duckdb_functions() WHERE database_name = $1 AND function_type IN ('macro', 'table_macro') AND NOT internal
		UNION ALL
		SELECT 'sequence', schema_name || '.' || sequence_name,
			concat_ws(' ', min_value, max_value, increment_by, cycle), coalesce(comment, '')
		FROM duckdb_sequences() WHERE database_name = $1 AND NOT temporary
		UNION ALL
		SELECT 'index', schema_name || '.' || index_name, coalesce(sql, ''), coalesce(comment, '') FROM duckdb_indexes() WHERE database_name = $1
		UNION ALL
		SELECT 'type', schema_name || '.' || type_name, coalesce(logical_type, ''), coalesce(comment, '') FROM duckdb_types() WHERE database_name = $1 AND NOT internal
		ORDER BY 1, 2, 3, 4`, database)
	if err != nil {
		return "", fmt.Errorf("read the catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name, def, comment string
		if err := rows.Scan(&kind, &name, &def, &comment); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", kind, name, def, comment)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(desc))
	for k := range desc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "description\x00%s\x00%s\n", k, strings.TrimSpace(desc[k]))
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// copyFile copies src to a new file dst (same permissions), a chunk at a
// time so a cancellation stops it; between two *os.File, io.Copy uses
// copy_file_range on Linux (no round trip through user space, a reflink
// where the file system has them).
func copyFile(ctx context.Context, src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := io.CopyN(out, in, 256<<20)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func removeTmp(tmp string) error {
	for _, f := range []string{tmp, tmp + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("publish snapshot: remove leftover %s: %w", f, err)
		}
	}
	return nil
}

// applyDescriptions comments the relations and columns of the copy that have
// no comment yet.
func applyDescriptions(ctx context.Context, conn *sql.Conn, desc map[string]string) error {
	if len(desc) == 0 {
		return nil
	}
	type target struct{ kind, schema, name, column, comment string }
	var todo []target
	rows, err := conn.QueryContext(ctx, `
		SELECT 'TABLE', schema_name, table_name, NULL, coalesce(comment, '') FROM duckdb_tables() WHERE database_name = ?
		UNION ALL
		SELECT 'VIEW', schema_name, view_name, NULL, coalesce(comment, '') FROM duckdb_views() WHERE database_name = ? AND NOT internal
		UNION ALL
		SELECT 'COLUMN', schema_name, table_name, column_name, coalesce(comment, '') FROM duckdb_columns() WHERE database_name = ?
		UNION ALL
		SELECT DISTINCT CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, schema_name, function_name, NULL, coalesce(comment, '')
		FROM duckdb_functions() WHERE database_name = ? AND function_type IN ('macro', 'table_macro') AND NOT internal`,
		snapshotAlias, snapshotAlias, snapshotAlias, snapshotAlias)
	if err != nil {
		return fmt.Errorf("publish snapshot: %w", err)
	}
	for rows.Next() {
		var t target
		var col sql.NullString
		if err := rows.Scan(&t.kind, &t.schema, &t.name, &col, &t.comment); err != nil {
			rows.Close()
			return err
		}
		t.column = col.String
		todo = append(todo, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range todo {
		if t.comment != "" {
			continue
		}
		key, obj := t.schema+"."+t.name, snapshotAlias+"."+quoteIdent(t.schema)+"."+quoteIdent(t.name)
		if t.kind == "COLUMN" {
			key += "." + t.column
			obj += "." + quoteIdent(t.column)
		}
		d := strings.TrimSpace(desc[key])
		if d == "" {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`COMMENT ON %s %s IS %s`, t.kind, obj, quoteLiteral(d))); err != nil {
			return fmt.Errorf("publish snapshot: comment %s: %w", key, err)
		}
	}
	return nil
}

type table struct {
	schema, name string
	rows         int64 // DuckDB's estimate
	indexed      bool  // has a primary key, a unique constraint or an index
}

func (t table) fullName() string { return t.schema + "." + t.name }

// in is the table's quoted name in the catalog db.
func (t table) in(db string) string {
	return quoteIdent(db) + "." + quoteIdent(t.schema) + "." + quoteIdent(t.name)
}

func baseTables(ctx context.Context, q queryer, database string) ([]table, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT schema_name, table_name, coalesce(estimated_size, 0), has_primary_key OR index_count > 0 FROM duckdb_tables()
		WHERE database_name = ? AND NOT temporary AND NOT internal
		ORDER BY schema_name, table_name`, database)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.schema, &t.name, &t.rows, &t.indexed); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// listOfStrings reads a VARCHAR[] value.
func listOfStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// excludedList is a VARCHAR[] parameter (never NULL, so readers get a list).
func excludedList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
