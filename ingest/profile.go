package ingest

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed profiles/*.toml
var builtinFS embed.FS

// Profile maps one export layout onto a contract. Profiles are TOML files:
// the built-in ones are embedded from ingest/profiles/, and a user's
// profiles directory adds more or overrides one by name.
type Profile struct {
	Name        string `toml:"name"`
	Source      string `toml:"source"`
	Description string `toml:"description"`
	File        struct {
		Pattern string `toml:"pattern"` // regexp on the file name; named groups feed sender, period and columns
		Sender  string `toml:"sender"`  // template: "{group}" of Pattern, literal text; empty = group "sender", else from the data
		Period  string `toml:"period"`  // template as Sender; "all" = the file holds the whole series
	} `toml:"file"`
	Format struct {
		Kind      string `toml:"kind"`       // csv, xlsx, json, ndjson; empty = from the extension / content
		Delimiter string `toml:"delimiter"`  // ";", ",", "\t", "|"; empty = detected
		Encoding  string `toml:"encoding"`   // utf-8, windows-1252; empty = detected
		Sheet     string `toml:"sheet"`      // XLSX sheet; empty = the first sheet whose header matches
		HeaderRow int    `toml:"header_row"` // 1-based; 0 = found by matching the header
		Records   string `toml:"records"`    // JSON: dotted path of the array of records ("data.rows"); empty = top-level array or first array found
	} `toml:"format"`
	Columns   map[string]ColumnSpec        `toml:"columns"` // contract field -> source column(s)
	Drop      []string                     `toml:"drop"`    // columns expected in the file and not loaded (personal data, names, totals)
	Values    map[string]map[string]string `toml:"values"`  // field -> label -> code
	Unpivot   *Unpivot                     `toml:"unpivot"`
	Aggregate *Aggregate                   `toml:"aggregate"`
	Reject    []RejectRule                 `toml:"reject"`

	Origin  string         `toml:"-"` // "built-in" or the file path
	fileRE  *regexp.Regexp `toml:"-"`
	valueKV map[string]map[string]string
}

// ColumnSpec says where a contract field comes from. In TOML it is a column
// name, a list of alternative names, or a table:
//
//	field = "nom de colonne"
//	field = ["nom", "autre nom"]
//	field = { pattern = '^P\d\d_POP0002$' }                              # header regexp
//	field = { value = "commune" }                                         # constant
//	field = { file = "table" }                                            # named group of [file].pattern
//	field = { header_of = "children_0_2", match = '^P(\d\d)_', template = "20$1" } # from another column's header
type ColumnSpec struct {
	Names    []string
	Pattern  string
	Value    string
	File     string
	HeaderOf string
	Match    string
	Template string
	re       *regexp.Regexp
}

// UnmarshalTOML implements toml.Unmarshaler.
func (c *ColumnSpec) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		c.Names = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("column names must be strings, got %v", e)
			}
			c.Names = append(c.Names, s)
		}
	case map[string]any:
		for k, e := range x {
			s, ok := e.(string)
			if !ok {
				if k == "names" {
					if l, ok := e.([]any); ok {
						for _, n := range l {
							c.Names = append(c.Names, fmt.Sprint(n))
						}
						continue
					}
				}
				return fmt.Errorf("%s must be a string", k)
			}
			switch k {
			case "name", "names":
				c.Names = append(c.Names, s)
			case "pattern":
				c.Pattern = s
			case "value":
				c.Value = s
			case "file":
				c.File = s
			case "header_of":
				c.HeaderOf = s
			case "match":
				c.Match = s
			case "template":
				c.Template = s
			default:
				return fmt.Errorf("unknown key %q (name, names, pattern, value, file, header_of, match, template)", k)
			}
		}
	default:
		return fmt.Errorf("a column is a name, a list of names or a table, not %T", v)
	}
	return nil
}

// Unpivot turns a wide file (one column per year, per mode...) into rows:
// every column whose header matches Columns (or is a key of Names) gives
// one row, with Key set from the header (capture group 1, or Names[header])
// and Value set from the cell. Empty cells give no row.
type Unpivot struct {
	Columns string            `toml:"columns"`
	Names   map[string]string `toml:"names"`
	Match   []UnpivotMatch    `toml:"match"` // ordered: the first pattern a header matches gives its key
	Key     string            `toml:"key"`
	Value   string            `toml:"value"`
	re      *regexp.Regexp
	keys    map[string]string // normalised header -> key
}

// UnpivotMatch maps the headers matching Pattern (case-insensitive regexp
// on the header) to Key.
type UnpivotMatch struct {
	Pattern string `toml:"pattern"`
	Key     string `toml:"key"`
	re      *regexp.Regexp
}

// Aggregate sums rows to a coarser grain after validation (INSEE IRIS rows
// to communes): fields By are the key, Sum are added up, the line kept is the
// first of the group.
type Aggregate struct {
	By  []string `toml:"by"`
	Sum []string `toml:"sum"`
}

// RejectRule quarantines the rows whose field matches, with a reason (for
// codes a source uses for aggregates, for instance).
type RejectRule struct {
	Field  string   `toml:"field"`
	Values []string `toml:"values"`
	Reason string   `toml:"reason"`
}

func builtinProfiles() []*Profile {
	ps, err := loadProfilesFS(builtinFS, "profiles", "built-in")
	if err != nil {
		panic(err) // covered by tests: built-in profiles always parse
	}
	return ps
}

func loadProfilesFS(fsys fs.FS, dir, origin string) ([]*Profile, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []*Profile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		name := e.Name()
		if dir != "." {
			name = dir + "/" + name
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		o := origin
		if o != "built-in" {
			o = filepath.Join(origin, e.Name())
		}
		p, err := ParseProfile(b, o)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseProfile decodes and checks a profile. origin names it in errors.
func ParseProfile(b []byte, origin string) (*Profile, error) {
	p := &Profile{Origin: origin}
	md, err := toml.Decode(string(b), p)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", origin, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("profile %s: unknown keys %s", origin, strings.Join(keys, ", "))
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", origin, err)
	}
	return p, nil
}

func (p *Profile) check() error {
	if p.Name == "" {
		return fmt.Errorf("no name")
	}
	c, ok := contractFor(p.Source)
	if !ok {
		return fmt.Errorf("source %q is not one of %s", p.Source, strings.Join(sourceNames(), ", "))
	}
	var err error
	if p.File.Pattern != "" {
		if p.fileRE, err = regexp.Compile(p.File.Pattern); err != nil {
			return fmt.Errorf("[file] pattern: %w", err)
		}
	}
	for name, spec := range p.Columns {
		f, ok := c.Field(name)
		if !ok {
			return fmt.Errorf("[columns] %s: not a field of %s (%s)", name, p.Source, fieldNames(c))
		}
		_ = f
		if spec.Pattern != "" {
			if spec.re, err = regexp.Compile("(?i)" + spec.Pattern); err != nil {
				return fmt.Errorf("[columns] %s: %w", name, err)
			}
		}
		if spec.HeaderOf != "" {
			if _, ok := p.Columns[spec.HeaderOf]; !ok {
				return fmt.Errorf("[columns] %s: header_of %q is not a mapped column", name, spec.HeaderOf)
			}
			if spec.re, err = regexp.Compile("(?i)" + spec.Match); err != nil {
				return fmt.Errorf("[columns] %s: %w", name, err)
			}
		}
		if spec.File != "" && p.fileRE == nil {
			return fmt.Errorf("[columns] %s: file group %q without [file] pattern", name, spec.File)
		}
		p.Columns[name] = spec
	}
	p.valueKV = map[string]map[string]string{}
	for field, m := range p.Values {
		f, ok := c.Field(field)
		if !ok {
			return fmt.Errorf("[values.%s]: not a field of %s", field, p.Source)
		}
		kv := map[string]string{}
		for label, code := range m {
			if len(f.Codes) > 0 && !contains(f.Codes, code) {
				return fmt.Errorf("[values.%s] %q = %q: code not one of %s", field, label, code, strings.Join(f.Codes, ", "))
			}
			if f.Type == TBool && code != "true" && code != "false" {
				return fmt.Errorf("[values.%s] %q = %q: a boolean maps to true or false", field, label, code)
			}
			kv[normLabel(label)] = code
		}
		p.valueKV[field] = kv
	}
	if u := p.Unpivot; u != nil {
		if _, ok := c.Field(u.Key); !ok {
			return fmt.Errorf("[unpivot] key %q: not a field of %s", u.Key, p.Source)
		}
		if _, ok := c.Field(u.Value); !ok {
			return fmt.Errorf("[unpivot] value %q: not a field of %s", u.Value, p.Source)
		}
		if u.Columns != "" {
			if u.re, err = regexp.Compile("(?i)" + u.Columns); err != nil {
				return fmt.Errorf("[unpivot] columns: %w", err)
			}
		}
		u.keys = map[string]string{}
		for h, k := range u.Names {
			u.keys[normHeader(h)] = k
		}
		for i := range u.Match {
			if u.Match[i].re, err = regexp.Compile("(?i)" + u.Match[i].Pattern); err != nil {
				return fmt.Errorf("[[unpivot.match]] %q: %w", u.Match[i].Pattern, err)
			}
		}
		if u.re == nil && len(u.keys) == 0 && len(u.Match) == 0 {
			return fmt.Errorf("[unpivot] needs columns or names")
		}
	}
	if a := p.Aggregate; a != nil {
		for _, n := range append(append([]string{}, a.By...), a.Sum...) {
			if _, ok := c.Field(n); !ok {
				return fmt.Errorf("[aggregate] %q: not a field of %s", n, p.Source)
			}
		}
	}
	for _, r := range p.Reject {
		if _, ok := c.Field(r.Field); !ok {
			return fmt.Errorf("[[reject]] field %q: not a field of %s", r.Field, p.Source)
		}
	}
	// every required field must have a source
	for _, f := range c.Fields {
		if !f.Required || f.Type == TMonth {
			continue
		}
		if _, ok := p.Columns[f.Name]; ok {
			continue
		}
		if u := p.Unpivot; u != nil && (u.Key == f.Name || u.Value == f.Name) {
			continue
		}
		return fmt.Errorf("required field %s has no column", f.Name)
	}
	return nil
}

func fieldNames(c *Contract) string {
	var s []string
	for _, f := range c.Fields {
		s = append(s, f.Name)
	}
	return strings.Join(s, ", ")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Profiles returns the built-in profiles, overridden (same name) or
// completed by the *.toml files of dir when dir is not empty.
func Profiles(dir string) ([]*Profile, error) {
	ps := builtinProfiles()
	if dir == "" {
		return ps, nil
	}
	user, err := loadProfilesFS(os.DirFS(dir), ".", dir)
	if err != nil {
		return nil, fmt.Errorf("profiles dir %s: %w", dir, err)
	}
	byName := map[string]int{}
	for i, p := range ps {
		byName[p.Name] = i
	}
	for _, p := range user {
		if i, ok := byName[p.Name]; ok {
			ps[i] = p
		} else {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

var stripMarks = runes.Remove(runes.In(unicode.Mn))

func stripAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii { // nothing to strip: the common case, and the transform chain allocates
		return s
	}
	t := transform.Chain(norm.NFD, stripMarks, norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// normHeader is the form header names are compared in: lower case, accents
// stripped, every run of other characters than letters and digits is "_".
func normHeader(s string) string {
	s = strings.ToLower(stripAccents(strings.TrimSpace(s)))
	var b strings.Builder
	us := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			us = false
		} else if !us && b.Len() > 0 {
			b.WriteByte('_')
			us = true
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// normLabel is the form labels are compared in: lower case, accents
// stripped, apostrophes unified, spaces collapsed. The SQL side applies the
// same transformation (labelSQL).
func normLabel(s string) string {
	s = strings.ToLower(stripAccents(s))
	s = strings.NewReplacer("’", "'", "‘", "'", "\u00a0", " ", "\u202f", " ", "\t", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// match is how a profile's columns line up with a header.
type match struct {
	p          *Profile
	col        map[string]int    // field -> column index
	header     map[string]string // field -> header text of its column (for header_of)
	unpivot    []int             // columns unpivoted
	unpivotKey []string          // key of each unpivoted column
	dropped    []int
	missing    []string // required columns not found
	unexpected []int    // columns no spec covers
	score      int
}

// matchHeader lines the profile up with a header row.
func (p *Profile) matchHeader(header []string) *match {
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = normHeader(h)
	}
	return p.matchNormHeader(header, norm)
}

// normName is normHeader of a name written in a profile, memoised: the
// profiles' names are a small fixed set, and identify compares them with
// every candidate header row of every file.
func normName(s string) string {
	if v, ok := normNameCache.Load(s); ok {
		return v.(string)
	}
	v := normHeader(s)
	normNameCache.Store(s, v)
	return v
}

var normNameCache sync.Map

// matchNormHeader is matchHeader with the row already normalised (norm[i]
// = normHeader(header[i])), so that one row is normalised once for all the
// profiles it is compared with.
func (p *Profile) matchNormHeader(header, norm []string) *match {
	m := &match{p: p, col: map[string]int{}, header: map[string]string{}}
	c, _ := contractFor(p.Source)
	used := make([]bool, len(header))
	byName := func(spec ColumnSpec) int {
		for _, n := range spec.Names {
			nn := normName(n)
			for i := range header {
				if !used[i] && norm[i] == nn && nn != "" {
					return i
				}
			}
		}
		return -1
	}
	byPattern := func(spec ColumnSpec) int {
		if spec.re != nil && spec.HeaderOf == "" {
			for i, h := range header {
				if !used[i] && spec.re.MatchString(strings.TrimSpace(h)) {
					return i
				}
			}
		}
		return -1
	}
	names := make([]string, 0, len(p.Columns))
	for n, spec := range p.Columns {
		if len(spec.Names) > 0 || spec.Pattern != "" {
			names = append(names, n)
		}
	}
	// exact names first; then patterns, the longest (most specific) first
	sort.Slice(names, func(i, j int) bool {
		a, b := p.Columns[names[i]], p.Columns[names[j]]
		if len(a.Pattern) != len(b.Pattern) {
			return len(a.Pattern) > len(b.Pattern)
		}
		return names[i] < names[j]
	})
	found := map[string]int{}
	for _, name := range names {
		if i := byName(p.Columns[name]); i >= 0 {
			used[i] = true
			found[name] = i
		}
	}
	for _, name := range names {
		if _, ok := found[name]; ok {
			continue
		}
		if i := byPattern(p.Columns[name]); i >= 0 {
			used[i] = true
			found[name] = i
		}
	}
	sort.Strings(names)
	for _, name := range names {
		spec := p.Columns[name]
		i, ok := found[name]
		if !ok {
			f, _ := c.Field(name)
			if f.Required {
				m.missing = append(m.missing, specLabel(spec))
			}
			continue
		}
		m.col[name] = i
		m.header[name] = strings.TrimSpace(header[i])
		m.score += 2
	}
	for _, d := range p.Drop {
		nd := normName(d)
		for i := range header {
			if !used[i] && norm[i] == nd {
				used[i] = true
				m.dropped = append(m.dropped, i)
				m.score++
			}
		}
	}
	if u := p.Unpivot; u != nil {
		for i, h := range header {
			if used[i] {
				continue
			}
			key, ok := u.keys[norm[i]]
			for _, um := range u.Match {
				if !ok && um.re.MatchString(strings.TrimSpace(h)) {
					key, ok = um.Key, true
				}
			}
			if !ok && u.re != nil {
				if sm := u.re.FindStringSubmatch(strings.TrimSpace(h)); sm != nil {
					key, ok = strings.TrimSpace(h), true
					if len(sm) > 1 {
						key = sm[1]
					}
				}
			}
			if ok {
				used[i] = true
				m.unpivot = append(m.unpivot, i)
				m.unpivotKey = append(m.unpivotKey, key)
				m.score += 2
			}
		}
		if len(m.unpivot) == 0 {
			m.missing = append(m.missing, "columns matching "+unpivotLabel(u))
		}
	}
	for i := range header {
		if !used[i] && norm[i] != "" {
			m.unexpected = append(m.unexpected, i)
		}
	}
	return m
}

func specLabel(s ColumnSpec) string {
	if len(s.Names) > 0 {
		return s.Names[0]
	}
	return "/" + s.Pattern + "/"
}

func unpivotLabel(u *Unpivot) string {
	if u.Columns != "" {
		return "/" + u.Columns + "/"
	}
	var s []string
	for k := range u.Names {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// knownNames are the column names a profile knows (for suggestions).
func (p *Profile) knownNames() []string {
	var s []string
	for _, c := range p.Columns {
		s = append(s, c.Names...)
	}
	s = append(s, p.Drop...)
	if p.Unpivot != nil {
		for k := range p.Unpivot.Names {
			s = append(s, k)
		}
	}
	sort.Strings(s)
	return s
}

// levenshtein is the edit distance between a and b (runes).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// nearest returns the known name closest to s, if reasonably close.
func nearest(s string, known []string) (string, bool) {
	ns := normHeader(s)
	best, bd := "", 1<<30
	for _, k := range known {
		d := levenshtein(ns, normHeader(k))
		if d < bd {
			best, bd = k, d
		}
	}
	if best == "" || bd > max(3, len([]rune(ns))/2) {
		return "", false
	}
	return best, true
}

// layoutError explains why no profile fits a header: the nearest profile's
// missing and unexpected columns, with the nearest known names.
func layoutError(path string, header []string, best *match, forced bool) error {
	var b strings.Builder
	if best == nil {
		fmt.Fprintf(&b, "no profile matches the header %q", header)
		return &Error{File: path, Reason: b.String(), Err: ErrUnknownLayout}
	}
	if forced {
		fmt.Fprintf(&b, "the header does not fit profile %s (%s)", best.p.Name, best.p.Source)
	} else {
		fmt.Fprintf(&b, "no profile matches this header; nearest is %s (%s)", best.p.Name, best.p.Source)
	}
	known := best.p.knownNames()
	if len(best.missing) > 0 {
		b.WriteString("\n  missing columns:")
		for _, m := range best.missing {
			fmt.Fprintf(&b, "\n    %q", m)
			// the unexpected column closest to it
			cand := []string{}
			for _, i := range best.unexpected {
				cand = append(cand, header[i])
			}
			if n, ok := nearest(m, cand); ok {
				fmt.Fprintf(&b, " (the file has %q)", n)
			}
		}
	}
	if len(best.unexpected) > 0 {
		b.WriteString("\n  unexpected columns:")
		for _, i := range best.unexpected {
			fmt.Fprintf(&b, "\n    %q", header[i])
			if n, ok := nearest(header[i], known); ok {
				fmt.Fprintf(&b, " (did you mean %q?)", n)
			}
		}
	}
	b.WriteString("\n  pass --profile NAME, or add a profile to the profiles directory (see ingest/CONTRACTS.md)")
	return &Error{File: path, Reason: b.String(), Err: ErrUnknownLayout}
}

// ok reports whether the match is usable: nothing required is missing.
func (m *match) ok() bool { return len(m.missing) == 0 && m.score > 0 }

// fileGroups returns the named groups of the profile's file pattern in the
// base name of path.
func (p *Profile) fileGroups(path string) (map[string]string, bool) {
	if p.fileRE == nil {
		return nil, false
	}
	base := filepath.Base(path)
	sm := p.fileRE.FindStringSubmatch(base)
	if sm == nil {
		return nil, false
	}
	g := map[string]string{}
	for i, n := range p.fileRE.SubexpNames() {
		if n != "" && sm[i] != "" {
			g[n] = sm[i]
		}
	}
	return g, true
}

var tmplRE = regexp.MustCompile(`\{(\w+)\}`)

// expand replaces {group} in a template by the file name's groups; ok is
// false when a group is missing.
func expand(tmpl string, groups map[string]string) (string, bool) {
	ok := true
	s := tmplRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		v, found := groups[m[1:len(m)-1]]
		if !found {
			ok = false
		}
		return v
	})
	return s, ok
}

func sortStrings(s []string) { sort.Strings(s) }
