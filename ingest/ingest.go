// Package ingest loads source files (CSV, XLSX, JSON, NDJSON) into the raw
// schema of the warehouse: each file is recognised by a mapping profile,
// validated row by row against its source's contract, pseudonymised, and
// loaded in one transaction, or refused whole. See Contracts and
// WriteContractDocs for the contracts, profiles/ for the built-in profiles.
//
// Rules:
//   - One file is one transaction: all of its accepted rows, its quarantined
//     rows, its ledger row and the replacement of an earlier file, or nothing.
//   - read = accepted + rejected, counted in source records (lines of a CSV,
//     rows of a sheet, objects of a JSON file). A rejected record goes to
//     meta.quarantine, one row per faulty cell (file, line, column, value,
//     reason). When rejected/read is above Options.MaxRejectShare the file is
//     refused: nothing of it loads.
//   - Blank rows, title rows above the header and total rows at the bottom
//     ("Total", "Ensemble", "France") are not records.
//   - Ledger: a file whose content (SHA-256) is already loaded and current is
//     "unchanged" and nothing happens. A file whose (source, sender, period)
//     is that of a current earlier file replaces it: the earlier rows are
//     deleted in the same transaction and its replaced_by set.
//   - Personal data: columns named in a profile's drop list are never read
//     into the warehouse; identifiers of people become keyed pseudonyms:
//     the first 16 hex characters of HMAC-SHA256(secret, id), id trimmed,
//     upper-cased and stripped of spaces. The HMAC is computed in Go by the
//     readers, before a record reaches DuckDB; the secret stays in the
//     process memory and is never written anywhere.
package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DemoSecret is the pseudonym key used when Options.Demo is set and no
// secret is given. Never use it for real data.
const DemoSecret = "observatoire-demo-secret-not-for-real-data"

// Options configure a load.
type Options struct {
	Secret         string    // pseudonym key; required unless Demo
	Demo           bool      // allows the built-in demo secret
	MaxRejectShare float64   // default 0.05; a negative value refuses any reject
	DryRun         bool      // validate only: every transaction is rolled back
	Source         string    // force a source (contract) by name
	Profile        string    // force a profile by name
	ProfilesDir    string    // extra user profiles (*.toml), overriding built-ins of the same name
	Period         string    // force the period ("2025-03", "2025") when the file name does not give it
	Sender         string    // force the sender (département, RPE...) when the file name does not give it
	Progress       io.Writer // progress bar target when it is a TTY; nil = none
	NoBatch        bool      // load every file alone (batch.go); for tests and comparisons
	Log            *slog.Logger
}

// Statuses of a file.
const (
	StatusLoaded    = "loaded"
	StatusUnchanged = "unchanged"
	StatusReplaced  = "replaced"
	StatusRefused   = "refused"
	StatusFailed    = "failed"
	StatusDryRun    = "dry-run"
)

// FileResult is what happened to one file.
type FileResult struct {
	Path, Source, Profile, Sender, Period string
	Status                                string // loaded, unchanged, replaced, refused, failed, dry-run
	FileID                                int64  // ledger id (0 when nothing was recorded)
	Read, Accepted, Rejected              int64
	Replaced                              []int64 // ledger ids of the files this one replaced
	Err                                   error
}

// Result is what happened to all files.
type Result struct {
	Files  []FileResult
	Months []time.Time // months touched (first day, UTC), for an incremental transform
	// AllPeriods is set when a file without period (an RPE register) was
	// loaded: every period may be affected.
	AllPeriods bool
}

// Failed reports whether some file was refused or failed.
func (r Result) Failed() bool {
	for _, f := range r.Files {
		if f.Status == StatusFailed || f.Status == StatusRefused {
			return true
		}
	}
	return false
}

// WriteSummary writes an aligned table of the files and the totals.
func (r Result) WriteSummary(w io.Writer) {
	type row [6]string
	rows := []row{{"file", "source", "status", "read", "accepted", "rejected"}}
	var tr, ta, tj int64
	for _, f := range r.Files {
		src := f.Source
		if f.Profile != "" && f.Profile != f.Source {
			src += " (" + f.Profile + ")"
		}
		rows = append(rows, row{f.Path, src, f.Status, fmt.Sprint(f.Read), fmt.Sprint(f.Accepted), fmt.Sprint(f.Rejected)})
		tr += f.Read
		ta += f.Accepted
		tj += f.Rejected
	}
	rows = append(rows, row{fmt.Sprintf("total (%d files)", len(r.Files)), "", "", fmt.Sprint(tr), fmt.Sprint(ta), fmt.Sprint(tj)})
	var width [6]int
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for n, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i >= 3 {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < 5 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 || n == len(rows)-2 {
			var b strings.Builder
			for i := range width {
				b.WriteString(strings.Repeat("-", width[i]))
				if i < 5 {
					b.WriteString("  ")
				}
			}
			fmt.Fprintln(w, b.String())
		}
	}
	for _, f := range r.Files {
		if f.Err != nil {
			fmt.Fprintf(w, "\n%s: %v\n", f.Status, f.Err)
		}
	}
}

// Files loads files; directories are walked (files with extensions csv,
// tsv, txt, xlsx, xlsm, json, ndjson, jsonl; hidden entries skipped). The
// error joins the errors of the files that failed or were refused; Result
// is complete either way.
func Files(ctx context.Context, db *sql.DB, paths []string, opt Options) (Result, error) {
	var list []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return Result{}, err
		}
		if !st.IsDir() {
			list = append(list, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && loadableExt(path) {
				list = append(list, path)
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
	}
	l, err := newLoader(ctx, db, opt)
	if err != nil {
		return Result{}, err
	}
	defer l.close()
	return l.run(ctx, list, nil)
}

func loadableExt(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".ndjson", ".jsonl":
		return true
	}
	return false
}

// Inbox loads the files of dir (not its sub-folders) and moves each one,
// once its transaction has ended, to dir/processed/ (loaded, replaced,
// unchanged) or dir/rejected/ (refused, failed; with a .errors.txt beside
// it saying why). A dry run moves nothing.
func Inbox(ctx context.Context, db *sql.DB, dir string, opt Options) (Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Result{}, err
	}
	var list []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".errors.txt") {
			continue
		}
		list = append(list, filepath.Join(dir, e.Name()))
	}
	sort.Strings(list)
	l, err := newLoader(ctx, db, opt)
	if err != nil {
		return Result{}, err
	}
	defer l.close()
	return l.run(ctx, list, func(fr *FileResult) error {
		if opt.DryRun {
			return nil
		}
		sub := "processed"
		if fr.Status == StatusFailed || fr.Status == StatusRefused {
			sub = "rejected"
		}
		dst, err := moveInto(fr.Path, filepath.Join(dir, sub))
		if err != nil {
			return err
		}
		if sub == "rejected" && fr.Err != nil {
			os.WriteFile(dst+".errors.txt", []byte(fr.Err.Error()+"\n"), 0o644)
		}
		fr.Path = dst
		return nil
	})
}

// moveInto moves a file into dir, never overwriting: name-2.ext, name-3.ext...
func moveInto(path, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	dst := filepath.Join(dir, base)
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = filepath.Join(dir, fmt.Sprintf("%s-%d%s", stem, i, ext))
	}
	return dst, os.Rename(path, dst)
}

// Pseudonym returns the pseudonym ingest gives to a personal identifier
// under a secret (for checks and tests: the warehouse never holds ids).
func Pseudonym(secret, id string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(normID(id)))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

func normID(id string) string {
	return strings.ToUpper(strings.Join(strings.Fields(id), ""))
}
