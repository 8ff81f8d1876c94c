package ingest

import (
	"context"
	"database/sql"
	"strings"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
)

// The code look-ups of the validation (communes, départements, territories)
// are Go scalar functions over maps read from the reference tables when the
// loader opens: the validation stays a chain of projections over the
// records. The semantics are those of the joins they replaced:
//
//	ing_commune(t)        the code of cogKey(t) among the current communes,
//	                      else the current code of a merged (old) commune
//	                      that is not itself current (the former _cogall)
//	ing_departement(t)    depKey(t) when it is a département of ref.territory
//	ing_territory(lv, t)  the code at level lv of ref.territory: 'FR' for
//	                      france, depKey(t) for departement, for commune
//	                      cogKey(t) followed through ref.commune_merge,
//	                      upper(t) for the others
//
// The maps never change during a load: the reference tables are rebuilt
// only by LoadReference, and the RPE territories refreshed by a run are of
// a level no contract field checks.
type refMaps struct {
	commune   map[string]string            // current and merged codes -> current code
	merge     map[string]string            // ref.commune_merge old_code -> code
	territory map[string]map[string]string // level -> code -> code (interned)
}

func loadRefMaps(ctx context.Context, conn *sql.Conn) (*refMaps, error) {
	m := &refMaps{commune: map[string]string{}, merge: map[string]string{}, territory: map[string]map[string]string{}}
	err := scanPairs(ctx, conn, "SELECT level, code FROM ref.territory", func(lv, code string) {
		t := m.territory[lv]
		if t == nil {
			t = map[string]string{}
			m.territory[lv] = t
		}
		t[code] = code
	})
	if err != nil {
		return nil, err
	}
	if err := scanPairs(ctx, conn, "SELECT old_code, code FROM ref.commune_merge", func(old, code string) { m.merge[old] = code }); err != nil {
		return nil, err
	}
	for code := range m.territory["commune"] {
		m.commune[code] = code
	}
	for old, code := range m.merge {
		if _, cur := m.territory["commune"][old]; !cur {
			m.commune[old] = code
		}
	}
	return m, nil
}

// scanPairs calls fn with each row of a two-VARCHAR query.
func scanPairs(ctx context.Context, conn *sql.Conn, query string, fn func(a, b string)) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
}

// cogKey is the form of a commune code in the COG: four digits get their
// leading 0 back (lost by spreadsheets), anything else is upper-cased. buf is scratch space; the result may alias it.
func cogKey(buf []byte, s string) []byte {
	if len(s) == 4 && isDigits(s) {
		return append(append(buf[:0], '0'), s...)
	}
	return appendUpper(buf[:0], s)
}

// depKey is the form of a département code: one digit gets a leading 0,
// anything else is upper-cased.
func depKey(buf []byte, s string) []byte {
	if len(s) == 1 && isDigits(s) {
		return append(append(buf[:0], '0'), s...)
	}
	return appendUpper(buf[:0], s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendUpper is DuckDB's upper(s): ASCII letters directly, other text
// through Unicode's simple upper-case mapping (which utf8proc also uses).
func appendUpper(b []byte, s string) []byte {
	if !ascii(s) {
		return append(b, strings.ToUpper(s)...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// str views b as a string for a map look-up or a copy into DuckDB (which
// copies it): b must not change while the string is in use.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (m *refMaps) communeOf(buf []byte, s string) (string, bool) {
	code, ok := m.commune[str(cogKey(buf, s))]
	return code, ok
}

func (m *refMaps) departementOf(buf []byte, s string) (string, bool) {
	code, ok := m.territory["departement"][str(depKey(buf, s))]
	return code, ok
}

// territoryOf: s may be absent (ok false): the france level still gives FR.
func (m *refMaps) territoryOf(buf []byte, level, s string, sOK bool) (string, bool) {
	t := m.territory[level]
	if t == nil {
		return "", false
	}
	var k string
	switch level {
	case "france":
		k = "FR"
	case "departement":
		if !sOK {
			return "", false
		}
		k = str(depKey(buf, s))
	case "commune":
		if !sOK {
			return "", false
		}
		k = str(cogKey(buf, s))
		if c, ok := m.merge[k]; ok {
			k = c
		}
	default:
		if !sOK {
			return "", false
		}
		k = str(appendUpper(buf[:0], s))
	}
	code, ok := t[k]
	return code, ok
}

// lookupUDF is a VARCHAR function of one or two VARCHAR arguments over
// the reference maps. fn gets the arguments (ok false for NULL) and a
// scratch buffer of its thread.
type lookupUDF struct {
	nargs int
	fn    func(buf []byte, a [2]string, ok [2]bool) (string, bool)
}

func (u *lookupUDF) Config() duckdb.ScalarFuncConfig {
	vc, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	in := make([]duckdb.TypeInfo, u.nargs)
	for i := range in {
		in[i] = vc
	}
	return duckdb.ScalarFuncConfig{InputTypeInfos: in, ResultTypeInfo: vc, SpecialNullHandling: true}
}

func (u *lookupUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, chunk *duckdb.ChunkIteratorState) error {
		var views [2]duckdb.VectorView[string]
		for k := 0; k < u.nargs; k++ {
			in, err := chunk.GetInputChunk().GetVector(k)
			if err != nil {
				return err
			}
			if views[k], err = duckdb.GetVectorView[string](in); err != nil {
				return err
			}
		}
		out, err := duckdb.GetVectorWriter[string](chunk.GetResultVector())
		if err != nil {
			return err
		}
		buf := make([]byte, 0, 64)
		for i := 0; i < views[0].Len(); i++ {
			var a [2]string
			var ok [2]bool
			for k := 0; k < u.nargs; k++ {
				if a[k], ok[k], err = views[k].GetValueBorrowed(i); err != nil {
					return err
				}
			}
			code, found := u.fn(buf, a, ok)
			if !found {
				if err := out.SetNull(i); err != nil {
					return err
				}
				continue
			}
			if err := out.Set(i, code); err != nil {
				return err
			}
		}
		return nil
	}}
}

// registerLookups registers ing_commune, ing_departement and ing_territory
// on conn.
func registerLookups(conn *sql.Conn, m *refMaps) error {
	fns := map[string]*lookupUDF{
		"ing_commune": {1, func(buf []byte, a [2]string, ok [2]bool) (string, bool) {
			if !ok[0] {
				return "", false
			}
			return m.communeOf(buf, a[0])
		}},
		"ing_departement": {1, func(buf []byte, a [2]string, ok [2]bool) (string, bool) {
			if !ok[0] {
				return "", false
			}
			return m.departementOf(buf, a[0])
		}},
		"ing_territory": {2, func(buf []byte, a [2]string, ok [2]bool) (string, bool) {
			if !ok[0] {
				return "", false
			}
			return m.territoryOf(buf, a[0], a[1], ok[1])
		}},
	}
	for name, f := range fns {
		if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
			return err
		}
	}
	return nil
}
