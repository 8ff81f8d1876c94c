package ingest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// macrosSQL are the temp macros the validation SQL uses (per connection).
var macrosSQL = strings.NewReplacer("NBSP", "\u00a0", "NNBSP", "\u202f", "THINSP", "\u2009", "RSQUO", "’", "LSQUO", "‘").Replace(`
CREATE OR REPLACE TEMP MACRO ing_label(s) AS
	trim(regexp_replace(replace(replace(replace(replace(lower(strip_accents(s)), 'RSQUO', ''''), 'LSQUO', ''''), 'NBSP', ' '), 'NNBSP', ' '), '\s+', ' ', 'g'));
CREATE OR REPLACE TEMP MACRO ing_numtext(s) AS
	replace(replace(replace(replace(replace(replace(s, ' ', ''), 'NBSP', ''), 'NNBSP', ''), 'THINSP', ''), '%', ''), '''', '');
CREATE OR REPLACE TEMP MACRO ing_num_fr(t) AS
	TRY_CAST(CASE WHEN contains(ing_numtext(t), ',') AND contains(ing_numtext(t), '.') THEN replace(replace(ing_numtext(t), '.', ''), ',', '.')
	              ELSE replace(ing_numtext(t), ',', '.') END AS DOUBLE);
CREATE OR REPLACE TEMP MACRO ing_date(s) AS
	COALESCE(CAST(try_strptime(s, ['%d/%m/%Y', '%Y-%m-%d']) AS DATE),
		CAST(try_strptime(s, ['%d-%m-%Y', '%d.%m.%Y', '%Y/%m/%d', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S']) AS DATE),
		TRY_CAST(TRY_CAST(s AS TIMESTAMP) AS DATE));
CREATE OR REPLACE TEMP MACRO ing_date_xl(s) AS
	COALESCE(ing_date(s),
		CASE WHEN regexp_full_match(s, '[0-9]{4,5}(\.[0-9]+)?') THEN DATE '1899-12-30' + CAST(floor(CAST(s AS DOUBLE)) AS INTEGER) END);
CREATE OR REPLACE TEMP MACRO ing_bool(s) AS
	CASE ing_label(s) WHEN 'oui' THEN true WHEN 'o' THEN true WHEN 'yes' THEN true WHEN 'y' THEN true WHEN 'true' THEN true
		WHEN 'vrai' THEN true WHEN '1' THEN true WHEN 'x' THEN true
		WHEN 'non' THEN false WHEN 'n' THEN false WHEN 'no' THEN false WHEN 'false' THEN false WHEN 'faux' THEN false
		WHEN '0' THEN false END;
-- a cell that starts with a digit is no placeholder (upper() keeps digits):
-- the IN list only for the others, not for every commune code
CREATE OR REPLACE TEMP MACRO ing_placeholder(s) AS
	CASE WHEN s >= '0' AND s < ':' THEN false
	     ELSE upper(s) IN ('X', 'XX', 'XXX', 'XXXX', 'XXXXX', 'ND', 'NC', 'NR', 'NA', 'N/A', '-', '?', 'INCONNU') END;
`)

// trimChars are trimmed from both ends of every cell.
const trimChars = " \t\r\n\u00a0\u202f"

func q(s string) string  { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func id(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// plan is the SQL of one file, or of a batch of files of one layout. pipeline
// is a query over the relation _src (see srcLayout) giving line, _fid, the
// typed fields, _ok and _err (the list of {c, v, r} errors of a rejected
// record).
type plan struct {
	pipeline string
	lay      *srcLayout // what the readers hand over
	// insertMarked inserts the accepted records into the raw table in one
	// pass over _src and hands each rejected one to ing_reject (reject.go).
	insertMarked string
	// A wide (unpivoted) or grouped (summed) file is small and read twice
	// from a temp table: quar, then insert of the lines without a fault
	// (parameter $1 = file_id).
	insert    string
	quar      string
	unpivoted bool
	grouped   bool
}

func literalText(s string) string {
	s = strings.Trim(s, trimChars)
	if s == "" {
		return "NULL::VARCHAR"
	}
	return q(s) + "::VARCHAR"
}

func dateBound(y float64, upper bool, now time.Time) string {
	if upper {
		if y <= 0 {
			return now.AddDate(int(-y), 0, 0).Format("2006-01-02")
		}
		return fmt.Sprintf("%04d-12-31", int(y))
	}
	return fmt.Sprintf("%04d-01-01", int(y))
}

// buildPlan writes the validation SQL of a job.
// buildPlan writes the validation SQL of a job, or of a batch of files like
// it (same profile and header: batchKey); the file id and the month come
// from the records (_fid, _month). ps gives the pseudonym of an identifier
// that is a constant of the profile rather than a column.
func buildPlan(j *job, now time.Time, ps *pseudonymizer) (*plan, error) {
	c, p, m := j.c, j.p, j.m
	pl := &plan{lay: &srcLayout{fid: true}}
	used := make([]bool, len(j.header))         // source columns the plan reads
	pseudo := make([]pseudoKind, len(j.header)) // and which are identifiers
	for _, f := range c.Fields {
		if f.Type == TMonth && j.month != "" {
			pl.lay.month = true
		}
	}
	rows := "_src"

	// text of each field
	text := map[string]string{}
	colName := map[string]string{} // quarantine column name expression
	for _, f := range c.Fields {
		colName[f.Name] = q(f.Name)
		spec, mapped := p.Columns[f.Name]
		switch {
		case p.Unpivot != nil && p.Unpivot.Key == f.Name:
			text[f.Name] = "r.u.k"
			colName[f.Name] = "r.u.h"
		case p.Unpivot != nil && p.Unpivot.Value == f.Name:
			text[f.Name] = "r.u.v"
			colName[f.Name] = "r.u.h"
		case !mapped:
			text[f.Name] = "NULL::VARCHAR"
		case spec.Value != "":
			text[f.Name] = literalText(constPseudo(f, spec.Value, ps))
		case spec.File != "":
			text[f.Name] = literalText(constPseudo(f, j.groups[spec.File], ps))
		case spec.HeaderOf != "":
			h := j.m.header[spec.HeaderOf]
			v := ""
			if sm := spec.re.FindStringSubmatchIndex(h); sm != nil {
				switch {
				case spec.Template != "":
					v = string(spec.re.ExpandString(nil, spec.Template, h, sm))
				case len(sm) >= 4 && sm[2] >= 0:
					v = h[sm[2]:sm[3]]
				default:
					v = h
				}
			}
			text[f.Name] = literalText(constPseudo(f, v, ps))
		default:
			i, ok := m.col[f.Name]
			if !ok {
				text[f.Name] = "NULL::VARCHAR"
				break
			}
			used[i] = true
			switch f.Type {
			case TPseudonym:
				pseudo[i] = pseudoID
			case TPseudonymList:
				pseudo[i] = pseudoList
			}
			text[f.Name] = fmt.Sprintf("r.c%d", i) // trimmed by the reader, empty = NULL
			colName[f.Name] = q(strings.TrimSpace(j.header[i]))
		}
	}
	// a profile that maps the empty label gives empty cells that value
	for f, kv := range p.valueKV {
		if _, ok := kv[""]; ok {
			text[f] = "coalesce(" + text[f] + ", '')"
		}
	}
	var sel []string
	hdr := map[string]string{} // field -> header literal (when it is not a column)
	hname := func(f string) string {
		if h, ok := hdr[f]; ok {
			return h
		}
		return id("h_" + f)
	}
	sel = append(sel, "r.line", "r._extra", "r._fid")
	if pl.lay.month {
		sel = append(sel, "r._month")
	}
	for _, f := range c.Fields {
		sel = append(sel, text[f.Name]+" AS "+id("t_"+f.Name))
		if strings.HasPrefix(colName[f.Name], "r.") {
			sel = append(sel, colName[f.Name]+" AS "+id("h_"+f.Name))
		} else {
			hdr[f.Name] = colName[f.Name]
		}
	}
	from := rows + " r"
	if p.Unpivot != nil {
		pl.unpivoted = true
		var items []string
		for k, i := range m.unpivot {
			used[i] = true
			items = append(items, fmt.Sprintf("{'k': %s, 'v': nullif(trim(c%d), ''), 'h': %s}", q(m.unpivotKey[k]), i, q(strings.TrimSpace(j.header[i]))))
		}
		from = "(SELECT *, unnest([" + strings.Join(items, ", ") + "]) AS u FROM " + rows + ") r WHERE r.u.v IS NOT NULL"
	}
	txt := "SELECT " + strings.Join(sel, ", ") + " FROM " + from

	// typed values
	var typed, errs, errCols, prep1 []string
	dateFn := "ing_date"
	if j.kind == "xlsx" {
		dateFn = "ing_date_xl"
	}
	typedExpr := map[string]string{}
	for _, f := range c.Fields {
		t := id("t_" + f.Name)
		var e string
		switch f.Type {
		case TText:
			e = t
		case TInt:
			prep1 = append(prep1, fmt.Sprintf("COALESCE(TRY_CAST(%s AS DOUBLE), ing_num_fr(%s)) AS %s", t, t, id("n_"+f.Name)))
			n := id("n_" + f.Name)
			e = fmt.Sprintf("CASE WHEN %s = trunc(%s) AND abs(%s) <= 2147483647 THEN CAST(%s AS INTEGER) END", n, n, n, n)
		case TDouble:
			prep1 = append(prep1, fmt.Sprintf("COALESCE(TRY_CAST(%s AS DOUBLE), ing_num_fr(%s)) AS %s", t, t, id("n_"+f.Name)))
			n := id("n_" + f.Name)
			e = fmt.Sprintf("CASE WHEN isfinite(%s) THEN %s END", n, n)
		case TDate:
			prep1 = append(prep1, fmt.Sprintf("%s(%s) AS %s", dateFn, t, id("d_"+f.Name)))
			e = id("d_" + f.Name)
		case TBool:
			e = lookupLabel(t, boolMap(p.valueKV[f.Name]), p.Values[f.Name], "BOOLEAN")
		case TEnum:
			e = lookupLabel(t, enumMap(p, f), p.Values[f.Name], "VARCHAR")
		case TEnumList:
			e = fmt.Sprintf("list_transform(list_filter(string_split_regex(coalesce(%s, ''), '\\s*[,;|]\\s*'), x -> trim(x) <> ''), x -> %s)", t, caseLabels("x", enumMap(p, f), "VARCHAR", "NULL"))
		case TCommune:
			// a look-up against every known code, current or merged (lookup.go)
			e = "ing_commune(" + t + ")"
		case TCommuneList:
			e = fmt.Sprintf("list_transform(list_filter(string_split_regex(%s, '[\\s,;|]+'), x -> x <> ''), x -> ing_commune(x))", t)
		case TDepartement:
			e = "ing_departement(" + t + ")"
		case TTerritory:
			lf, _ := c.Field(f.LevelOf)
			lv := caseLabels(id("t_"+f.LevelOf), enumMap(p, lf), "VARCHAR", "NULL")
			lj := id("lv_" + f.Name)
			prep1 = append(prep1, lv+" AS "+lj)
			e = fmt.Sprintf("ing_territory(%s, %s)", lj, t)
		case TPseudonym:
			e = t // the readers replaced the identifier by its pseudonym
		case TPseudonymList:
			e = fmt.Sprintf("list_filter(string_split(coalesce(%s, ''), '|'), x -> x <> '')", t) // pseudonyms joined by |
		case TMonth:
			if pl.lay.month {
				e = "t._month"
			} else if f.DateOf != "" {
				e = "CAST(date_trunc('month', " + dateFn + "(" + id("t_"+f.DateOf) + ")) AS DATE)"
			} else {
				e = "NULL::DATE"
			}
		default:
			return nil, fmt.Errorf("field %s: type %s not handled", f.Name, f.Type)
		}
		typedExpr[f.Name] = e
		typed = append(typed, e+" AS "+id(f.Name))

		// errors
		var cases []string
		for _, r := range p.Reject {
			if r.Field == f.Name {
				var vs []string
				for _, v := range r.Values {
					vs = append(vs, q(normLabel(v)))
				}
				cases = append(cases, fmt.Sprintf("WHEN ing_label(%s) IN (%s) THEN %s", t, strings.Join(vs, ", "), q(r.Reason)))
			}
		}
		v := id(f.Name)
		if f.Type != TMonth {
			if f.Required {
				cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'missing value'", t))
			} else {
				cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN NULL", t))
			}
		}
		switch f.Type {
		case TInt:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL AND %s IS NOT NULL THEN 'not an integer'", v, id("n_"+f.Name)),
				fmt.Sprintf("WHEN %s IS NULL THEN 'not a number'", v))
		case TDouble:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'not a number'", v))
		case TDate:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'not a date (dd/mm/yyyy or yyyy-mm-dd)'", v))
			lo, hi := dateBound(f.Min, false, now), dateBound(f.Max, true, now)
			cases = append(cases, fmt.Sprintf("WHEN %s < DATE %s OR %s > DATE %s THEN %s", v, q(lo), v, q(hi), q("implausible date (outside "+lo+" .. "+hi+")")))
		case TBool:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN %s", v, q("not a yes/no value (oui/non)"+expected(p.Values[f.Name], nil))))
		case TEnum:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN %s", v, q("unknown value"+expected(p.Values[f.Name], f.Codes))))
		case TEnumList:
			cases = append(cases, fmt.Sprintf("WHEN len(list_filter(%s, x -> x IS NULL)) > 0 THEN %s", v, q("unknown value in the list"+expected(p.Values[f.Name], f.Codes))))
		case TCommune:
			cases = append(cases, fmt.Sprintf("WHEN ing_placeholder(%s) THEN 'placeholder, not a commune code'", t),
				fmt.Sprintf("WHEN %s IS NULL THEN 'unknown commune code (not in the COG 2026 nor in its merges)'", v))
		case TCommuneList:
			cases = append(cases, fmt.Sprintf("WHEN len(list_filter(%s, x -> x IS NULL)) > 0 THEN 'unknown commune code in the list (not in the COG 2026 nor in its merges)'", v),
				fmt.Sprintf("WHEN len(%s) = 0 THEN 'missing value'", v))
		case TDepartement:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'unknown département code'", v))
		case TTerritory:
			cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'unknown territory code at this level'", v))
		case TText:
			cases = append(cases, fmt.Sprintf("WHEN length(%s) > 500 THEN 'text longer than 500 characters'", v))
		}
		if f.Bounded && (f.Type == TInt || f.Type == TDouble) {
			cases = append(cases, fmt.Sprintf("WHEN %s < %s OR %s > %s THEN %s", v, fmtNum(f.Min), v, fmtNum(f.Max), q(fmt.Sprintf("out of range (%s to %s)", fmtNum(f.Min), fmtNum(f.Max)))))
		}
		if len(cases) > 0 {
			errs = append(errs, "CAST(CASE "+strings.Join(cases, " ")+" END AS VARCHAR) AS "+id("e_"+f.Name))
			errCols = append(errCols, f.Name)
		}
	}
	for i, ch := range c.Checks {
		errs = append(errs, fmt.Sprintf("CASE WHEN NOT (%s) THEN %s END AS %s", quoteFields(ch.SQL, c), q(ch.Reason), id(fmt.Sprintf("e__check%d", i))))
	}
	errs = append(errs, "_extra AS \"e__row\"")

	var okParts []string
	for _, f := range errCols {
		okParts = append(okParts, id("e_"+f)+" IS NULL")
	}
	for i := range c.Checks {
		okParts = append(okParts, id(fmt.Sprintf("e__check%d", i))+" IS NULL")
	}
	okParts = append(okParts, `"e__row" IS NULL`)
	prep1 = append([]string{"*"}, prep1...)
	// errors of a rejected record: the header of the column, the text of the
	// cell (never a clear identifier), the reason
	var items []string
	for _, f := range errCols {
		val := id("t_" + f)
		if f2, _ := c.Field(f); f2.Type == TPseudonym || f2.Type == TPseudonymList {
			val = "CAST(" + id(f) + " AS VARCHAR)"
		}
		items = append(items, fmt.Sprintf("{'c': %s, 'v': %s, 'r': %s}", hname(f), val, id("e_"+f)))
	}
	for i, ch := range c.Checks {
		items = append(items, fmt.Sprintf("{'c': %s, 'v': %s, 'r': %s}", hname(ch.Field), id("t_"+ch.Field), id(fmt.Sprintf("e__check%d", i))))
	}
	items = append(items, `{'c': '(record)', 'v': NULL::VARCHAR, 'r': "e__row"}`)
	var out []string
	out = append(out, "line", "_fid")
	for _, f := range c.Fields {
		out = append(out, id(f.Name))
	}
	// a chain of projections; each record carries its line and file id,
	// so the order of the output does not matter
	pl.pipeline = "WITH p0 AS (" + txt + "), p1 AS (SELECT " + strings.Join(prep1, ", ") + " FROM p0), " +
		"ty AS (SELECT t.*, " + strings.Join(typed, ", ") + " FROM p1 t), er AS (SELECT *, " + strings.Join(errs, ", ") + " FROM ty), fin AS (SELECT *, (" + strings.Join(okParts, " AND ") + ") AS _ok FROM er) " +
		"SELECT " + strings.Join(out, ", ") + ", _ok, CASE WHEN NOT _ok THEN list_filter([" + strings.Join(items, ", ") + "], x -> x.r IS NOT NULL) END AS _err FROM fin"

	pl.quar = "INSERT INTO meta.quarantine SELECT DISTINCT $1, line, e.c, e.v, e.r FROM (SELECT line, unnest(_err) AS e FROM (" + pl.pipeline + ") WHERE NOT _ok)"
	for i, u := range used {
		if u {
			pl.lay.cols = append(pl.lay.cols, i)
			pl.lay.pseudo = append(pl.lay.pseudo, pseudo[i])
		}
	}

	// insert
	var cols, vals []string
	agg := p.Aggregate
	for _, f := range c.Fields {
		cols = append(cols, id(f.Name))
		switch {
		case agg == nil:
			vals = append(vals, id(f.Name))
		case contains(agg.By, f.Name):
			vals = append(vals, id(f.Name))
		case contains(agg.Sum, f.Name):
			vals = append(vals, "sum("+id(f.Name)+")")
		default:
			vals = append(vals, "NULL")
		}
	}
	where := "_ok"
	if pl.unpivoted || agg != nil {
		// the quarantine is written first: a line with a bad cell loads nothing
		where += " AND line NOT IN (SELECT line FROM meta.quarantine WHERE file_id = $1)"
	}
	lineExpr := "line"
	if agg != nil {
		lineExpr = "min(line)"
		pl.grouped = true
	}
	pl.insert = fmt.Sprintf("INSERT INTO %s (file_id, line, %s) SELECT $1, %s, %s FROM (%s) WHERE %s", c.Table, strings.Join(cols, ", "), lineExpr, strings.Join(vals, ", "), pl.pipeline, where)
	if agg != nil {
		var by []string
		for _, b := range agg.By {
			by = append(by, id(b))
		}
		pl.insert += " GROUP BY " + strings.Join(by, ", ")
	}
	if !pl.unpivoted && !pl.grouped {
		pl.insertMarked = fmt.Sprintf("INSERT INTO %s (file_id, line, %s) SELECT _fid, line, %s FROM (%s) WHERE _ok OR ing_reject(_fid, line, CAST(to_json(_err) AS VARCHAR))",
			c.Table, strings.Join(cols, ", "), strings.Join(vals, ", "), pl.pipeline)
	}
	return pl, nil
}

// constPseudo is v, or its pseudonym when f is an identifier: a profile
// constant is replaced at plan time, like a column by the readers.
func constPseudo(f Field, v string, ps *pseudonymizer) string {
	switch {
	case v == "" || ps == nil:
		return v
	case f.Type == TPseudonym:
		return ps.of(v)
	case f.Type == TPseudonymList:
		st := ps.state()
		defer ps.pool.Put(st)
		return string(st.appendPseudoList(nil, v))
	}
	return v
}

var identRE = regexp.MustCompile(`'[^']*'|\b[a-z_][a-z0-9_]*\b`)

// quoteFields quotes the field names of a check expression (not inside
// string literals).
func quoteFields(expr string, c *Contract) string {
	return identRE.ReplaceAllStringFunc(expr, func(w string) string {
		if _, ok := c.Field(w); ok {
			return id(w)
		}
		return w
	})
}

// enumMap is the label -> code map of an enum field: the profile's labels
// and the codes themselves.
func enumMap(p *Profile, f Field) map[string]string {
	out := map[string]string{}
	for _, code := range f.Codes {
		out[normLabel(code)] = code
		out[normLabel(strings.ReplaceAll(code, "_", " "))] = code
	}
	for k, v := range p.valueKV[f.Name] {
		out[k] = v
	}
	return out
}

// boolMap is the label -> true/false map of a yes/no field: the profile's
// labels, then the usual ones.
func boolMap(profile map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"oui", "o", "yes", "y", "true", "vrai", "1", "x"} {
		out[k] = "true"
	}
	for _, k := range []string{"non", "n", "no", "false", "faux", "0"} {
		out[k] = "false"
	}
	for k, v := range profile {
		out[k] = v
	}
	return out
}

// caseCodes maps an already normalised label expression to values, through
// a MAP literal: the expression appears once (a CASE with one WHEN per label
// would repeat it once per label after DuckDB inlines the projections).
func caseCodes(expr string, m map[string]string, typ string) string {
	if len(m) == 0 {
		return "NULL::" + typ
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("map_extract_value(MAP {")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v := q(m[k])
		if typ == "BOOLEAN" {
			v = m[k]
		}
		fmt.Fprintf(&b, "%s: %s", q(k), v)
	}
	fmt.Fprintf(&b, "}, %s)", expr)
	return b.String()
}

// lookupLabel maps a text expression to a code: first by its lower-case
// form (cheap, the common case), then by its normalised form (accents,
// apostrophes, spaces). COALESCE evaluates the second only where needed.
// The first map also holds the profile's labels as written, lower-cased
// ("contact téléphonique"): with only the normalised keys, every accented
// value missed it and paid the normalisation (a regexp per row), which was
// most of the validation time of the RPE activity files.
func lookupLabel(expr string, m map[string]string, labels map[string]string, typ string) string {
	if len(m) == 0 {
		return "NULL::" + typ
	}
	lower := make(map[string]string, len(m)+len(labels))
	for k, v := range m {
		lower[k] = v
	}
	for label, code := range labels {
		if k := strings.ToLower(label); lower[k] == "" {
			lower[k] = code
		}
	}
	return "COALESCE(" + caseCodes("lower("+expr+")", lower, typ) + ", " + caseCodes("ing_label("+expr+")", m, typ) + ")"
}

// caseLabels maps a text expression through labels (normalised) to values.
func caseLabels(expr string, m map[string]string, typ, otherwise string) string {
	if len(m) == 0 {
		return otherwise
	}
	return caseCodes("ing_label("+expr+")", m, typ)
}

func expected(labels map[string]string, codes []string) string {
	var s []string
	for k := range labels {
		s = append(s, k)
	}
	sort.Strings(s)
	if len(s) == 0 {
		s = codes
	}
	if len(s) == 0 {
		return ""
	}
	if len(s) > 12 {
		s = append(s[:12], "...")
	}
	return "; expected one of: " + strings.Join(s, ", ")
}
