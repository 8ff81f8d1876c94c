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
	for len(s.records) < 2000 {
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
	lines := bytes.Split(text, []byte("\n"))
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

// scanCSV hashes the file and checks, line by line, whether it is plain:
// valid UTF-8, no double quote, no blank line before the end, every line
// after the header with ncols fields. It finds the trailing total rows.
func scanCSV(path string, sn *csvSniff, headerLine int64, ncols int, progress func(int64)) (*csvScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	br := bufio.NewReaderSize(f, 1<<20)
	sc := &csvScan{utf8: true, plain: !sn.cp1252}
	var line int64
	var carry []byte // incomplete UTF-8 sequence at a line end cannot happen (\n is ASCII)
	_ = carry
	blankAt := int64(0)
	type tail struct {
		line int64
		text string
	}
	var tails []tail // last lines
	for {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// a very long line: hash it whole, slowly
			buf := append([]byte(nil), b...)
			for err == bufio.ErrBufferFull {
				b, err = br.ReadSlice('\n')
				buf = append(buf, b...)
			}
			b = buf
		}
		if len(b) > 0 {
			h.Write(b)
			sc.size += int64(len(b))
			line++
			if sc.utf8 && !utf8.Valid(b) {
				sc.utf8, sc.plain = false, false
			}
			content := bytes.TrimRight(b, "\r\n")
			if line == 1 {
				content = bytes.TrimPrefix(content, utf8BOM)
			}
			if line > headerLine && sc.plain {
				if len(bytes.TrimSpace(content)) == 0 {
					if blankAt == 0 {
						blankAt = line
					}
				} else {
					if blankAt != 0 || bytes.IndexByte(content, '"') >= 0 || bytes.Count(content, []byte{sn.delim})+1 != ncols {
						sc.plain = false
					}
				}
			}
			if line > headerLine {
				if len(tails) == 8 {
					copy(tails, tails[1:])
					tails = tails[:7]
				}
				tails = append(tails, tail{line, string(content)})
			}
			if progress != nil && line%65536 == 0 {
				progress(sc.size)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sc.lines = line
	sc.sha = hex.EncodeToString(h.Sum(nil))
	// trailing blank and total lines
	sc.lastDataLine = line
	for i := len(tails) - 1; i >= 0; i-- {
		t := tails[i]
		text := t.text
		if sn.cp1252 {
			if d, err := charmap.Windows1252.NewDecoder().String(text); err == nil {
				text = d
			}
		}
		rec := splitSimple(text, sn.delim)
		if strings.TrimSpace(strings.ReplaceAll(text, string(sn.delim), "")) == "" || isTotalRow(rec) {
			sc.lastDataLine = t.line - 1
			continue
		}
		break
	}
	// a blank line before a trailing total is fine: only blank lines inside the data matter
	if blankAt != 0 && blankAt > sc.lastDataLine {
		blankAt = 0
	}
	if blankAt != 0 {
		sc.plain = false
	}
	if !sc.plain {
		// recheck: the non-plain flag may have come from the trailing rows only
		_ = blankAt
	}
	return sc, nil
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
