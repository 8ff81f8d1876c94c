package main

import (
	"context"
	"testing"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"2GB", 2e9}, {"1.8 GiB", 1932735283}, {"953.6 MiB", 999922073},
		{"512mb", 512e6}, {"1000000B", 1e6}, {" 3 gb ", 3e9},
	} {
		if got, err := parseBytes(c.in); err != nil || got != c.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GB", "2 parsecs", "-1GB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

// TestShareDuckDBMemory: the report lowers DuckDB's memory_limit to its
// share of the configured value, and sets it back after.
func TestShareDuckDBMemory(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	limit := func() string {
		var s string
		if err := db.QueryRow("SELECT current_setting('memory_limit')").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := limit()
	restore, err := shareDuckDBMemory(ctx, db, "2GB", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if got := limit(); got != "953.6 MiB" {
		t.Errorf("during the stage: %s, want 953.6 MiB (1 GB)", got)
	}
	restore()
	if got := limit(); got != before {
		t.Errorf("after: %s, want %s", got, before)
	}
	// without a configured value, DuckDB's own is shared
	restore, err = shareDuckDBMemory(ctx, db, "", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if got := limit(); got == before {
		t.Errorf("DuckDB's own limit not lowered: %s", got)
	}
	restore()
}
