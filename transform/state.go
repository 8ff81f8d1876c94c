package transform

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// TableState is what meta.model_state says of a model table: when its
// current content was built, from which earlier content, and which rows
// that build rewrote. The analyst snapshot uses it to copy only what
// changed (package analyst does not import transform: the composition root
// turns these into analyst.TableChange).
//
// A table changes only when a build of it succeeds (status ok): a failed
// build leaves the previous table (rolled back, or the new one dropped), a
// skipped or fresh model is not touched. So BuiltAt identifies the table's
// content, and when the last build was incremental, the table is the
// content of PrevBuiltAt with the rows matching Window deleted and
// recomputed.
type TableState struct {
	Table       string    // "schema.table"
	BuiltAt     time.Time // last successful build
	PrevBuiltAt time.Time // built_at before that build; zero when it was the first
	// Mode of the last successful build when it is known: "full" or
	// "incremental". Empty when the last attempt did not succeed (fresh,
	// failed, skipped: model_state's mode, since and until describe the
	// attempt, not the build) or the model's definition changed since.
	Mode         string
	Since, Until time.Time // window of an incremental build (first days of months)
	// Window is the model's incremental predicate (Model.Incremental), set
	// when Mode is "incremental": the rows the build deleted and inserted.
	Window string
	// SessionSQL defines what Window uses: the window variables and the
	// helper macros (SessionSQL(Since, Until, ratio)), to run on the
	// connection that evaluates it.
	SessionSQL string
}

// TableStates returns the state of every model table built at least once,
// in model order. ratio is the run's AM under-3 ratio (0 = the default); a
// model whose definition or ratio changed since its last build gets no
// window. A warehouse that was never transformed has none.
func TableStates(ctx context.Context, q dbtx, ratio float64) ([]TableState, error) {
	if ratio == 0 {
		ratio = DefaultAMUnder3Ratio
	}
	models, err := Models()
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	var hasTable, hasPrev int
	if err := q.QueryRowContext(ctx, `SELECT count(DISTINCT table_name), count(*) FILTER (column_name = 'prev_built_at')
		FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'meta' AND table_name = 'model_state'`).Scan(&hasTable, &hasPrev); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	if hasTable == 0 {
		return nil, nil
	}
	prev := "prev_built_at"
	if hasPrev == 0 { // written by an older binary: no previous build known
		prev = "CAST(NULL AS TIMESTAMP)"
	}
	rows, err := q.QueryContext(ctx, `SELECT model, built_at, `+prev+`, coalesce(status, ''), coalesce(mode, ''), since, until, coalesce(sql_hash, '')
		FROM meta.model_state WHERE built_at IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("transform: read meta.model_state: %w", err)
	}
	defer rows.Close()
	type row struct {
		built, prev        sql.NullTime
		status, mode, hash string
		since, until       sql.NullTime
	}
	states := map[string]row{}
	for rows.Next() {
		var name string
		var r row
		if err := rows.Scan(&name, &r.built, &r.prev, &r.status, &r.mode, &r.since, &r.until, &r.hash); err != nil {
			return nil, err
		}
		states[name] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	hasher := runner{ratio: ratio}
	var out []TableState
	for _, m := range models {
		r, ok := states[m.Name]
		if m.Kind != "table" || !ok || !r.built.Valid {
			continue
		}
		st := TableState{Table: m.Name, BuiltAt: r.built.Time, PrevBuiltAt: r.prev.Time}
		if r.status == "ok" && r.hash == hasher.effectiveHash(m) {
			st.Mode = r.mode
		}
		if st.Mode == "incremental" {
			if !r.since.Valid || !r.until.Valid || m.Incremental == "" {
				st.Mode = ""
			} else {
				st.Since, st.Until = r.since.Time, r.until.Time
				st.Window = m.Incremental
				st.SessionSQL = SessionSQL(st.Since, st.Until, ratio)
			}
		}
		out = append(out, st)
	}
	return out, nil
}
