package analyst

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
)

// ErrInterrupt is returned by a LineReader when Ctrl-C is pressed at the
// prompt: the statement being typed is dropped.
var ErrInterrupt = errors.New("interrupt")

// LineReader is what the shell reads from: readline on a terminal, a script in
// tests. Readline returns io.EOF at the end (Ctrl-D).
type LineReader interface {
	Readline() (string, error)
	SetPrompt(string)
	SaveHistory(string) error
}

// Shell is the interactive SQL shell on a session.
type Shell struct {
	Session *Session
	In      LineReader
	Out     io.Writer
	Format  Format // table, csv or json
	MaxRows int
	// Interrupts receives a value for each Ctrl-C pressed while a statement
	// runs (the terminal is out of raw mode then, so it is a SIGINT); the
	// statement is cancelled and the shell goes on. Nil: none.
	Interrupts <-chan struct{}
}

const (
	prompt         = "sql> "
	continuePrompt = "  -> "
)

// ShellHelp is the text of .help.
const ShellHelp = `Statements end with ';' and may span several lines. Ctrl-C drops the
statement being typed or cancels the running one; Ctrl-D or .quit leaves.

  .tables [PATTERN]   tables, views and macros with their description
  .schema NAME        columns of a table or view (NAME may be schema.name or a pattern)
  .indicators         the indicator catalog (mart.indicator_catalog)
  .format FORMAT      table, csv or json
  .maxrows N          rows shown by the table format (0 = all)
  .timeout DURATION   per-statement timeout, e.g. 2m (0 = none)
  .info               which snapshot this is
  .help               this text
  .quit               leave

The snapshot is read-only and sandboxed: no files, no ATTACH, no settings.
CREATE TEMP TABLE / TEMP VIEW keep intermediate results for the session.
To save a result, run 'observatoire sql --format csv|json|parquet|xlsx --out FILE'.
`

// Run reads and runs statements until .quit or the end of input.
func (sh *Shell) Run(ctx context.Context) error {
	if sh.Format == "" {
		sh.Format = FormatTable
	}
	fmt.Fprintf(sh.Out, "observatoire sql: %s\nStatements end with ';'. .help lists the commands, .quit leaves.\n", sh.Session.Info.Describe())
	var buf strings.Builder
	for {
		if buf.Len() == 0 {
			sh.In.SetPrompt(prompt)
		} else {
			sh.In.SetPrompt(continuePrompt)
		}
		line, err := sh.In.Readline()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, ErrInterrupt):
			buf.Reset()
			continue
		case errors.Is(err, io.EOF):
			if !Blank(buf.String()) {
				fmt.Fprintln(sh.Out, "(unfinished statement dropped: end it with ';')")
			}
			return nil
		case err != nil:
			return err
		}
		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), ".") {
			_ = sh.In.SaveHistory(strings.TrimSpace(line))
			if quit := sh.dot(ctx, strings.TrimSpace(line)); quit {
				return nil
			}
			continue
		}
		buf.WriteString(line)
		buf.WriteString("\n")
		stmts, rest := Split(buf.String())
		if len(stmts) == 0 {
			if Blank(buf.String()) && !Unterminated(buf.String()) {
				buf.Reset()
			}
			continue
		}
		done := buf.String()[:buf.Len()-len(rest)]
		_ = sh.In.SaveHistory(oneLine(done))
		for _, st := range stmts {
			sh.exec(ctx, st)
		}
		buf.Reset()
		if !Blank(rest) {
			buf.WriteString(strings.TrimLeft(rest, " \t\r\n"))
		}
	}
}

func (sh *Shell) exec(ctx context.Context, stmt string) {
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for drained := false; !drained && sh.Interrupts != nil; { // a stale Ctrl-C is not for this statement
		select {
		case <-sh.Interrupts:
		default:
			drained = true
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	if sh.Interrupts != nil {
		go func() {
			select {
			case <-sh.Interrupts:
				cancel()
			case <-stop:
			}
		}()
	}
	err := sh.Session.Run(qctx, stmt, Output{Format: sh.Format, W: sh.Out, MaxRows: sh.MaxRows, More: ".maxrows N shows more"})
	if err != nil {
		fmt.Fprintf(sh.Out, "Error: %v\n", err)
	}
}

// dot runs a dot command and reports whether the shell should stop.
func (sh *Shell) dot(ctx context.Context, line string) bool {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	fail := func(format string, args ...any) { fmt.Fprintf(sh.Out, "Error: "+format+"\n", args...) }
	switch strings.ToLower(cmd) {
	case ".quit", ".exit", ".q":
		return true
	case ".help", ".h":
		io.WriteString(sh.Out, ShellHelp)
	case ".tables":
		rels, err := Describe(ctx, sh.Session.Conn(), arg)
		if err != nil {
			fail("%v", err)
			break
		}
		if len(rels) == 0 {
			fail("no table matches %q", arg)
			break
		}
		WriteTables(sh.Out, rels)
	case ".schema":
		if arg == "" {
			fail(".schema needs a table name, e.g. .schema mart.indicator (.tables lists them)")
			break
		}
		rels, err := Describe(ctx, sh.Session.Conn(), arg)
		if err != nil {
			fail("%v", err)
			break
		}
		if len(rels) == 0 {
			fail("no table matches %q (.tables lists them)", arg)
			break
		}
		WriteSchema(sh.Out, rels)
	case ".indicators":
		cat, err := Catalog(ctx, sh.Session.Conn())
		if err != nil {
			fail("%v", err)
			break
		}
		if len(cat) == 0 {
			fail("this snapshot has no indicator catalog (mart.indicator_catalog)")
			break
		}
		WriteCatalog(sh.Out, cat)
	case ".format", ".mode":
		f, err := ParseFormat(arg)
		if err == nil && f.Binary() {
			err = fmt.Errorf("%s is written to a file: run 'observatoire sql --format %s --out FILE \"...\"'", f, f)
		}
		if err != nil {
			fail("%v", err)
			break
		}
		sh.Format = f
	case ".maxrows":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			fail(".maxrows wants a number of rows (0 = all)")
			break
		}
		sh.MaxRows = n
	case ".timeout":
		d, err := time.ParseDuration(arg)
		if arg == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			fail(".timeout wants a duration such as 30s or 5m (0 = none)")
			break
		}
		sh.Session.SetTimeout(d)
	case ".info":
		fmt.Fprintln(sh.Out, sh.Session.Info.Describe())
	default:
		fail("unknown command %s (.help lists them)", cmd)
	}
	return false
}

// Describe says which snapshot this is, in one line.
func (i SnapshotInfo) Describe() string {
	s := "read-only snapshot " + i.Path
	if !i.PublishedAt.IsZero() {
		s += ", published " + i.PublishedAt.Local().Format("2006-01-02 15:04")
		if i.Job != "" {
			s += " after '" + i.Job + "'"
		}
	}
	if len(i.Excluded) > 0 {
		s += fmt.Sprintf(" (%d tables copied empty: %s)", len(i.Excluded), summarize(i.Excluded, 4))
	}
	return s
}

func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(", and %d more", len(items)-n)
}

// oneLine turns a multi-line statement into one history line: line comments
// dropped (they would swallow the rest), line breaks made spaces.
func oneLine(stmt string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(stmt) && stmt[i+1] == '-':
			for i < len(stmt) && stmt[i] != '\n' {
				i++
			}
			c = ' '
		}
		if c == '\n' || c == '\r' {
			c = ' '
		}
		b.WriteByte(c)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Terminal is the LineReader of a real terminal: line editing, a history
// file (one entry per statement, multi-line statements on one line), Ctrl-C.
type Terminal struct{ rl *readline.Instance }

// NewTerminal opens the terminal; historyFile "" keeps no history.
func NewTerminal(historyFile string) (*Terminal, error) {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 prompt,
		HistoryFile:            historyFile,
		HistoryLimit:           2000,
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		InterruptPrompt:        "^C",
		EOFPrompt:              ".quit",
	})
	if err != nil {
		return nil, err
	}
	return &Terminal{rl: rl}, nil
}

// Readline reads one line.
func (t *Terminal) Readline() (string, error) {
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return line, ErrInterrupt
	}
	return line, err
}

// SetPrompt sets the prompt.
func (t *Terminal) SetPrompt(p string) { t.rl.SetPrompt(p) }

// SaveHistory appends an entry to the history (and its file).
func (t *Terminal) SaveHistory(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return t.rl.SaveHistory(s)
}

// Stdout is where output goes without garbling the prompt.
func (t *Terminal) Stdout() io.Writer { return t.rl.Stdout() }

// Close restores the terminal.
func (t *Terminal) Close() error { return t.rl.Close() }
