package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// Error is an ingest error with its location: the file, and when known the
// line (1-based, header = its own line) and column of the source file.
type Error struct {
	File   string
	Line   int64  // 0 = the whole file
	Column string // source column name, empty when not about one column
	Value  string // offending value, when there is one
	Reason string
	Err    error // underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": value %q", e.Value)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrRefused is wrapped by the error of a file refused whole because its
// share of rejected rows is above Options.MaxRejectShare.
var ErrRefused = errors.New("too many rejected rows: file refused")

// ErrUnknownLayout is wrapped by the error of a file no profile matches.
var ErrUnknownLayout = errors.New("unknown layout")

func fileErr(path, reason string, err error) *Error {
	return &Error{File: path, Reason: reason, Err: err}
}
