package ops

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Expectation is one source's calendar (config.Expect converts to it).
type Expectation struct {
	Source   string
	Every    string // month or year
	DueDays  int    // days after the end of a period by which its export is expected
	Lookback int    // a sender is expected when it sent in the Lookback periods before; 0 = 12 months or 3 years
}

// SenderState is one sender of a source.
type SenderState struct {
	Sender     string    `json:"sender"`
	LastPeriod string    `json:"last_period"`
	LastLoaded time.Time `json:"last_loaded"`
	Files      int       `json:"files"`
	Missing    bool      `json:"missing"` // expected for the period and not sent
}

// SourceState is the freshness of one source.
type SourceState struct {
	Source         string        `json:"source"`
	Every          string        `json:"every"`
	ExpectedPeriod string        `json:"expected_period"` // latest period whose export is due
	Due            time.Time     `json:"due"`             // when that export was due
	NextPeriod     string        `json:"next_period"`     // the following period...
	NextDue        time.Time     `json:"next_due"`        // ...and when it is due
	LastPeriod     string        `json:"last_period,omitempty"`
	LastLoaded     time.Time     `json:"last_loaded,omitempty"`
	NeverLoaded    bool          `json:"never_loaded"`
	Late           bool          `json:"late"` // nobody has sent the expected period
	Senders        []SenderState `json:"senders"`
	Missing        int           `json:"missing"` // senders expected and not sent
}

// State says, in words: ok, late, N senders missing, never loaded.
func (s SourceState) State() string {
	switch {
	case s.NeverLoaded:
		return "never loaded"
	case s.Late:
		return "LATE"
	case s.Missing > 0:
		return fmt.Sprintf("%d sender(s) missing", s.Missing)
	}
	return "ok"
}

// Freshness is the state of every expected source.
type Freshness struct {
	Now     time.Time     `json:"now"`
	Ledger  bool          `json:"ledger"` // false: no meta.file_ledger yet (nothing ingested)
	Sources []SourceState `json:"sources"`
}

// Problems lists what is late, for a notification (empty: all fresh).
func (f Freshness) Problems() []string {
	var out []string
	for _, s := range f.Sources {
		if s.Late {
			out = append(out, fmt.Sprintf("%s: no export for %s (due %s); latest loaded %s on %s",
				s.Source, s.ExpectedPeriod, s.Due.Format("2006-01-02"), s.LastPeriod, s.LastLoaded.Format("2006-01-02")))
			continue
		}
		if s.Missing > 0 {
			var who []string
			for _, se := range s.Senders {
				if se.Missing {
					who = append(who, fmt.Sprintf("%s (last %s)", se.Sender, se.LastPeriod))
				}
			}
			out = append(out, fmt.Sprintf("%s %s (due %s) not sent by: %s",
				s.Source, s.ExpectedPeriod, s.Due.Format("2006-01-02"), strings.Join(who, ", ")))
		}
	}
	return out
}

// Period arithmetic: a period is "2006-01" (month) or "2006" (year).

func periodStart(every string, t time.Time) time.Time {
	if every == "year" {
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

func periodAdd(every string, start time.Time, n int) time.Time {
	if every == "year" {
		return start.AddDate(n, 0, 0)
	}
	return start.AddDate(0, n, 0)
}

func periodLabel(every string, start time.Time) string {
	if every == "year" {
		return start.Format("2006")
	}
	return start.Format("2006-01")
}

// dueDate is when the export of the period starting at start is due.
func dueDate(e Expectation, start time.Time) time.Time {
	return periodAdd(e.Every, start, 1).AddDate(0, 0, e.DueDays)
}

// ExpectedPeriod returns the latest period whose export is due at now (its
// start), and its due date.
func ExpectedPeriod(e Expectation, now time.Time) (time.Time, time.Time) {
	p := periodStart(e.Every, now)
	for dueDate(e, p).After(now) {
		p = periodAdd(e.Every, p, -1)
	}
	return p, dueDate(e, p)
}

// CheckFreshness reads meta.file_ledger (files not replaced) and says, for
// each expectation, which period is due, whether the source is late (nobody
// sent that period) and which senders have not sent it. A sender is expected
// when it sent the source in the Lookback periods before the due one; a
// source never loaded is reported as such, not as late (it may not be used).
func CheckFreshness(ctx context.Context, db *sql.DB, exps []Expectation, now time.Time) (Freshness, error) {
	f := Freshness{Now: now}
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'file_ledger'`).Scan(&n)
	if err != nil {
		return f, fmt.Errorf("freshness: %w", err)
	}
	f.Ledger = n > 0
	for _, e := range exps {
		if e.Every != "year" && e.Every != "month" {
			return f, fmt.Errorf("freshness: source %s: every = %q, want month or year", e.Source, e.Every)
		}
		lookback := e.Lookback
		if lookback <= 0 {
			lookback = 12
			if e.Every == "year" {
				lookback = 3
			}
		}
		p, due := ExpectedPeriod(e, now)
		next := periodAdd(e.Every, p, 1)
		s := SourceState{Source: e.Source, Every: e.Every, ExpectedPeriod: periodLabel(e.Every, p), Due: due,
			NextPeriod: periodLabel(e.Every, next), NextDue: dueDate(e, next), NeverLoaded: true}
		if f.Ledger {
			senders, err := ledgerSenders(ctx, db, e)
			if err != nil {
				return f, err
			}
			if e.Source == "rpe_activity" && len(senders) > 0 {
				// One export may carry the events of many RPE (a
				// département's file): who has not sent this period is
				// answered per RPE, from the events themselves.
				if rpes, err := rpeSenders(ctx, db); err != nil {
					return f, err
				} else if len(rpes) > 0 {
					senders = rpes
				}
			}
			oldest := periodLabel(e.Every, periodAdd(e.Every, p, -lookback))
			for _, se := range senders {
				s.NeverLoaded = false
				if se.LastPeriod > s.LastPeriod {
					s.LastPeriod = se.LastPeriod
				}
				if se.LastLoaded.After(s.LastLoaded) {
					s.LastLoaded = se.LastLoaded
				}
				// An RPE of the register that never sent anything
				// (empty LastPeriod) is missing too.
				if se.LastPeriod < s.ExpectedPeriod && (se.LastPeriod >= oldest || se.LastPeriod == "") {
					se.Missing = true
					s.Missing++
				}
				s.Senders = append(s.Senders, se)
			}
			s.Late = !s.NeverLoaded && s.LastPeriod < s.ExpectedPeriod
		}
		f.Sources = append(f.Sources, s)
	}
	return f, nil
}

func ledgerSenders(ctx context.Context, db *sql.DB, e Expectation) ([]SenderState, error) {
	// Periods of the other shape (a yearly file of a monthly source) are
	// left out: they cannot answer for a month.
	pattern := `^\d{4}-\d{2}$`
	if e.Every == "year" {
		pattern = `^\d{4}$`
	}
	rows, err := db.QueryContext(ctx, `
		SELECT coalesce(sender, ''), max(period), max(loaded_at), count(*)
		FROM meta.file_ledger
		WHERE source = ? AND replaced_by IS NULL AND regexp_full_match(period, ?)
		GROUP BY ALL`, e.Source, pattern)
	if err != nil {
		return nil, fmt.Errorf("freshness: read meta.file_ledger: %w", err)
	}
	defer rows.Close()
	var out []SenderState
	for rows.Next() {
		var s SenderState
		if err := rows.Scan(&s.Sender, &s.LastPeriod, &s.LastLoaded, &s.Files); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sender < out[j].Sender })
	return out, rows.Err()
}

// rpeSenders lists every RPE of the register (and any RPE with events) with
// the latest month it has events for, from files still in force. An RPE of
// the register that never sent anything has an empty LastPeriod and is
// reported missing.
func rpeSenders(ctx context.Context, db *sql.DB) ([]SenderState, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'raw' AND table_name IN ('rpe_activity', 'rpe_register')`).Scan(&n); err != nil || n < 2 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `
		WITH ev AS (
			SELECT a.rpe_id, strftime(max(a.month), '%Y-%m') AS last_period, max(l.loaded_at) AS last_loaded,
				count(DISTINCT a.file_id) AS files
			FROM raw.rpe_activity a JOIN meta.file_ledger l USING (file_id)
			WHERE l.replaced_by IS NULL
			GROUP BY ALL
		), reg AS (
			SELECT DISTINCT r.rpe_id FROM raw.rpe_register r JOIN meta.file_ledger l USING (file_id)
			WHERE l.replaced_by IS NULL
		)
		SELECT coalesce(ev.rpe_id, reg.rpe_id), coalesce(ev.last_period, ''),
			coalesce(ev.last_loaded, TIMESTAMP '1970-01-01'), coalesce(ev.files, 0)
		FROM ev FULL JOIN reg USING (rpe_id)
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("freshness: RPE activity per RPE: %w", err)
	}
	defer rows.Close()
	var out []SenderState
	for rows.Next() {
		var s SenderState
		if err := rows.Scan(&s.Sender, &s.LastPeriod, &s.LastLoaded, &s.Files); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TestFailure is a data test of error severity that failed in a run.
type TestFailure struct {
	Model, Test string
	Rows        int64
}

// ErrorTestFailures lists the data tests of error severity that failed in
// run runID (meta.test_failure, written by transform); none when the table
// does not exist yet.
func ErrorTestFailures(ctx context.Context, db *sql.DB, runID int64) ([]TestFailure, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'test_failure'`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `
		SELECT coalesce(model, ''), coalesce(test, ''), count(*) FROM meta.test_failure
		WHERE run_id = ? AND severity = 'error' GROUP BY ALL ORDER BY 1, 2`, runID)
	if err != nil {
		return nil, fmt.Errorf("read meta.test_failure: %w", err)
	}
	defer rows.Close()
	var out []TestFailure
	for rows.Next() {
		var t TestFailure
		if err := rows.Scan(&t.Model, &t.Test, &t.Rows); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
