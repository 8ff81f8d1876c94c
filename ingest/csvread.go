package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// sniffBytes is how much of the start of a file is read to detect its
// encoding, delimiter and header.
const sniffBytes = 256 << 10

// maxHeaderRows is how many rows above the data may be titles.
const maxHeaderRows = 30

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvSniff is what the start of a CSV file says.
type csvSniff struct {
	bom      bool
	cp1252   bool // the prefix is not valid UTF-8
	delim    byte
	records  [][]string // first records (decoded), for the header search
	lines    []int64    // their line numbers
	complete bool       // records hold the whole file
}

// sniffCSV reads the start of a CSV file: BOM, encoding, delimiter and the
// first records.
func sniffCSV(prefix []byte, complete bool, forcedDelim, forcedEnc string) (*csvSniff, error) {
	s := &csvSniff{}
	if bytes.HasPrefix(prefix, utf8BOM) {
		s.bom = true
		prefix = prefix[3:]
	}
	check := prefix
	if !complete {
		// a multi-byte sequence may be cut at the end of the prefix
		for i := 0; i < 3 && len(check) > 0 && !utf8.Valid(check); i++ {
			check = check[:len(check)-1]
		}
	}
	switch strings.ToLower(forcedEnc) {
	case "":
		s.cp1252 = !utf8.Valid(check)
	case "utf-8", "utf8":
	case "windows-1252", "cp1252", "latin-1", "latin1", "iso-8859-1", "iso-8859-15":
		s.cp1252 = true
	default:
		return nil, fmt.Errorf("encoding %q not handled (utf-8 or windows-1252)", forcedEnc)
	}
	text := prefix
	if s.cp1252 {
		var err error
		if text, err = charmap.Windows1252.NewDecoder().Bytes(prefix); err != nil {
			return nil, err
		}
	}
	if !complete {
		// drop the last, possibly cut, line
		if i := bytes.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i+1]
		}
	}
	switch forcedDelim {
	case "":
		s.delim = detectDelimiter(text)
	case `\t`, "tab", "\t":
		s.delim = '\t'
	default:
		if len(forcedDelim) != 1 {
			return nil, fmt.Errorf("delimiter %q: one character", forcedDelim)
		}
		s.delim = forcedDelim[0]
	}
	r := newCSVReader(bytes.NewReader(text), s.delim)
	// The records serve the header search (maxHeaderRows); parsing 2,000
	// of them cost more than the rest of the file's recognition.
	for len(s.records) < 2*maxHeaderRows {
		rec, err := r.Read()
		if err == io.EOF {
			s.complete = complete
			break
		}
		if err != nil {
			break
		}
		line, _ := r.FieldPos(0)
		s.records = append(s.records, append([]string(nil), rec...))
		s.lines = append(s.lines, int64(line))
	}
	return s, nil
}

func newCSVReader(r io.Reader, delim byte) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = rune(delim)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// detectDelimiter picks, among ; tab , |, the one that splits the most
// lines into the same number (>= 2) of fields.
func detectDelimiter(text []byte) byte {
	lines := bytes.SplitN(text, []byte("\n"), 201)
	if len(lines) > 200 {
		lines = lines[:200]
	}
	best, bestScore := byte(';'), 0
	for _, d := range []byte{';', '\t', ',', '|'} {
		counts := map[int]int{}
		for _, l := range lines {
			n := countFields(l, d)
			if n >= 2 {
				counts[n]++
			}
		}
		score := 0
		for n, c := range counts {
			if s := c*1000 + n; c > 0 && s > score {
				score = s
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// countFields counts the fields of a line, outside double quotes.
func countFields(line []byte, d byte) int {
	if len(bytes.TrimSpace(line)) == 0 {
		return 0
	}
	n, q := 1, false
	for _, c := range line {
		switch {
		case c == '"':
			q = !q
		case c == d && !q:
			n++
		}
	}
	return n
}

// csvScan is the result of the full pass over a CSV file.
type csvScan struct {
	sha          string
	size         int64
	utf8         bool
	plain        bool  // DuckDB's read_csv can take it as is (see fastPath)
	lastDataLine int64 // last line that is not a trailing total or blank line
	lines        int64
	records      int64 // plain files: non-empty lines after the header up to lastDataLine
	emptyLines   []int64
	padded       bool // some cell starts or ends with a space or a tab
}

var totalRE = regexp.MustCompile(`^(total|totaux|sous total|ensemble|france( entiere| metropolitaine| hors mayotte)?)\b`)

// isTotalRow reports whether a record is a total row (first non-empty cell
// "Total...", "Ensemble", "France").
func isTotalRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return totalRE.MatchString(normLabel(f))
		}
	}
	return false
}

// scanCSV hashes the file and checks, a few MB at a time, whether DuckDB's
// read_csv can take it as is ("plain"): valid UTF-8 (not Windows-1252), no
// double quote, no blank line inside the data, as many delimiters as the
// header needs on the data lines (counted in bulk; read_csv's strict mode
// catches the rest, and the Go reader takes over). It finds the trailing
// total and blank lines, the lines of delimiters only, and whether some
// cell is padded with spaces.
func scanCSV(path string, sn *csvSniff, headerLine int64, ncols int, progress func(int64)) (*csvScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	sc := &csvScan{utf8: true, plain: !sn.cp1252}
	d := sn.delim
	var (
		line          int64 // lines seen so far
		firstBlank    int64 // first blank line after the header
		firstBadWidth int64 // first line with another number of fields
		rest          []byte
		tails         []tailLine
	)
	size := int64(4 << 20)
	if st, err := f.Stat(); err == nil && st.Size()+1 < size {
		size = st.Size() + 1
	}
	// The SHA-256 runs on another goroutine, beside the checks below: three
	// buffers go round between the reader, the hasher and the checks.
	free := make(chan []byte, 3)
	for range 3 {
		free <- make([]byte, size)
	}
	toHash := make(chan []byte, 2)
	hashed := make(chan struct{})
	go func() {
		for b := range toHash {
			h.Write(b)
			free <- b[:cap(b)]
		}
		close(hashed)
	}()
	hashing := true
	stopHash := func() {
		if hashing {
			close(toHash)
			<-hashed
			hashing = false
		}
	}
	defer stopHash()
	emptyCut := string([]byte{d}) + " \t"
	eof := false
	for !eof {
		buf := <-free
		n, err := io.ReadFull(f, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return nil, err
		}
		chunk := buf[:n]
		sc.size += int64(n)
		data := chunk
		if len(rest) > 0 {
			data = append(rest, chunk...)
		}
		end := bytes.LastIndexByte(data, '\n') + 1
		if eof {
			end = len(data)
		}
		region := data[:end]
		rest = append([]byte(nil), data[end:]...)
		// the checks below read region (chunk, or a copy of it)
		// only; tails copies what it keeps
		toHash <- chunk
		if sc.utf8 && !utf8.Valid(region) {
			sc.utf8, sc.plain = false, false
		}
		if sc.plain && bytes.IndexByte(region, '"') >= 0 {
			sc.plain = false // quotes anywhere, the header included: the Go reader
		}
		// header zone
		for line < headerLine && len(region) > 0 {
			i := bytes.IndexByte(region, '\n')
			if i < 0 {
				i = len(region) - 1
			}
			region = region[i+1:]
			line++
		}
		if len(region) == 0 {
			continue
		}
		// data lines (IndexByte and Count are vectorised); a large region
		// in two halves, the second on another goroutine
		if !sc.plain {
			line += countLines(region)
		} else {
			var lc [2]lineCheck
			halves := [2][]byte{region, nil}
			if h := len(region) / 2; h > 1<<20 {
				if i := bytes.IndexByte(region[h:], '\n'); i >= 0 && h+i+1 < len(region) {
					halves = [2][]byte{region[:h+i+1], region[h+i+1:]}
				}
			}
			if halves[1] != nil {
				done := make(chan struct{})
				go func() {
					lc[1] = checkLines(halves[1], d, ncols, emptyCut, sc.padded)
					close(done)
				}()
				lc[0] = checkLines(halves[0], d, ncols, emptyCut, sc.padded)
				<-done
			} else {
				lc[0] = checkLines(halves[0], d, ncols, emptyCut, sc.padded)
			}
			for k := range lc {
				c := lc[k]
				if halves[k] == nil {
					continue
				}
				if sc.plain && !c.plain {
					sc.plain = false
				}
				if c.firstBlank != 0 && firstBlank == 0 {
					firstBlank = line + c.firstBlank
				}
				if c.firstBadWidth != 0 && firstBadWidth == 0 {
					firstBadWidth = line + c.firstBadWidth
				}
				for _, e := range c.empty {
					sc.emptyLines = append(sc.emptyLines, line+e)
				}
				sc.padded = sc.padded || c.padded
				line += c.lines
			}
		}
		tails = appendTails(tails, region, line)
		if progress != nil {
			progress(sc.size)
		}
	}
	stopHash()
	sc.lines = line
	sc.sha = hex.EncodeToString(h.Sum(nil))
	// trailing blank and total lines
	sc.lastDataLine = line
	for i := len(tails) - 1; i >= 0; i-- {
		t := tails[i]
		if t.line <= headerLine {
			break
		}
		text := string(bytes.TrimRight(t.text, "\r\n"))
		if sn.cp1252 {
			if dec, err := charmap.Windows1252.NewDecoder().String(text); err == nil {
				text = dec
			}
		}
		rec := splitSimple(text, d)
		if strings.TrimSpace(strings.ReplaceAll(text, string(d), "")) == "" || isTotalRow(rec) {
			sc.lastDataLine = t.line - 1
			continue
		}
		break
	}
	// a blank line before trailing totals is fine; inside the data it is not
	if firstBlank != 0 && firstBlank <= sc.lastDataLine {
		sc.plain = false
	}
	if firstBadWidth != 0 && firstBadWidth <= sc.lastDataLine {
		sc.plain = false // some line has another number of fields: the Go reader says which
	}
	if sc.plain {
		sc.records = sc.lastDataLine - headerLine
		var empties []int64
		for _, e := range sc.emptyLines {
			if e <= sc.lastDataLine {
				sc.records--
				empties = append(empties, e)
			}
		}
		sc.emptyLines = empties
	}
	return sc, nil
}

type tailLine struct {
	line int64
	text []byte
}

// appendTails keeps the last 8 lines of the file, region ending at line.
func appendTails(tails []tailLine, region []byte, line int64) []tailLine {
	var got []tailLine
	end := len(region)
	l := line
	for len(got) < 8 && end > 0 {
		e := end
		if region[e-1] == '\n' {
			e--
		}
		i := bytes.LastIndexByte(region[:e], '\n')
		got = append(got, tailLine{l, append([]byte(nil), region[i+1:e]...)})
		end = i + 1
		l--
		if i < 0 {
			break
		}
	}
	// got is newest first
	for i := len(got) - 1; i >= 0; i-- {
		tails = append(tails, got[i])
	}
	if len(tails) > 8 {
		tails = append([]tailLine(nil), tails[len(tails)-8:]...)
	}
	return tails
}

// blankLineIndex is the index of an empty line in region, or -1.
func blankLineIndex(region []byte) int {
	i := bytes.Index(region, []byte("\n\n"))
	j := bytes.Index(region, []byte("\n\r\n"))
	switch {
	case i < 0:
		if j < 0 {
			return -1
		}
		return j + 1
	case j < 0 || i < j:
		return i + 1
	default:
		return j + 1
	}
}

func splitSimple(s string, d byte) []string {
	return strings.Split(s, string(d))
}

// csvSource is the Go-side CSV reader: it decodes Windows-1252, honours
// quotes, and yields the records after the header up to lastDataLine.
type csvSource struct {
	f            *os.File
	r            *csv.Reader
	headerLine   int64
	lastDataLine int64
}

func openCSVSource(path string, sn *csvSniff, headerLine, lastDataLine int64) (*csvSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var rd io.Reader = bufio.NewReaderSize(f, 1<<20)
	if sn.bom {
		bom := make([]byte, 3)
		if _, err := io.ReadFull(rd, bom); err != nil {
			f.Close()
			return nil, err
		}
	}
	if sn.cp1252 {
		rd = charmap.Windows1252.NewDecoder().Reader(rd)
	}
	return &csvSource{f: f, r: newCSVReader(rd, sn.delim), headerLine: headerLine, lastDataLine: lastDataLine}, nil
}

func (s *csvSource) Next() (int64, []string, error) {
	for {
		rec, err := s.r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return 0, nil, &Error{File: s.f.Name(), Line: int64(pe.Line), Reason: pe.Err.Error()}
			}
			return 0, nil, err
		}
		l, _ := s.r.FieldPos(0)
		line := int64(l)
		if line <= s.headerLine {
			continue
		}
		if s.lastDataLine > 0 && line > s.lastDataLine {
			return 0, nil, io.EOF
		}
		return line, rec, nil
	}
}

func (s *csvSource) Close() error { return s.f.Close() }

// hashFile returns the SHA-256 of a file, hex.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// paddedCell reports whether some cell of (quote-free) lines starts or
// ends with a space or a tab.
// lineCheck is what checkLines finds in a region of data lines; line
// numbers are relative to the region (its first line is 1).
type lineCheck struct {
	lines                     int64
	plain                     bool // false: a lone CR
	firstBlank, firstBadWidth int64
	empty                     []int64
	padded                    bool
}

// countLines is the number of lines of region (the last one may lack its
// line feed).
func countLines(region []byte) int64 {
	n := int64(bytes.Count(region, []byte{'\n'}))
	if len(region) > 0 && region[len(region)-1] != '\n' {
		n++
	}
	return n
}

// checkLines checks the data lines of region: blank lines, lines with
// another number of fields, lines of delimiters only, padded cells (looked
// for until one is found; padded: one is known already). It stops checking
// at a lone CR (the file is then not plain) and only counts the lines.
func checkLines(region []byte, d byte, ncols int, emptyCut string, padded bool) lineCheck {
	c := lineCheck{plain: true, padded: padded}
	for rem := region; len(rem) > 0; {
		i := bytes.IndexByte(rem, '\n')
		var l []byte
		if i < 0 {
			l, rem = rem, nil
		} else {
			l, rem = rem[:i], rem[i+1:]
		}
		c.lines++
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if bytes.IndexByte(l, '\r') >= 0 {
			c.plain = false // a lone CR: readers disagree on it
			c.lines += countLines(rem)
			break
		}
		switch {
		case len(bytes.Trim(l, " \t")) == 0:
			if c.firstBlank == 0 {
				c.firstBlank = c.lines
			}
		case bytes.Count(l, []byte{d}) != ncols-1:
			if c.firstBadWidth == 0 {
				c.firstBadWidth = c.lines
			}
		case len(bytes.Trim(l, emptyCut)) == 0:
			c.empty = append(c.empty, c.lines) // only delimiters: not a record
		default:
			if !c.padded && paddedCell(l, d) {
				c.padded = true
			}
		}
	}
	return c
}

func paddedCell(l []byte, d byte) bool {
	for _, sp := range []byte{' ', '\t'} {
		for off := 0; ; {
			i := bytes.IndexByte(l[off:], sp)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || i == len(l)-1 {
				return true
			}
			if p := l[i-1]; p == d || p == '\n' {
				return true
			}
			if n := l[i+1]; n == d || n == '\r' || n == '\n' {
				return true
			}
			off = i + 1
		}
	}
	return false
}
