package warehouse

import (
	"context"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"2GB", 2e9}, {"1.8 GiB", 1932735283}, {"953.6 MiB", 999922073},
		{"512mb", 512e6}, {"1000000B", 1e6}, {" 3 gb ", 3e9},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GB", "2 parsecs", "-1GB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// TestShareMemory: a stage lowers DuckDB's memory_limit to its
// share of the configured value, and sets it back after.
func TestShareMemory(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{MemoryLimit: "2GB"})
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
	restore, err := ShareMemory(ctx, db, "2GB", 0.5)
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
	restore, err = ShareMemory(ctx, db, "", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if got := limit(); got == before {
		t.Errorf("DuckDB's own limit not lowered: %s", got)
	}
	restore()
}
