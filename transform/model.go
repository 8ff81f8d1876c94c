package transform

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	sqlmodels "github.com/rpe-observatoire/observatoire/sql"
)

// Model is one SQL model: a file under sql/ that makes one table (or view, or
// table macro) named after the file.
type Model struct {
	Name   string // schema-qualified: "int.am_month"
	Schema string // "staging", "int", "mart"
	Table  string // "am_month"
	Path   string // path in sql/: "intermediate/am_month.sql"

	// Kind is "table" (default: CREATE TABLE AS the query), "view" (CREATE
	// VIEW AS the query) or "macro" (the body is a complete statement run as
	// is, e.g. CREATE OR REPLACE MACRO ... AS TABLE ...).
	Kind string

	Description string // French, one paragraph
	Grain       string // what one row is
	Formula     string
	Source      string
	// Incremental is a SQL predicate over the model's rows (e.g.
	// "in_window(month)"). When set and the run is not a full refresh, only
	// the rows matching it are deleted and recomputed. Empty: the model is
	// rebuilt whole at every run (small tables).
	Incremental string
	// SelfSchema is the column list of a model that reads its own previous
	// rows (an incremental seed); the runner creates the table empty from it
	// the first time.
	SelfSchema string
	// ByYear (header "build: by_year") makes a full build run the query
	// once per year of staging.calendar, each time with the window
	// variables set to that year (FullBuildSQL), instead of once for every
	// period: a model whose rows of every period do not fit in memory in
	// one statement (mart.indicator nationally) fits a year at a time.
	ByYear bool

	Columns []Column
	Tests   []DataTest

	Depends  []string // models read, derived from the SQL (sorted)
	Sources  []string // ingest tables read: raw.*, ref.*, meta.* (sorted)
	Declared []string // the header's "depends:", checked against Depends

	SQL  string // the body, without the header
	Hash string // sha256 of the whole file
}

// Column documents one output column.
type Column struct {
	Name, Description string
}

// DataTest is one data test of a model. Query returns the failing rows; it
// reads the model's table through the placeholder {{this}}.
type DataTest struct {
	Name     string // "unique(month, am_id)"
	Kind     string // unique, not_null, accepted_values, relationships, range, assert, sql
	Severity string // "error" (the model fails, its previous table stays) or "warn"
	Query    string
	Spec     string // as written in the header
	Refs     []string
}

// schemaOf maps the folder of a model file to its schema.
func schemaOf(dir string) (string, bool) {
	for _, s := range sqlmodels.Schemas {
		if s.Dir == dir {
			return s.Schema, true
		}
	}
	return "", false
}

// modelSchemas are the schemas transform writes; references to them are
// dependencies on other models. sourceSchemas are written by ingest.
var (
	modelSchemas  = map[string]bool{"staging": true, "int": true, "mart": true}
	sourceSchemas = map[string]bool{"raw": true, "ref": true, "meta": true}
)

// Models parses the embedded model files and returns them sorted in
// dependency order (a model comes after every model it reads; ties by name).
func Models() ([]Model, error) {
	return loadModels(sqlmodels.FS)
}

func loadModels(fsys fs.FS) ([]Model, error) {
	var ms []Model
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m, err := ParseModel(p, string(b))
		if err != nil {
			return err
		}
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sortModels(ms)
}

// ParseModel parses one model file; p is its path under sql/.
func ParseModel(p, text string) (Model, error) {
	dir, file := path.Split(p)
	schema, ok := schemaOf(strings.TrimSuffix(dir, "/"))
	if !ok {
		return Model{}, fmt.Errorf("%s: a model lives in one of staging/, intermediate/, mart/", p)
	}
	sum := sha256.Sum256([]byte(text))
	m := Model{
		Schema: schema,
		Table:  strings.TrimSuffix(file, ".sql"),
		Path:   p,
		Kind:   "table",
		Hash:   hex.EncodeToString(sum[:8]),
	}
	m.Name = m.Schema + "." + m.Table
	if err := m.parseHeader(text); err != nil {
		return Model{}, fmt.Errorf("%s: %w", p, err)
	}
	deps, srcs := References(m.SQL)
	if m.Kind == "macro" { // the macros a file creates are not dependencies
		for _, mm := range createMacroRE.FindAllStringSubmatch(stripSQL(m.SQL), -1) {
			made := strings.ToLower(mm[1])
			var keep []string
			for _, d := range deps {
				if d != made {
					keep = append(keep, d)
				}
			}
			deps = keep
		}
	}
	sqlDeps := uniqueSorted(deps, m.Name)
	for _, t := range m.Tests {
		for _, r := range t.Refs {
			if modelSchemas[strings.SplitN(r, ".", 2)[0]] {
				deps = append(deps, r)
			} else {
				srcs = append(srcs, r)
			}
		}
	}
	m.Depends = uniqueSorted(deps, m.Name)
	m.Sources = uniqueSorted(srcs, "")
	if m.SelfSchema == "" && m.Kind != "macro" && contains(deps, m.Name) { // a macro's CREATE names itself
		return Model{}, fmt.Errorf("%s: reads its own table; declare self_schema so the first run can create it", p)
	}
	if m.Declared != nil {
		want := uniqueSorted(m.Declared, m.Name)
		if strings.Join(want, ",") != strings.Join(sqlDeps, ",") {
			return Model{}, fmt.Errorf("%s: header declares depends %v but the SQL reads %v", p, want, sqlDeps)
		}
	}
	switch m.Kind {
	case "table", "view", "macro":
	default:
		return Model{}, fmt.Errorf("%s: kind %q (want table, view or macro)", p, m.Kind)
	}
	if m.Kind != "table" && (m.Incremental != "" || len(m.Tests) > 0) {
		return Model{}, fmt.Errorf("%s: only tables can be incremental or carry data tests", p)
	}
	if m.ByYear && (m.Incremental == "" || m.SelfSchema != "") {
		return Model{}, fmt.Errorf("%s: build by_year needs an incremental window and no self_schema", p)
	}
	return m, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func uniqueSorted(xs []string, drop string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range xs {
		if x == drop || seen[x] {
			continue
		}
		seen[x] = true
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

// parseHeader reads the leading comment block:
//
//	-- key: value
//	--   continuation or list item
//
// Keys: model, kind, description, grain, formula, source, incremental,
// self_schema, build (by_year: see Model.ByYear), depends, columns (items "name: description"), tests (items
// "- kind: spec [warn|error]").
func (m *Model) parseHeader(text string) error {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	type kv struct {
		key   string
		value string
		items []string
	}
	var entries []*kv
	var cur *kv
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			if strings.TrimSpace(l) == "" && cur == nil {
				continue
			}
			break
		}
		body := strings.TrimPrefix(strings.TrimSpace(l), "--")
		if strings.TrimSpace(body) == "" {
			continue
		}
		if strings.HasPrefix(body, "  ") || strings.HasPrefix(body, "\t") { // continuation
			if cur == nil {
				return fmt.Errorf("line %d: continuation without a key", i+1)
			}
			cur.items = append(cur.items, strings.TrimSpace(body))
			continue
		}
		body = strings.TrimSpace(body)
		k, v, ok := strings.Cut(body, ":")
		if !ok || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("line %d: header line %q is not 'key: value'", i+1, body)
		}
		cur = &kv{key: k, value: strings.TrimSpace(v)}
		entries = append(entries, cur)
	}
	m.SQL = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	if m.SQL == "" {
		return fmt.Errorf("no SQL after the header")
	}
	joined := func(e *kv) string {
		parts := []string{}
		if e.value != "" {
			parts = append(parts, e.value)
		}
		parts = append(parts, e.items...)
		return strings.Join(parts, " ")
	}
	for _, e := range entries {
		switch e.key {
		case "model":
			if e.value != m.Name {
				return fmt.Errorf("header names model %q but the file makes %q", e.value, m.Name)
			}
		case "kind":
			m.Kind = e.value
		case "description":
			m.Description = joined(e)
		case "grain":
			m.Grain = joined(e)
		case "formula":
			m.Formula = joined(e)
		case "source":
			m.Source = joined(e)
		case "incremental":
			m.Incremental = joined(e)
		case "self_schema":
			m.SelfSchema = joined(e)
		case "build":
			if e.value != "by_year" {
				return fmt.Errorf("build %q: want by_year", e.value)
			}
			m.ByYear = true
		case "depends":
			m.Declared = []string{}
			for _, d := range strings.Split(joined(e), ",") {
				if d = strings.TrimSpace(d); d != "" {
					m.Declared = append(m.Declared, d)
				}
			}
		case "columns":
			for _, it := range e.items {
				n, d, ok := strings.Cut(it, ":")
				if !ok {
					return fmt.Errorf("column %q: want 'name: description'", it)
				}
				m.Columns = append(m.Columns, Column{Name: strings.TrimSpace(n), Description: strings.TrimSpace(d)})
			}
		case "tests":
			var items []string
			for _, it := range e.items {
				if strings.HasPrefix(it, "- ") {
					items = append(items, strings.TrimPrefix(it, "- "))
				} else if len(items) > 0 { // long test continued on the next line
					items[len(items)-1] += " " + it
				} else {
					return fmt.Errorf("test %q: items start with '- '", it)
				}
			}
			for _, it := range items {
				ts, err := parseTest(it)
				if err != nil {
					return err
				}
				m.Tests = append(m.Tests, ts...)
			}
		default:
			return fmt.Errorf("unknown header key %q", e.key)
		}
	}
	if m.Description == "" {
		return fmt.Errorf("header has no description")
	}
	return nil
}

// refRE finds schema-qualified names. Comments and string literals are
// removed before matching (see stripSQL).
var refRE = regexp.MustCompile(`(?i)\b(raw|ref|meta|staging|int|mart)\s*\.\s*([a-z_][a-z0-9_]*)\b`)

var createMacroRE = regexp.MustCompile(`(?i)\bcreate\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?macro\s+([a-z_]+\.[a-z_][a-z0-9_]*)`)

// References returns the models (staging.*, int.*, mart.*) and the ingest
// tables (raw.*, ref.*, meta.*) a SQL text reads, from its schema-qualified
// names. Comments, string literals and quoted identifiers are ignored.
func References(sqlText string) (models, sources []string) {
	s := stripSQL(sqlText)
	for _, mm := range refRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(mm[1]) + "." + strings.ToLower(mm[2])
		if modelSchemas[strings.ToLower(mm[1])] {
			models = append(models, name)
		} else {
			sources = append(sources, name)
		}
	}
	return uniqueSorted(models, ""), uniqueSorted(sources, "")
}

// stripSQL blanks out comments, string literals and double-quoted identifiers.
func stripSQL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return b.String()
			}
			i += j + 3
			b.WriteByte(' ')
		case c == '\'' || c == '"':
			q := c
			i++
			for i < len(s) {
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q { // escaped quote
						i += 2
						continue
					}
					break
				}
				i++
			}
			b.WriteString(" _ ")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sortModels orders models so that each comes after the models it reads
// (Kahn's algorithm, ties broken by name for a stable order). Unknown model
// references and cycles are errors.
func sortModels(ms []Model) ([]Model, error) {
	byName := map[string]int{}
	for i, m := range ms {
		if _, dup := byName[m.Name]; dup {
			return nil, fmt.Errorf("two files make %s", m.Name)
		}
		byName[m.Name] = i
	}
	indeg := make([]int, len(ms))
	users := map[string][]int{}
	for i, m := range ms {
		for _, d := range m.Depends {
			if _, ok := byName[d]; !ok {
				return nil, fmt.Errorf("%s reads %s, which no model makes", m.Path, d)
			}
			indeg[i]++
			users[d] = append(users[d], i)
		}
	}
	var ready []int
	for i := range ms {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	var out []Model
	for len(ready) > 0 {
		sort.Slice(ready, func(a, b int) bool { return ms[ready[a]].Name < ms[ready[b]].Name })
		i := ready[0]
		ready = ready[1:]
		out = append(out, ms[i])
		for _, u := range users[ms[i].Name] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(out) != len(ms) {
		var cyc []string
		for i, d := range indeg {
			if d > 0 {
				cyc = append(cyc, ms[i].Name)
			}
		}
		sort.Strings(cyc)
		return nil, fmt.Errorf("dependency cycle among %s", strings.Join(cyc, ", "))
	}
	return out, nil
}
