package warehouse

import (
	"context"
	"testing"
)

// TestSettings checks that the DSN's settings reach DuckDB: extensions are
// never fetched, and freed memory is handed back by background threads.
func TestSettings(t *testing.T) {
	db, err := Open(context.Background(), Options{MemoryLimit: "300MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, want := range map[string]string{
		"autoinstall_known_extensions": "false",
		"autoload_known_extensions":    "false",
		"allocator_background_threads": "true",
		"threads":                      "1",
		"memory_limit":                 "286.1 MiB",
	} {
		var got string
		if err := db.QueryRow("SELECT CAST(current_setting('" + name + "') AS VARCHAR)").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
}
