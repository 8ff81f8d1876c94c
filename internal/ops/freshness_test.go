package ops

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// ledgerDDL is meta.file_ledger as docs/raw.md defines it (ingest owns it).
const ledgerDDL = `CREATE TABLE meta.file_ledger (file_id BIGINT PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
	source VARCHAR NOT NULL, sender VARCHAR, period VARCHAR, profile VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
	rows_rejected BIGINT, loaded_at TIMESTAMP NOT NULL, replaced_by BIGINT)`

func memWarehouse(t *testing.T) *sql.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestExpectedPeriod(t *testing.T) {
	paris, _ := LoadLocation("")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	monthly := Expectation{Source: "rpe_activity", Every: "month", DueDays: 15}
	yearly := Expectation{Source: "population", Every: "year", DueDays: 550}
	for _, c := range []struct {
		e         Expectation
		now       string
		want, due string
	}{
		// October's export is due on 16 November at 00:00 (15 days after the month).
		{monthly, "2026-11-15 23:59", "2026-09", "2026-10-16"},
		{monthly, "2026-11-16 00:00", "2026-10", "2026-11-16"},
		{monthly, "2026-01-20 10:00", "2025-12", "2026-01-16"},
		// 2024's population is due 550 days after 1 Jan 2025: 5 July 2026.
		{yearly, "2026-11-25 10:00", "2024", "2026-07-05"},
		{yearly, "2026-07-04 10:00", "2023", "2025-07-04"}, // 2024 is a leap year
	} {
		p, due := ExpectedPeriod(c.e, at(c.now))
		if got := periodLabel(c.e.Every, p); got != c.want || due.Format("2006-01-02") != c.due {
			t.Errorf("%s at %s: %s due %s, want %s due %s", c.e.Source, c.now, got, due.Format("2006-01-02"), c.want, c.due)
		}
	}
}

func TestCheckFreshness(t *testing.T) {
	ctx := context.Background()
	db := memWarehouse(t)
	exps := []Expectation{
		{Source: "rpe_activity", Every: "month", DueDays: 15},
		{Source: "availability", Every: "month", DueDays: 15},
		{Source: "family_request", Every: "month", DueDays: 15},
		{Source: "population", Every: "year", DueDays: 550},
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f, err := CheckFreshness(ctx, db, exps, now)
	if err != nil || f.Ledger || len(f.Sources) != 4 || !f.Sources[0].NeverLoaded || f.Sources[0].Late {
		t.Fatalf("no ledger yet: %+v %v", f, err)
	}
	if _, err := db.Exec(ledgerDDL); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, loaded_at, replaced_by) VALUES
		-- rpe_activity: RPE A sent October, RPE B stopped at August, RPE C at 2024-06 (gone: beyond 12 months)
		(1, 'a10', 'h1', 'rpe_activity', 'RPE-A', '2026-10', '2026-11-10 08:00', NULL),
		(2, 'b08', 'h2', 'rpe_activity', 'RPE-B', '2026-08', '2026-09-12 08:00', NULL),
		(3, 'c06', 'h3', 'rpe_activity', 'RPE-C', '2024-06', '2024-07-02 08:00', NULL),
		-- availability: the département sent September only, and a corrected October was replaced... by nothing valid
		(4, 'd09', 'h4', 'availability', '35', '2026-09', '2026-10-05 08:00', NULL),
		(5, 'd10', 'h5', 'availability', '35', '2026-10', '2026-11-05 08:00', 6),
		-- population: 2024 is in
		(7, 'p24', 'h7', 'population', '35', '2024', '2026-07-01 08:00', NULL),
		-- a yearly file of a monthly source does not count for a month
		(8, 'ay', 'h8', 'rpe_activity', 'RPE-B', '2026', '2026-11-20 08:00', NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	f, err = CheckFreshness(ctx, db, exps, now)
	if err != nil {
		t.Fatal(err)
	}
	act, av, fam, pop := f.Sources[0], f.Sources[1], f.Sources[2], f.Sources[3]
	if act.ExpectedPeriod != "2026-10" || act.Late || act.Missing != 1 || act.LastPeriod != "2026-10" || len(act.Senders) != 3 {
		t.Fatalf("rpe_activity = %+v", act)
	}
	if act.Senders[1].Sender != "RPE-B" || !act.Senders[1].Missing || act.Senders[2].Missing || act.Senders[0].Missing {
		t.Fatalf("senders = %+v", act.Senders)
	}
	if act.State() != "1 sender(s) missing" || act.NextPeriod != "2026-11" || act.NextDue.Format("2006-01-02") != "2026-12-16" {
		t.Fatalf("state %q next %s %s", act.State(), act.NextPeriod, act.NextDue)
	}
	if !av.Late || av.LastPeriod != "2026-09" || av.State() != "LATE" {
		t.Fatalf("availability = %+v", av)
	}
	if !fam.NeverLoaded || fam.Late || fam.State() != "never loaded" {
		t.Fatalf("family_request = %+v", fam)
	}
	if pop.Late || pop.ExpectedPeriod != "2024" || pop.State() != "ok" {
		t.Fatalf("population = %+v", pop)
	}
	probs := f.Problems()
	if len(probs) != 2 || !strings.Contains(probs[0], "rpe_activity 2026-10 (due 2026-11-16) not sent by: RPE-B (last 2026-08)") ||
		!strings.Contains(probs[1], "availability: no export for 2026-10") {
		t.Fatalf("problems = %q", probs)
	}
	if _, err := CheckFreshness(ctx, db, []Expectation{{Source: "x", Every: "week"}}, now); err == nil {
		t.Fatal("every = week accepted")
	}
}

func TestErrorTestFailures(t *testing.T) {
	ctx := context.Background()
	db := memWarehouse(t)
	if got, err := ErrorTestFailures(ctx, db, 1); err != nil || got != nil {
		t.Fatalf("no table: %v %v", got, err)
	}
	_, err := db.Exec(`CREATE TABLE meta.test_failure (run_id BIGINT, model VARCHAR, test VARCHAR, severity VARCHAR, row_json VARCHAR);
		INSERT INTO meta.test_failure VALUES
		(1, 'mart.coverage', 'not_null_value', 'error', '{}'), (1, 'mart.coverage', 'not_null_value', 'error', '{}'),
		(1, 'staging.am', 'range_places', 'warn', '{}'), (2, 'mart.coverage', 'unique', 'error', '{}')`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ErrorTestFailures(ctx, db, 1)
	if err != nil || len(got) != 1 || got[0] != (TestFailure{Model: "mart.coverage", Test: "not_null_value", Rows: 2}) {
		t.Fatalf("%+v %v", got, err)
	}
}

// TestFreshnessPerRPE: one département file carries every RPE's events; the
// RPE that had no event in the due month is named, and so is an RPE of the
// register that never had any event.
func TestFreshnessPerRPE(t *testing.T) {
	ctx := context.Background()
	db := memWarehouse(t)
	for _, q := range []string{ledgerDDL,
		`CREATE TABLE raw.rpe_activity (file_id BIGINT, line BIGINT, month DATE, rpe_id VARCHAR)`,
		`CREATE TABLE raw.rpe_register (file_id BIGINT, line BIGINT, rpe_id VARCHAR)`,
		`INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, loaded_at, replaced_by) VALUES
			(1, 'act09', 'h1', 'rpe_activity', '35', '2026-09', '2026-10-10 08:00', NULL),
			(2, 'act10', 'h2', 'rpe_activity', '35', '2026-10', '2026-11-10 08:00', NULL),
			(3, 'reg', 'h3', 'rpe_register', '35', '2026', '2026-01-10 08:00', NULL),
			(4, 'old10', 'h4', 'rpe_activity', '35', '2026-10', '2026-11-09 08:00', 2)`,
		// A: September and October. B: September only. C: registered, no event.
		// D: only in a replaced file, so it does not count.
		`INSERT INTO raw.rpe_activity VALUES (1, 2, '2026-09-01', 'A'), (2, 2, '2026-10-01', 'A'),
			(1, 3, '2026-09-01', 'B'), (4, 2, '2026-10-01', 'D')`,
		`INSERT INTO raw.rpe_register VALUES (3, 4, 'A'), (3, 5, 'B'), (3, 6, 'C')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f, err := CheckFreshness(ctx, db, []Expectation{{Source: "rpe_activity", Every: "month", DueDays: 15}}, now)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Sources[0]
	var got []string
	for _, se := range s.Senders {
		got = append(got, se.Sender+"="+se.LastPeriod)
		if se.Missing != (se.Sender == "B" || se.Sender == "C") {
			t.Errorf("sender %s missing = %v", se.Sender, se.Missing)
		}
	}
	if strings.Join(got, " ") != "A=2026-10 B=2026-09 C=" || s.Missing != 2 || s.Late {
		t.Fatalf("senders %v, state %+v", got, s)
	}
}
