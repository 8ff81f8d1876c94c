package analyst

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/rivo/uniseg"
)

// Relation is a table, view or table macro of the snapshot with its French
// description.
type Relation struct {
	Schema      string   `json:"schema"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"` // table, view, macro
	Description string   `json:"description,omitempty"`
	Rows        int64    `json:"rows,omitempty"` // tables: DuckDB's row estimate
	Params      []string `json:"parameters,omitempty"`
	Columns     []Column `json:"columns,omitempty"`
}

// Column is a column with its type and description.
type Column struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// Indicator is a row of mart.indicator_catalog.
type Indicator struct {
	Indicator   string `json:"indicator"`
	Label       string `json:"label"`
	Unit        string `json:"unit"`
	Theme       string `json:"theme,omitempty"`
	Description string `json:"description,omitempty"`
}

// FullName is schema.name.
func (r Relation) FullName() string { return r.Schema + "." + r.Name }

// Describe lists the relations whose schema.name matches pattern (path.Match
// syntax; "" or "*" for all, a bare name matches any schema), with their
// columns. Descriptions come from DuckDB comments (COMMENT ON, which the
// transform writes and the snapshot keeps) and, for what has none, from a
// dictionary table when the warehouse has one.
func Describe(ctx context.Context, q queryer, pattern string) ([]Relation, error) {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	match := func(schema, name string) bool {
		switch {
		case pattern == "" || pattern == "*":
			return true
		case strings.Contains(pattern, "."):
			ok, _ := path.Match(pattern, strings.ToLower(schema+"."+name))
			return ok
		}
		ok, _ := path.Match(pattern, strings.ToLower(name))
		return ok
	}
	rows, err := q.QueryContext(ctx, `
		SELECT schema_name, table_name, 'table', comment, estimated_size FROM duckdb_tables()
		WHERE database_name = 'snapshot' AND NOT internal
		UNION ALL
		SELECT schema_name, view_name, 'view', comment, NULL FROM duckdb_views()
		WHERE database_name = 'snapshot' AND NOT internal
		UNION ALL
		SELECT schema_name, function_name, 'macro', any_value(comment), NULL FROM duckdb_functions()
		WHERE database_name = 'snapshot' AND function_type = 'table_macro' AND NOT internal
		GROUP BY ALL
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	var rels []Relation
	for rows.Next() {
		var r Relation
		var comment sql.NullString
		var size sql.NullInt64
		if err := rows.Scan(&r.Schema, &r.Name, &r.Kind, &comment, &size); err != nil {
			rows.Close()
			return nil, err
		}
		if !match(r.Schema, r.Name) {
			continue
		}
		r.Description, r.Rows = comment.String, size.Int64
		rels = append(rels, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, nil
	}
	index := map[string]*Relation{}
	for i := range rels {
		index[rels[i].FullName()] = &rels[i]
	}
	crows, err := q.QueryContext(ctx, `
		SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()
		WHERE database_name = 'snapshot' AND NOT internal
		ORDER BY schema_name, table_name, column_index`)
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var schema, tbl string
		var c Column
		var comment sql.NullString
		if err := crows.Scan(&schema, &tbl, &c.Name, &c.Type, &comment); err != nil {
			crows.Close()
			return nil, err
		}
		if r := index[schema+"."+tbl]; r != nil {
			c.Description = comment.String
			r.Columns = append(r.Columns, c)
		}
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, err
	}
	mrows, err := q.QueryContext(ctx, `
		SELECT schema_name, function_name, parameters FROM duckdb_functions()
		WHERE database_name = 'snapshot' AND function_type = 'table_macro' AND NOT internal`)
	if err != nil {
		return nil, err
	}
	for mrows.Next() {
		var schema, name string
		var params any
		if err := mrows.Scan(&schema, &name, &params); err != nil {
			mrows.Close()
			return nil, err
		}
		if r := index[schema+"."+name]; r != nil {
			list, _ := params.([]any)
			for _, p := range list {
				r.Params = append(r.Params, fmt.Sprint(p))
			}
		}
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return nil, err
	}
	if err := fillFromDictionary(ctx, q, index); err != nil {
		return nil, err
	}
	return rels, nil
}

// dictionaryColumns are the column names a dictionary table may use.
var dictionaryColumns = struct{ table, column, description []string }{
	table:       []string{"table_name", "table", "relation", "model"},
	column:      []string{"column_name", "column", "field"},
	description: []string{"description", "label", "comment", "definition"},
}

// fillFromDictionary completes missing descriptions from a table or view
// named like *dictionar* in mart or meta, if the transform writes one: one
// row per table (column NULL or empty) or per column.
func fillFromDictionary(ctx context.Context, q queryer, index map[string]*Relation) error {
	var schema, name string
	err := q.QueryRowContext(ctx, `
		SELECT schema_name, table_name FROM duckdb_tables()
		WHERE database_name = 'snapshot' AND schema_name IN ('mart', 'meta') AND table_name LIKE '%dictionar%'
		UNION ALL
		SELECT schema_name, view_name FROM duckdb_views()
		WHERE database_name = 'snapshot' AND schema_name IN ('mart', 'meta') AND view_name LIKE '%dictionar%'
		ORDER BY 1 DESC, 2 LIMIT 1`).Scan(&schema, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	crows, err := q.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE database_name = 'snapshot' AND schema_name = ? AND table_name = ?`, schema, name)
	if err != nil {
		return err
	}
	var cols []string
	for crows.Next() {
		var c string
		if err := crows.Scan(&c); err != nil {
			crows.Close()
			return err
		}
		cols = append(cols, c)
	}
	crows.Close()
	pick := func(names []string) string {
		for _, n := range names {
			for _, c := range cols {
				if strings.EqualFold(c, n) {
					return c
				}
			}
		}
		return ""
	}
	tcol, ccol, dcol := pick(dictionaryColumns.table), pick(dictionaryColumns.column), pick(dictionaryColumns.description)
	if tcol == "" || dcol == "" {
		return nil // not a shape we know: comments only
	}
	colExpr := "NULL"
	if ccol != "" {
		colExpr = "CAST(" + quoteIdent(ccol) + " AS VARCHAR)"
	}
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT CAST(%s AS VARCHAR), %s, CAST(%s AS VARCHAR) FROM snapshot.%s.%s`,
		quoteIdent(tcol), colExpr, quoteIdent(dcol), quoteIdent(schema), quoteIdent(name)))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t, c, d sql.NullString
		if err := rows.Scan(&t, &c, &d); err != nil {
			return err
		}
		if !d.Valid || d.String == "" {
			continue
		}
		for _, r := range lookupRelation(index, t.String) {
			if c.String == "" {
				if r.Description == "" {
					r.Description = d.String
				}
				continue
			}
			for i := range r.Columns {
				if strings.EqualFold(r.Columns[i].Name, c.String) && r.Columns[i].Description == "" {
					r.Columns[i].Description = d.String
				}
			}
		}
	}
	return rows.Err()
}

func lookupRelation(index map[string]*Relation, name string) []*Relation {
	name = strings.ToLower(name)
	if r := index[name]; r != nil {
		return []*Relation{r}
	}
	var out []*Relation
	for _, r := range index {
		if strings.ToLower(r.Name) == name {
			out = append(out, r)
		}
	}
	return out
}

// Catalog reads mart.indicator_catalog (nil when the snapshot has none).
func Catalog(ctx context.Context, q queryer) ([]Indicator, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = 'snapshot' AND schema_name = 'mart' AND table_name = 'indicator_catalog'`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	cols := map[string]bool{}
	crows, err := q.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE database_name = 'snapshot' AND schema_name = 'mart' AND table_name = 'indicator_catalog'`)
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var c string
		if err := crows.Scan(&c); err == nil {
			cols[c] = true
		}
	}
	crows.Close()
	col := func(name string) string {
		if cols[name] {
			return "CAST(" + name + " AS VARCHAR)"
		}
		return "NULL"
	}
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT indicator, %s, %s, %s, %s FROM snapshot.mart.indicator_catalog ORDER BY %s, indicator`,
		col("label"), col("unit"), col("theme"), col("description"), map[bool]string{true: "theme", false: "1"}[cols["theme"]]))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Indicator
	for rows.Next() {
		var i Indicator
		var label, unit, theme, desc sql.NullString
		if err := rows.Scan(&i.Indicator, &label, &unit, &theme, &desc); err != nil {
			return nil, err
		}
		i.Label, i.Unit, i.Theme, i.Description = label.String, unit.String, theme.String, desc.String
		out = append(out, i)
	}
	return out, rows.Err()
}

// Schema listing output ---------------------------------------------------

// WriteTables writes one line per relation: name, kind, rows, description.
func WriteTables(w io.Writer, rels []Relation) error {
	var lines [][]string
	for _, r := range rels {
		kind := r.Kind
		switch {
		case r.Kind == "table":
			kind = "table, " + rowCount(r.Rows)
		case r.Kind == "macro":
			kind = "macro(" + strings.Join(r.Params, ", ") + ")"
		}
		lines = append(lines, []string{r.FullName(), kind, firstSentence(r.Description, 110)})
	}
	return writeColumns(w, lines, "  ")
}

// WriteSchema writes each relation with its columns, types and descriptions.
func WriteSchema(w io.Writer, rels []Relation) error {
	for i, r := range rels {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		head := r.FullName()
		switch r.Kind {
		case "table":
			head += " (table, " + rowCount(r.Rows) + ")"
		case "view":
			head += " (view)"
		case "macro":
			head += "(" + strings.Join(r.Params, ", ") + ") (table macro)"
		}
		if r.Description != "" {
			head += "\n  " + r.Description
		}
		if _, err := io.WriteString(w, head+"\n"); err != nil {
			return err
		}
		var lines [][]string
		for _, c := range r.Columns {
			lines = append(lines, []string{"  " + c.Name, c.Type, c.Description})
		}
		if err := writeColumns(w, lines, "  "); err != nil {
			return err
		}
	}
	return nil
}

// firstSentence shortens a description for one-line listings.
func firstSentence(s string, max int) string {
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if uniseg.StringWidth(s) <= max {
		return s
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() && w+g.Width() < max {
		w += g.Width()
		b.WriteString(g.Str())
	}
	return strings.TrimRight(b.String(), " ,;:") + "…"
}

func rowCount(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return groupDigits(n) + " rows"
}

// WriteCatalog writes the indicator catalog grouped by theme.
func WriteCatalog(w io.Writer, cat []Indicator) error {
	byTheme := map[string][]Indicator{}
	var themes []string
	for _, i := range cat {
		if _, ok := byTheme[i.Theme]; !ok {
			themes = append(themes, i.Theme)
		}
		byTheme[i.Theme] = append(byTheme[i.Theme], i)
	}
	sort.Strings(themes)
	for k, t := range themes {
		if k > 0 {
			io.WriteString(w, "\n")
		}
		if t != "" {
			io.WriteString(w, t+"\n")
		}
		var lines [][]string
		for _, i := range byTheme[t] {
			lines = append(lines, []string{"  " + i.Indicator, i.Unit, i.Label})
		}
		if err := writeColumns(w, lines, "  "); err != nil {
			return err
		}
	}
	return nil
}

// writeColumns aligns all columns but the last.
func writeColumns(w io.Writer, lines [][]string, sep string) error {
	var widths []int
	for _, l := range lines {
		for i, c := range l[:len(l)-1] {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], uniseg.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, l := range lines {
		for i, c := range l {
			if i == len(l)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			if l[len(l)-1] != "" || i < len(l)-2 {
				b.WriteString(strings.Repeat(" ", widths[i]-uniseg.StringWidth(c)) + sep)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
