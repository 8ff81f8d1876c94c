package transform

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// window is the range of months an incremental run recomputes.
type window struct {
	full         bool // rebuild everything
	none         bool // nothing new: incremental models are up to date
	since, until time.Time
}

// rawPeriod says, for each raw table, which month a row belongs to for the
// models (period), and which column holds the month of the file that
// brought it (fileMonth, "" for yearly or undated tables). A yearly row
// touches its whole year; raw.rpe_register has no period: any change
// rebuilds everything.
var rawPeriods = []struct {
	table, fileMonth, period string
}{
	{"raw.am_register", "snapshot_month", "snapshot_month"},
	{"raw.availability", "month", "month"},
	{"raw.family_request", "month", "least(month, date_trunc('month', received_on))"},
	{"raw.rpe_activity", "month", "least(month, date_trunc('month', event_date))"},
	{"raw.population", "", "make_date(year, 1, 1)"},
	{"raw.collective_places", "", "make_date(year, 1, 1)"},
	{"raw.caf_rate", "", "make_date(year, 1, 1)"},
	{"raw.drees", "", "make_date(year, 1, 1)"},
	{"raw.rpe_register", "", "DATE '1900-01-01'"},
}

func parseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return t, nil
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (r *runner) window(ctx context.Context, models []Model, states map[string]modelState) (window, error) {
	opt := r.opt
	w := window{until: maxDate}
	if opt.FullRefresh {
		w.full = true
		return w, nil
	}
	if opt.From != "" || opt.To != "" {
		w.since = minDate
		if opt.From != "" {
			t, err := parseMonth(opt.From)
			if err != nil {
				return w, fmt.Errorf("transform: --from: %w", err)
			}
			w.since = t
		}
		if opt.To != "" {
			t, err := parseMonth(opt.To)
			if err != nil {
				return w, fmt.Errorf("transform: --to: %w", err)
			}
			w.until = t
		}
		if w.until.Before(w.since) {
			return w, fmt.Errorf("transform: --to %s is before --from %s", opt.To, opt.From)
		}
		return w, nil
	}
	since := maxDate
	if opt.Months != nil {
		var lits []string
		for _, m := range opt.Months {
			m = monthStart(m)
			if m.Before(since) {
				since = m
			}
			lits = append(lits, "DATE '"+m.Format("2006-01-02")+"'")
		}
		if len(lits) > 0 {
			earliest, err := r.earliestPeriod(ctx, func(fileMonth string) string {
				if fileMonth == "" {
					return ""
				}
				return fileMonth + " IN (" + strings.Join(lits, ", ") + ")"
			})
			if err != nil {
				return w, err
			}
			if !earliest.IsZero() && earliest.Before(since) {
				since = earliest
			}
		}
	}
	// Detect from the file ledger too (it also sees undated sources such as
	// the RPE register): files loaded after the last success of every model,
	// and files replaced since then.
	wm := int64(-1)
	for _, m := range models {
		st, ok := states[m.Name]
		if !ok || !st.ok {
			w.full = true // a model never built: build everything
			return w, nil
		}
		if wm < 0 || st.watermark < wm {
			wm = st.watermark
		}
	}
	has, err := r.tableExists(ctx, "meta", "file_ledger")
	if err != nil {
		return w, err
	}
	if !has && opt.Months == nil {
		w.full = true // nothing tells what changed
		return w, nil
	}
	if has {
		earliest, err := r.earliestPeriod(ctx, func(string) string { return fmt.Sprintf("file_id > %d", wm) })
		if err != nil {
			return w, err
		}
		if !earliest.IsZero() && earliest.Before(since) {
			since = earliest
		}
		rows, err := r.conn.QueryContext(ctx, `SELECT coalesce(period, '') FROM meta.file_ledger WHERE file_id <= ? AND replaced_by > ?`, wm, wm)
		if err != nil {
			return w, fmt.Errorf("transform: read meta.file_ledger: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return w, err
			}
			t, ok := ledgerPeriod(p)
			if !ok {
				w.full = true
				return w, nil
			}
			if t.Before(since) {
				since = t
			}
		}
		if err := rows.Err(); err != nil {
			return w, err
		}
	}
	if since.Equal(maxDate) {
		w.none = true
		return w, nil
	}
	if !since.After(minDate) {
		w.full = true
		return w, nil
	}
	w.since = since
	return w, nil
}

// ledgerPeriod reads a file_ledger period: "2025-03" (a month), "2025-T2"
// (its first month) or "2025" (January).
func ledgerPeriod(p string) (time.Time, bool) {
	p = strings.TrimSpace(p)
	if t, err := time.Parse("2006-01", p); err == nil {
		return t, true
	}
	if len(p) == 7 && (p[5] == 'T' || p[5] == 'Q') && p[6] >= '1' && p[6] <= '4' {
		if y, err := time.Parse("2006", p[:4]); err == nil {
			return y.AddDate(0, 3*int(p[6]-'1'), 0), true
		}
	}
	if t, err := time.Parse("2006", p); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// earliestPeriod returns the earliest model month of the raw rows selected
// by filter(fileMonth column) ("" = the table is skipped), zero if none.
func (r *runner) earliestPeriod(ctx context.Context, filter func(fileMonth string) string) (time.Time, error) {
	var out time.Time
	for _, rp := range rawPeriods {
		cond := filter(rp.fileMonth)
		if cond == "" {
			continue
		}
		schema, table, _ := strings.Cut(rp.table, ".")
		has, err := r.tableExists(ctx, schema, table)
		if err != nil {
			return out, err
		}
		if !has {
			continue
		}
		var t sql.NullTime
		q := fmt.Sprintf("SELECT CAST(min(%s) AS DATE) FROM %s WHERE %s", rp.period, rp.table, cond)
		if err := r.conn.QueryRowContext(ctx, q).Scan(&t); err != nil {
			return out, fmt.Errorf("transform: touched months of %s: %w", rp.table, err)
		}
		if t.Valid && (out.IsZero() || t.Time.Before(out)) {
			out = monthStart(t.Time)
		}
	}
	return out, nil
}

func (r *runner) tableExists(ctx context.Context, schema, table string) (bool, error) {
	var n int
	err := r.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?`, schema, table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("transform: %w", err)
	}
	return n > 0, nil
}

// fileWatermark is the highest file id in the ledger now (0 without ledger).
func (r *runner) fileWatermark(ctx context.Context) (int64, error) {
	has, err := r.tableExists(ctx, "meta", "file_ledger")
	if err != nil || !has {
		return 0, err
	}
	var wm sql.NullInt64
	if err := r.conn.QueryRowContext(ctx, `SELECT max(file_id) FROM meta.file_ledger`).Scan(&wm); err != nil {
		return 0, fmt.Errorf("transform: read meta.file_ledger: %w", err)
	}
	return wm.Int64, nil
}
