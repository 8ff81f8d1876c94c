package demo

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Source names, the keys of Summary.Rows.
const (
	SrcPopulation       = "population"
	SrcAMRegister       = "am_register"
	SrcAvailability     = "availability"
	SrcRPERegister      = "rpe_register"
	SrcRPEActivity      = "rpe_activity"
	SrcFamilyRequest    = "family_request"
	SrcCollectivePlaces = "collective_places"
)

// Sources lists every source the generator writes, in a fixed order.
var Sources = []string{SrcPopulation, SrcAMRegister, SrcAvailability, SrcRPERegister, SrcRPEActivity, SrcFamilyRequest, SrcCollectivePlaces}

// badEvery: a bad row follows the valid rows number 500, 1500, 2500... of a
// file; a file with fewer than 500 valid rows gets one bad row at its end.
const badEvery = 1000

// defect is one kind of deliberately bad row: column col gets value val.
// When the file has an identity column (approval number, request id) and
// col is not it, the bad row also gets a fresh identity so that it never
// duplicates a valid row.
type defect struct {
	col int
	val string
}

// fileStat is what a département's generation reports for one file.
type fileStat struct {
	rel    string // relative to the output root, slash-separated
	source string
	rows   int64 // data rows, bad ones included
	bad    int
}

// csvFile streams one CSV file: fields of the current row are appended to
// row, with their boundaries, and the row is flushed by end().
type csvFile struct {
	stat    fileStat
	f       *os.File
	w       *bufio.Writer
	row     []byte
	starts  []int
	ends    []int
	valid   int64
	defects []defect
	idCol   int                          // -1: no identity column
	freshID func(b []byte, n int) []byte // n-th bad row's identity
	scratch []byte
	done    bool // row holds the last written row; the next field starts a new one
}

func mkdirFor(path string) error { return os.MkdirAll(filepath.Dir(path), 0o755) }

func createCSV(root, rel, source string, header []string) (*csvFile, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	c := &csvFile{stat: fileStat{rel: rel, source: source}, f: f, w: bufio.NewWriterSize(f, 256<<10), idCol: -1}
	c.w.WriteString(strings.Join(header, ";"))
	c.w.WriteString("\r\n")
	return c, nil
}

func (c *csvFile) open() {
	if c.done {
		c.row, c.starts, c.ends, c.done = c.row[:0], c.starts[:0], c.ends[:0], false
	}
	if len(c.starts) > 0 {
		c.row = append(c.row, ';')
	}
	c.starts = append(c.starts, len(c.row))
}
func (c *csvFile) close() { c.ends = append(c.ends, len(c.row)) }

func (c *csvFile) str(s string)   { c.open(); c.row = append(c.row, s...); c.close() }
func (c *csvFile) bytes(s []byte) { c.open(); c.row = append(c.row, s...); c.close() }
func (c *csvFile) empty()         { c.open(); c.close() }
func (c *csvFile) int(v int)      { c.open(); c.row = strconv.AppendInt(c.row, int64(v), 10); c.close() }
func (c *csvFile) date(d day)     { c.open(); c.row = appendDate(c.row, d); c.close() }
func (c *csvFile) dec1(v float64) { c.open(); c.row = appendDec1(c.row, v); c.close() }

// text writes a free-text value coming from reference data, quoted as
// RFC 4180 says when it holds a separator or a quote.
func (c *csvFile) text(s string) {
	c.open()
	if strings.ContainsAny(s, ";\"\r\n") {
		c.row = append(c.row, '"')
		c.row = append(c.row, strings.ReplaceAll(s, `"`, `""`)...)
		c.row = append(c.row, '"')
	} else {
		c.row = append(c.row, s...)
	}
	c.close()
}

// optDate writes d, or nothing when d is 0.
func (c *csvFile) optDate(d day) {
	c.open()
	if d != 0 {
		c.row = appendDate(c.row, d)
	}
	c.close()
}

func (c *csvFile) yn(v bool) {
	c.open()
	if v {
		c.row = append(c.row, "oui"...)
	} else {
		c.row = append(c.row, "non"...)
	}
	c.close()
}

// end writes the current row and, every badEvery rows, a bad row derived
// from it.
func (c *csvFile) end() {
	c.row = append(c.row, '\r', '\n')
	c.w.Write(c.row)
	c.valid++
	c.row = c.row[:len(c.row)-2]
	if c.valid%badEvery == badEvery/2 {
		c.writeBad()
	}
	c.done = true
}

// writeBad writes a copy of the current (valid) row with the next defect.
func (c *csvFile) writeBad() {
	if len(c.defects) == 0 || len(c.ends) == 0 {
		return
	}
	d := c.defects[c.stat.bad%len(c.defects)]
	b := c.scratch[:0]
	for i := range c.starts {
		if i > 0 {
			b = append(b, ';')
		}
		switch {
		case i == d.col:
			b = append(b, d.val...)
		case i == c.idCol && c.freshID != nil:
			b = c.freshID(b, c.stat.bad)
		default:
			b = append(b, c.row[c.starts[i]:c.ends[i]]...)
		}
	}
	b = append(b, '\r', '\n')
	c.w.Write(b)
	c.scratch = b
	c.stat.bad++
}

// finish closes the file; a file without bad row yet gets one, derived from
// its last valid row.
func (c *csvFile) finish() (fileStat, error) {
	if c.stat.bad == 0 && c.valid > 0 && c.done {
		c.writeBad()
	}
	c.stat.rows = c.valid + int64(c.stat.bad)
	err := c.w.Flush()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return c.stat, err
}
