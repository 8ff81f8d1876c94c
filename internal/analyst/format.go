package analyst

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/rivo/uniseg"
	"github.com/xuri/excelize/v2"
)

// Format is an output format of 'observatoire sql'.
type Format string

// The output formats.
const (
	FormatTable   Format = "table"
	FormatCSV     Format = "csv"
	FormatJSON    Format = "json"
	FormatParquet Format = "parquet"
	FormatXLSX    Format = "xlsx"
)

// Formats lists them, for help texts.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatParquet, FormatXLSX}

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use table, csv, json, parquet or xlsx", s)
}

// FormatForPath guesses the format from a file name's extension ("" when it
// cannot).
func FormatForPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV
	case ".json":
		return FormatJSON
	case ".parquet":
		return FormatParquet
	case ".xlsx":
		return FormatXLSX
	case ".txt":
		return FormatTable
	}
	return ""
}

// Binary formats are not written to a terminal.
func (f Format) Binary() bool { return f == FormatParquet || f == FormatXLSX }

// result is a query's rows as they stream, with the column types.
type result struct {
	ctx   context.Context
	rows  *sql.Rows
	cols  []string
	types []string // DuckDB type names: INTEGER, DATE, DECIMAL(18,3), VARCHAR[]...
	vals  []any
	ptrs  []any
	n     int64
}

func newResult(ctx context.Context, rows *sql.Rows) (*result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	r := &result{ctx: ctx, rows: rows}
	for _, ct := range cts {
		r.cols = append(r.cols, ct.Name())
		r.types = append(r.types, strings.ToUpper(ct.DatabaseTypeName()))
	}
	r.vals = make([]any, len(cts))
	r.ptrs = make([]any, len(cts))
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

// next scans the next row into r.vals.
func (r *result) next() (bool, error) {
	if r.n%1024 == 0 {
		if err := r.ctx.Err(); err != nil {
			return false, err
		}
	}
	if !r.rows.Next() {
		return false, r.rows.Err()
	}
	r.n++
	return true, r.rows.Scan(r.ptrs...)
}

// skip counts the remaining rows without converting them.
func (r *result) skip() (int64, error) {
	var k int64
	for r.rows.Next() {
		k++
		if k%4096 == 0 {
			if err := r.ctx.Err(); err != nil {
				return k, err
			}
		}
	}
	return k, r.rows.Err()
}

func isNumericType(t string) bool {
	for _, p := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
		"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL"} {
		if t == p || strings.HasPrefix(t, p+"(") {
			return true
		}
	}
	return false
}

// formatFloat writes doubles the way people read them: no exponent for
// ordinary magnitudes, the shortest form that reads back exactly.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || a >= 1e-4 && a < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// text renders one value for the table and CSV formats ("" for NULL).
func text(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			return uuidString(x)
		}
		return `\x` + hex.EncodeToString(x)
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case float32:
		return formatFloat(float64(x))
	case float64:
		return formatFloat(x)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case time.Time:
		return timeText(x, typ)
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.UUID:
		return x.String()
	case duckdb.Union:
		return text(x.Value, "")
	}
	b, err := marshalJSON(jsonValue(v, typ))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func timeText(t time.Time, typ string) string {
	switch {
	case typ == "DATE":
		return t.Format(time.DateOnly)
	case typ == "TIME":
		return t.Format("15:04:05.999999")
	case strings.HasPrefix(typ, "TIME WITH TIME ZONE") || typ == "TIMETZ":
		return t.Format("15:04:05.999999Z07:00")
	case strings.Contains(typ, "WITH TIME ZONE") || typ == "TIMESTAMPTZ":
		// An instant: shown in the machine's time zone, with its offset.
		return t.In(time.Local).Format("2006-01-02 15:04:05.999999Z07:00")
	}
	return t.Format("2006-01-02 15:04:05.999999")
}

func intervalText(i duckdb.Interval) string {
	var parts []string
	if i.Months != 0 {
		parts = append(parts, fmt.Sprintf("%d months", i.Months))
	}
	if i.Days != 0 {
		parts = append(parts, fmt.Sprintf("%d days", i.Days))
	}
	if i.Micros != 0 || len(parts) == 0 {
		d := time.Duration(i.Micros) * time.Microsecond
		parts = append(parts, d.String())
	}
	return strings.Join(parts, " ")
}

// jsonValue converts a scanned value to what encoding/json writes faithfully:
// decimals and huge integers stay exact numbers, dates stay ISO strings,
// NaN and infinities become null.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case nil, string, bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return x
	case float32:
		return jsonValue(float64(x), typ)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case []byte:
		return text(x, typ)
	case time.Time, duckdb.Interval, duckdb.UUID:
		return text(x, typ)
	case duckdb.Union:
		return jsonValue(x.Value, "")
	case []any:
		elem := strings.TrimSuffix(typ, "[]")
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, elem)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[text(k, "")] = jsonValue(e, "")
		}
		return out
	}
	return fmt.Sprint(v)
}

func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Table output ------------------------------------------------------------

const maxCellWidth = 60

// cell makes a value printable on one line of a table.
func cell(v any, typ string) string {
	if v == nil {
		return "NULL"
	}
	s := text(v, typ)
	s = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
	if uniseg.StringWidth(s) > maxCellWidth {
		var b strings.Builder
		w := 0
		g := uniseg.NewGraphemes(s)
		for g.Next() {
			if w+g.Width() > maxCellWidth-1 {
				break
			}
			w += g.Width()
			b.WriteString(g.Str())
		}
		s = b.String() + "…"
	}
	return s
}

// writeTable writes an aligned table of at most maxRows rows (0 = all), then
// a line with the row count that says when it truncated.
func writeTable(w io.Writer, r *result, maxRows int, more string) error {
	var grid [][]string
	for maxRows <= 0 || len(grid) < maxRows {
		ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		line := make([]string, len(r.vals))
		for i, v := range r.vals {
			line[i] = cell(v, r.types[i])
		}
		grid = append(grid, line)
	}
	total := int64(len(grid))
	truncated := false
	if maxRows > 0 && len(grid) == maxRows {
		rest, err := r.skip()
		if err != nil {
			return err
		}
		total += rest
		truncated = rest > 0
	}

	widths := make([]int, len(r.cols))
	right := make([]bool, len(r.cols))
	for i, c := range r.cols {
		widths[i] = uniseg.StringWidth(c)
		right[i] = isNumericType(r.types[i])
	}
	for _, line := range grid {
		for i, c := range line {
			widths[i] = max(widths[i], uniseg.StringWidth(c))
		}
	}
	var b strings.Builder
	pad := func(s string, i int, alignRight bool) {
		gap := strings.Repeat(" ", widths[i]-uniseg.StringWidth(s))
		switch {
		case alignRight:
			b.WriteString(gap + s)
		case i == len(widths)-1:
			b.WriteString(s) // no trailing blanks
		default:
			b.WriteString(s + gap)
		}
	}
	row := func(cells []string, header bool) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" | ")
			} else {
				b.WriteString(" ")
			}
			pad(c, i, right[i] && !header)
		}
		b.WriteString("\n")
	}
	row(r.cols, true)
	for i := range r.cols {
		if i > 0 {
			b.WriteString("-+-")
		} else {
			b.WriteString("-")
		}
		b.WriteString(strings.Repeat("-", widths[i]))
	}
	b.WriteString("\n")
	for _, line := range grid {
		row(line, false)
	}
	switch {
	case truncated:
		fmt.Fprintf(&b, "(%s of %s rows shown: the output is truncated", groupDigits(int64(len(grid))), groupDigits(total))
		if more != "" {
			b.WriteString("; " + more)
		}
		b.WriteString(")\n")
	case total == 1:
		b.WriteString("(1 row)\n")
	default:
		fmt.Fprintf(&b, "(%s rows)\n", groupDigits(total))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// groupDigits writes 1234567 as 1 234 567 (French grouping, plain spaces).
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// CSV and JSON ------------------------------------------------------------

// writeCSV writes RFC 4180 CSV with a header; NULL is an empty field, numbers
// use a decimal point, dates are ISO 8601.
func writeCSV(w io.Writer, r *result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.cols); err != nil {
		return err
	}
	rec := make([]string, len(r.cols))
	for {
		ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		for i, v := range r.vals {
			rec[i] = text(v, r.types[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes an array of objects whose keys keep the column order.
func writeJSON(w io.Writer, r *result) error {
	keys := make([][]byte, len(r.cols))
	for i, c := range r.cols {
		k, err := marshalJSON(c)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	var b bytes.Buffer
	b.WriteString("[")
	first := true
	for {
		ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString("\n  {")
		for i, v := range r.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			val, err := marshalJSON(jsonValue(v, r.types[i]))
			if err != nil {
				return fmt.Errorf("column %s: %w", r.cols[i], err)
			}
			b.Write(keys[i])
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteString("}")
		if b.Len() > 1<<16 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if !first {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// XLSX --------------------------------------------------------------------

const xlsxMaxRows = 1048576 - 1 // one row for the header

// SheetName is the worksheet of the XLSX output.
const SheetName = "Résultat"

// writeXLSX writes one worksheet: bold frozen header, numbers as numbers,
// dates as dates.
func writeXLSX(w io.Writer, r *result) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	dateFmt, timeFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	tsStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(r.cols))
	for i, c := range r.cols {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
		width := float64(min(max(uniseg.StringWidth(c)+2, 10), 50))
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	line := 1
	for {
		ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if line > xlsxMaxRows {
			return fmt.Errorf("xlsx holds at most %s rows: write this result as csv or parquet", groupDigits(xlsxMaxRows))
		}
		line++
		vals := make([]any, len(r.vals))
		for i, v := range r.vals {
			vals[i] = xlsxValue(v, r.types[i], dateStyle, tsStyle)
		}
		axis, _ := excelize.CoordinatesToCellName(1, line)
		if err := sw.SetRow(axis, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

func xlsxValue(v any, typ string, dateStyle, tsStyle int) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool, string, int8, int16, int32, int64, int, uint8, uint16, uint32:
		return x
	case uint64:
		if x < 1<<53 {
			return x
		}
	case float32:
		return xlsxValue(float64(x), typ, dateStyle, tsStyle)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x)
		}
		return x
	case duckdb.Decimal:
		return x.Float64()
	case time.Time:
		switch {
		case typ == "DATE":
			return excelize.Cell{StyleID: dateStyle, Value: time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)}
		case strings.HasPrefix(typ, "TIMESTAMP"):
			// Excel has no time zones: the wall-clock time as DuckDB shows it.
			return excelize.Cell{StyleID: tsStyle, Value: time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC)}
		}
	}
	return text(v, typ)
}
