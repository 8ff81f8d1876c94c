package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// ShareMemory lowers DuckDB's memory_limit to share of its value for
// the duration of a stage that keeps its data in Go; restore sets it back.
// The value is the configured one (warehouse.memory_limit), else DuckDB's
// own (its default, 80 % of the RAM).
func ShareMemory(ctx context.Context, db *sql.DB, configured string, share float64) (restore func(), err error) {
	cur := configured
	if cur == "" {
		if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&cur); err != nil {
			return nil, fmt.Errorf("memory_limit: %w", err)
		}
	}
	bytes, err := parseSize(cur)
	if err != nil {
		return nil, fmt.Errorf("memory_limit %q: %w", cur, err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", int64(float64(bytes)*share))); err != nil {
		return nil, fmt.Errorf("memory_limit: %w", err)
	}
	return func() {
		db.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("SET memory_limit = '%dB'", bytes))
	}, nil
}

// parseSize reads a DuckDB memory size: "2GB", "1.8 GiB", "953.6 MiB",
// "512MB", "1000000B".
func parseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("not a size")
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, err
	}
	units := map[string]float64{"B": 1, "BYTES": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
	m, ok := units[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", strings.TrimSpace(s[i:]))
	}
	return int64(v * m), nil
}
