package transform

import (
	"context"
	"fmt"
	"time"
)

// YearsSQL lists the years of the data, the chunks of a model built by year.
const YearsSQL = "SELECT DISTINCT CAST(year(month) AS INTEGER) FROM staging.calendar ORDER BY 1"

// Years runs YearsSQL (none when staging.calendar is not built yet).
func Years(ctx context.Context, q dbtx) ([]int, error) {
	rows, err := q.QueryContext(ctx, YearsSQL)
	if err != nil {
		return nil, fmt.Errorf("years of staging.calendar: %w", err)
	}
	defer rows.Close()
	var years []int
	for rows.Next() {
		var y int
		if err := rows.Scan(&y); err != nil {
			return nil, err
		}
		years = append(years, y)
	}
	return years, rows.Err()
}

// FullBuildSQL is the statements that build the table model m into target
// for the window [since, until] (first days of months): one CREATE TABLE
// AS, or, for a model built by year with more than one of years in the
// window, the first year's rows by CREATE TABLE AS and each next year's by
// INSERT, with the window variables set to that year around each statement
// and set back to [since, until] at the end. The first chunk starts at
// since and the last ends at until, so the chunks cover the window whatever
// periods the rows have; the model's incremental predicate keeps each row
// in exactly one chunk.
func FullBuildSQL(m Model, target string, years []int, since, until time.Time) []string {
	body := m.SQL
	if m.Incremental != "" {
		body = fmt.Sprintf("SELECT * FROM (\n%s\n) WHERE %s", m.SQL, m.Incremental)
	}
	var in []int
	for _, y := range years {
		if y >= since.Year() && y <= until.Year() {
			in = append(in, y)
		}
	}
	if !m.ByYear || len(in) < 2 {
		return []string{fmt.Sprintf("CREATE TABLE %s AS\n%s", target, body)}
	}
	setWindow := func(s, u time.Time) string {
		return fmt.Sprintf("SET VARIABLE since = DATE '%s'; SET VARIABLE until = DATE '%s'", s.Format("2006-01-02"), u.Format("2006-01-02"))
	}
	var out []string
	for i, y := range in {
		s := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		u := time.Date(y, 12, 1, 0, 0, 0, 0, time.UTC)
		if i == 0 {
			s = since
		}
		if i == len(in)-1 {
			u = until
		}
		out = append(out, setWindow(s, u))
		if i == 0 {
			out = append(out, fmt.Sprintf("CREATE TABLE %s AS\n%s", target, body))
		} else {
			out = append(out, fmt.Sprintf("INSERT INTO %s BY NAME\n%s", target, body))
		}
	}
	return append(out, setWindow(since, until))
}

// FullRefreshBuildSQL is FullBuildSQL for a full refresh (the window of
// FullRefreshSessionSQL).
func FullRefreshBuildSQL(m Model, target string, years []int) []string {
	return FullBuildSQL(m, target, years, minDate, maxDate)
}
