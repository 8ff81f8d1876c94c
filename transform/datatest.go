package transform

import (
	"fmt"
	"regexp"
	"strings"
)

// Data tests, as written in a model header under "tests:":
//
//	- unique: month, am_id                       one row per key
//	- not_null: month, am_id, commune            none of them NULL
//	- accepted_values: status in ('a', 'b')      NULL is accepted (pair with not_null)
//	- relationships: commune -> ref.territory(code) where level = 'commune'
//	- range: vacant_places 0..4                  either bound may be left out: "0.."
//	- assert: vacant_le_places: vacant_places <= places     rows where the condition is false
//	- sql: no_orphan: SELECT * FROM {{this}} t WHERE ...    any query; its rows are failures
//
// A trailing [warn] or [error] sets the severity (default error). An error
// failure fails the model: its new table is rolled back and the models that
// depend on it are skipped. A warn failure is recorded and the run goes on.
// Failing rows (up to maxFailRows per test) go to meta.test_failure.

var severityRE = regexp.MustCompile(`\s*\[(warn|error)\]\s*$`)

func parseTest(spec string) ([]DataTest, error) {
	spec = strings.TrimSpace(spec)
	sev := "error"
	if m := severityRE.FindStringSubmatch(spec); m != nil {
		sev = m[1]
		spec = strings.TrimSpace(spec[:len(spec)-len(m[0])])
	}
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok {
		return nil, fmt.Errorf("test %q: want 'kind: arguments'", spec)
	}
	kind, arg = strings.TrimSpace(kind), strings.TrimSpace(arg)
	mk := func(name, q string, refs ...string) DataTest {
		return DataTest{Name: name, Kind: kind, Severity: sev, Query: q, Spec: spec, Refs: refs}
	}
	bad := func(want string) ([]DataTest, error) {
		return nil, fmt.Errorf("test %q: want %s", spec, want)
	}
	switch kind {
	case "unique":
		cols := splitCols(arg)
		if len(cols) == 0 {
			return bad("unique: col, col")
		}
		c := strings.Join(cols, ", ")
		return []DataTest{mk("unique("+c+")",
			fmt.Sprintf("SELECT %s, count(*) AS duplicates FROM {{this}} GROUP BY ALL HAVING count(*) > 1", c))}, nil
	case "not_null":
		cols := splitCols(arg)
		if len(cols) == 0 {
			return bad("not_null: col, col")
		}
		// One scan for all the columns.
		conds := make([]string, len(cols))
		for i, c := range cols {
			conds[i] = c + " IS NULL"
		}
		return []DataTest{mk("not_null("+strings.Join(cols, ", ")+")",
			"SELECT * FROM {{this}} WHERE "+strings.Join(conds, " OR "))}, nil
	case "accepted_values":
		col, list, ok := strings.Cut(arg, " in ")
		if !ok {
			return bad("accepted_values: col in ('a', 'b')")
		}
		col = strings.TrimSpace(col)
		return []DataTest{mk("accepted_values("+col+")",
			fmt.Sprintf("SELECT * FROM {{this}} WHERE %s IS NOT NULL AND %s NOT IN %s", col, col, strings.TrimSpace(list)))}, nil
	case "relationships":
		m := relRE.FindStringSubmatch(arg)
		if m == nil {
			return bad("relationships: col -> schema.table(col) [where condition]")
		}
		col, table, rcol, where := m[1], strings.ToLower(m[2]), m[3], strings.TrimSpace(m[4])
		cond := ""
		if where != "" {
			cond = " AND (" + where + ")"
		}
		// The orphans are found on the row ids (an anti join with the
		// referenced table as its build side), then fetched whole. As a
		// correlated NOT EXISTS, DuckDB materialised every row of the model
		// in the decorrelation join: 58 s on national int.indicator_value
		// (3.4 M rows with their indicator lists), 0.17 s this way.
		return []DataTest{mk("relationships("+col+" -> "+table+"."+rcol+")",
			fmt.Sprintf("SELECT * FROM {{this}} WHERE rowid IN (SELECT t.rowid FROM {{this}} t ANTI JOIN %s r ON r.%s = t.%s%s WHERE t.%s IS NOT NULL)",
				table, rcol, col, cond, col), table)}, nil
	case "range":
		m := rangeRE.FindStringSubmatch(arg)
		if m == nil || (m[2] == "" && m[3] == "") {
			return bad("range: col min..max")
		}
		var conds []string
		if m[2] != "" {
			conds = append(conds, fmt.Sprintf("%s < %s", m[1], m[2]))
		}
		if m[3] != "" {
			conds = append(conds, fmt.Sprintf("%s > %s", m[1], m[3]))
		}
		return []DataTest{mk("range("+m[1]+")", "SELECT * FROM {{this}} WHERE "+strings.Join(conds, " OR "))}, nil
	case "assert", "sql":
		name, body, ok := strings.Cut(arg, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t(") {
			return bad(kind + ": name: " + map[string]string{"assert": "condition", "sql": "query"}[kind])
		}
		body = strings.TrimSpace(body)
		q := body
		if kind == "assert" {
			q = fmt.Sprintf("SELECT * FROM {{this}} WHERE (%s) IS FALSE", body)
		}
		_, srcs := References(q)
		models, _ := References(q)
		return []DataTest{mk(name, q, append(models, srcs...)...)}, nil
	}
	return nil, fmt.Errorf("test %q: unknown kind %q (unique, not_null, accepted_values, relationships, range, assert, sql)", spec, kind)
}

var (
	relRE   = regexp.MustCompile(`(?i)^(\w+)\s*->\s*(\w+\.\w+)\s*\(\s*(\w+)\s*\)\s*(?:where\s+(.+))?$`)
	rangeRE = regexp.MustCompile(`^(\w+)\s+(-?[0-9.]*)\s*\.\.\s*(-?[0-9.]*)$`)
)

func splitCols(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
