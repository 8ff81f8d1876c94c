package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"hash"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// pseudoUDF is the scalar function ing_pseudo(VARCHAR) -> VARCHAR: the
// keyed pseudonym of an identifier (see Pseudonym). The secret lives in the
// closure only: it is never in a query, a parameter or a table.
type pseudoUDF struct {
	pool sync.Pool // *pseudoState: DuckDB calls from several threads
}

type pseudoState struct {
	mac hash.Hash
	buf []byte
	out []byte
	hex []byte
}

func newPseudoUDF(secret string) *pseudoUDF {
	u := &pseudoUDF{}
	key := []byte(secret)
	u.pool.New = func() any {
		return &pseudoState{mac: hmac.New(sha256.New, key), hex: make([]byte, 64)}
	}
	return u
}

func (u *pseudoUDF) Config() duckdb.ScalarFuncConfig {
	vc, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{vc}, ResultTypeInfo: vc}
}

func (u *pseudoUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, chunk *duckdb.ChunkIteratorState) error {
		in, err := chunk.GetInputChunk().GetVector(0)
		if err != nil {
			return err
		}
		view, err := duckdb.GetVectorView[string](in)
		if err != nil {
			return err
		}
		out, err := duckdb.GetVectorWriter[string](chunk.GetResultVector())
		if err != nil {
			return err
		}
		st := u.pool.Get().(*pseudoState)
		defer u.pool.Put(st)
		for i := 0; i < view.Len(); i++ {
			s, ok, err := view.GetValueBorrowed(i)
			if err != nil {
				return err
			}
			if !ok {
				if err := out.SetNull(i); err != nil {
					return err
				}
				continue
			}
			if err := out.Set(i, st.pseudoBorrowed(s)); err != nil {
				return err
			}
		}
		return nil
	}}
}

// pseudo is the pseudonym of s: HMAC-SHA256 of the normalised id, 16 hex.
func (st *pseudoState) pseudo(s string) string {
	return string(st.pseudoBorrowed(s))
}

// pseudoBorrowed is pseudo(s) in st's own buffer: valid until the next
// call (DuckDB copies it into the result vector; no allocation per row).
func (st *pseudoState) pseudoBorrowed(s string) string {
	st.buf = appendNormID(st.buf[:0], s)
	st.mac.Reset()
	st.mac.Write(st.buf)
	st.out = st.mac.Sum(st.out[:0])
	hex.Encode(st.hex, st.out[:8])
	return str(st.hex[:16])
}

// appendNormID appends id upper-cased (ASCII letters; others as they are)
// without any white space: the form both Pseudonym and the SQL side use.
func appendNormID(b []byte, id string) []byte {
	if ascii(id) {
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			case 'a' <= c && c <= 'z':
				b = append(b, c-'a'+'A')
			default:
				b = append(b, c)
			}
		}
		return b
	}
	return append(b, normID(id)...)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// registerPseudo registers ing_pseudo on conn with the secret.
func registerPseudo(conn *sql.Conn, secret string) error {
	return duckdb.RegisterScalarUDF(conn, "ing_pseudo", newPseudoUDF(secret))
}
