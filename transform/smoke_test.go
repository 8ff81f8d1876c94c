package transform

import (
	"context"
	"testing"
)

// TestRunHandFixture builds every model on the hand-made fixture.
func TestRunHandFixture(t *testing.T) {
	db := openDB(t)
	execFile(t, db, "testdata/hand/ref.sql")
	execFile(t, db, "testdata/hand/part1.sql")
	execFile(t, db, "testdata/hand/part2.sql")
	res, err := Run(context.Background(), db, Options{FullRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	if err := db.QueryRow(`SELECT value FROM mart.indicator WHERE level = 'commune' AND code = '35001' AND period = '2025-04' AND indicator = 'coverage_rate'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	// 100 x (10 + 2 + 1 + (3 + 3 x 0.81) + 1) / 50
	if d := v - 38.86; d > 1e-9 || d < -1e-9 {
		t.Errorf("coverage_rate = %v, want 38.86", v)
	}
	_ = res
}
