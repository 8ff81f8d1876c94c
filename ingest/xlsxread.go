package ingest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxBook is an open workbook.
type xlsxBook struct {
	f      *excelize.File
	sheets []string
}

func openXLSX(path string) (*xlsxBook, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	return &xlsxBook{f: f, sheets: f.GetSheetList()}, nil
}

func (b *xlsxBook) Close() error { return b.f.Close() }

// head returns the first n rows of a sheet (raw cell values), row i being
// line i+1.
func (b *xlsxBook) head(sheet string, n int) ([][]string, error) {
	rows, err := b.f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for len(out) < n && rows.Next() {
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, err
		}
		out = append(out, cols)
	}
	return out, rows.Error()
}

// xlsxSource yields the rows of a sheet after the header row; trailing
// blank and total rows are dropped (they are held back until a data row
// follows them).
type xlsxSource struct {
	rows       *excelize.Rows
	line       int64
	headerLine int64
	pending    []pendingRow
	out        pendingRow
	eof        bool
}

type pendingRow struct {
	line int64
	rec  []string
}

func (b *xlsxBook) source(sheet string, headerLine int64) (*xlsxSource, error) {
	rows, err := b.f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	return &xlsxSource{rows: rows, headerLine: headerLine}, nil
}

func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (s *xlsxSource) Next() (int64, []string, error) {
	for {
		if len(s.pending) > 0 && (s.eof || !held(s.pending[len(s.pending)-1].rec)) {
			if s.eof {
				// drop the trailing blank/total rows
				for len(s.pending) > 0 && held(s.pending[len(s.pending)-1].rec) {
					s.pending = s.pending[:len(s.pending)-1]
				}
				if len(s.pending) == 0 {
					return 0, nil, io.EOF
				}
			}
			s.out = s.pending[0]
			s.pending = s.pending[1:]
			if blankRow(s.out.rec) {
				continue
			}
			return s.out.line, s.out.rec, nil
		}
		if s.eof {
			return 0, nil, io.EOF
		}
		if !s.rows.Next() {
			if err := s.rows.Error(); err != nil {
				return 0, nil, err
			}
			s.eof = true
			continue
		}
		s.line++
		if s.line <= s.headerLine {
			continue
		}
		cols, err := s.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return 0, nil, fmt.Errorf("row %d: %w", s.line, err)
		}
		s.pending = append(s.pending, pendingRow{s.line, cols})
	}
}

// held: a row that may be a trailer (blank or total), kept back until we
// know whether data follows.
func held(rec []string) bool { return blankRow(rec) || isTotalRow(rec) }

func (s *xlsxSource) Close() error { return s.rows.Close() }

// excelDate is the Excel serial number of an ISO date (1900 date system).
func excelDate(iso string) (float64, error) {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return 0, err
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	return t.Sub(base).Hours() / 24, nil
}
