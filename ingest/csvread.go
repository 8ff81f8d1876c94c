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
	plain        bool  // the plain reader can take it (plaincsv.go)
	lastDataLine int64 // last line that is not a trailing total or blank line
	lines        int64
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

// scanCSV hashes the file and checks, a few MB at a time, whether the
// plain reader (plaincsv.go) can take it: valid UTF-8 (not Windows-1252),
// no double quote, no lone CR (readers disagree on it). It counts the lines
// and finds the trailing total and blank lines. The SHA-256 runs on another
// goroutine; the checks are vectorised byte searches.
func scanCSV(path string, sn *csvSniff, headerLine int64, progress func(int64)) (*csvScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	sc := &csvScan{plain: !sn.cp1252}
	var (
		line  int64 // lines seen so far
		rest  []byte
		tails []tailLine
	)
	size := int64(4 << 20)
	if st, err := f.Stat(); err == nil && st.Size()+1 < size {
		size = st.Size() + 1
	}
	// three buffers go round between the reader, the hasher and the checks;
	// the partial last line of a read starts the next buffer (copying the
	// chunk to join them cost page faults as much as the checks)
	const headroom = 1 << 20
	free := make(chan []byte, 3)
	for range 3 {
		free <- make([]byte, size+headroom)
	}
	hashed := make(chan struct{})
	type piece struct{ buf, part []byte }
	pieces := make(chan piece, 2)
	go func() {
		for p := range pieces {
			h.Write(p.part)
			free <- p.buf
		}
		close(hashed)
	}()
	hashing := true
	stopHash := func() {
		if hashing {
			close(pieces)
			<-hashed
			hashing = false
		}
	}
	defer stopHash()
	for eof := false; !eof; {
		buf := <-free
		if len(rest)+int(size) > cap(buf) {
			buf = make([]byte, len(rest)+int(size)) // a line longer than the headroom
		}
		buf = buf[:cap(buf)]
		copy(buf, rest)
		n, err := io.ReadFull(f, buf[len(rest):len(rest)+int(size)])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return nil, err
		}
		sc.size += int64(n)
		data := buf[:len(rest)+n]
		end := bytes.LastIndexByte(data, '\n') + 1
		if eof {
			end = len(data)
		}
		region := data[:end]
		rest = append(rest[:0], data[end:]...)
		// the hasher reads the new bytes only; the checks read region,
		// tails copies what it keeps
		pieces <- piece{buf, data[len(data)-n:]}
		if sc.plain && (!utf8.Valid(region) || bytes.IndexByte(region, '"') >= 0 ||
			bytes.Count(region, []byte{'\r'}) != bytes.Count(region, []byte("\r\n"))) {
			sc.plain = false
		}
		line += countLines(region)
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
		rec := splitSimple(text, sn.delim)
		if strings.TrimSpace(strings.ReplaceAll(text, string(sn.delim), "")) == "" || isTotalRow(rec) {
			sc.lastDataLine = t.line - 1
			continue
		}
		break
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

// countLines is the number of lines of region (the last one may lack its
// line feed).
func countLines(region []byte) int64 {
	n := int64(bytes.Count(region, []byte{'\n'}))
	if len(region) > 0 && region[len(region)-1] != '\n' {
		n++
	}
	return n
}
