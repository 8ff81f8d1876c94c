package transform

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFullBuildSQLWindows(t *testing.T) {
	m := Model{Name: "mart.x", SQL: "SELECT 1 AS a", Incremental: "in_window(d)", ByYear: true}
	since := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)
	got := FullBuildSQL(m, "mart.x__new", []int{2024, 2025, 2026}, since, until)
	var windows, verbs []string
	for _, q := range got {
		if strings.HasPrefix(q, "SET VARIABLE") {
			windows = append(windows, q)
		} else {
			verbs = append(verbs, strings.Fields(q)[0])
		}
	}
	want := []string{
		"SET VARIABLE since = DATE '1900-01-01'; SET VARIABLE until = DATE '2024-12-01'",
		"SET VARIABLE since = DATE '2025-01-01'; SET VARIABLE until = DATE '2025-12-01'",
		"SET VARIABLE since = DATE '2026-01-01'; SET VARIABLE until = DATE '9999-12-01'",
		"SET VARIABLE since = DATE '1900-01-01'; SET VARIABLE until = DATE '9999-12-01'", // the run's window back
	}
	if diff := cmp.Diff(want, windows); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CREATE", "INSERT", "INSERT"}, verbs); diff != "" {
		t.Errorf("statements (-want +got):\n%s", diff)
	}
	// one year, or a model not built by year: one statement
	if n := len(FullBuildSQL(m, "t", []int{2025}, since, until)); n != 1 {
		t.Errorf("one year: %d statements", n)
	}
	m.ByYear = false
	if n := len(FullBuildSQL(m, "t", []int{2024, 2025}, since, until)); n != 1 {
		t.Errorf("not by year: %d statements", n)
	}
}

// A model built by year gives the same table as the same query run once
// over every period (mart.indicator on the synthetic set, several years).
func TestByYearEqualsOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	mustExec(t, db, fmt.Sprintf(benchGenSQL, 30, 250, 4000, 600))
	mustRun(t, db, Options{FullRefresh: true})
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	years, err := Years(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(years) < 2 {
		t.Fatalf("the synthetic set spans %v: want several years", years)
	}
	models, err := Models()
	if err != nil {
		t.Fatal(err)
	}
	var m Model
	for _, x := range models {
		if x.Name == "mart.indicator" {
			m = x
		}
	}
	if !m.ByYear {
		t.Fatal("mart.indicator is not built by year")
	}
	if _, err := conn.ExecContext(ctx, FullRefreshSessionSQL(1)); err != nil {
		t.Fatal(err)
	}
	one := FullRefreshBuildSQL(m, "mart.indicator_one", nil)
	if len(one) != 1 {
		t.Fatalf("%d statements without years", len(one))
	}
	if _, err := conn.ExecContext(ctx, one[0]); err != nil {
		t.Fatal(err)
	}
	var total, onlyChunked, onlyOne int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM mart.indicator),
		(SELECT count(*) FROM (SELECT * FROM mart.indicator EXCEPT ALL SELECT * FROM mart.indicator_one)),
		(SELECT count(*) FROM (SELECT * FROM mart.indicator_one EXCEPT ALL SELECT * FROM mart.indicator))`).Scan(&total, &onlyChunked, &onlyOne); err != nil {
		t.Fatal(err)
	}
	if total == 0 || onlyChunked != 0 || onlyOne != 0 {
		t.Errorf("mart.indicator by year: %d rows, %d not in the one-statement table, %d missing from it", total, onlyChunked, onlyOne)
	}
}
