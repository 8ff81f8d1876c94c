// Package sqlmodels embeds the SQL models of the observatory.
//
// A model is one .sql file, named after the table it makes; its folder gives
// the schema: staging/ -> staging, intermediate/ -> int, mart/ -> mart. The
// file starts with a header comment (description in French, columns, formula,
// source, data tests); package transform parses, orders and runs them.
package sqlmodels

import "embed"

// FS holds every model file (staging/*.sql, intermediate/*.sql, mart/*.sql).
//
//go:embed staging/*.sql intermediate/*.sql mart/*.sql
var FS embed.FS

// Schemas maps a model folder to the schema of the tables it makes, in
// data-flow order.
var Schemas = []struct{ Dir, Schema string }{
	{"staging", "staging"},
	{"intermediate", "int"},
	{"mart", "mart"},
}
