package analyst

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// script is a LineReader that replays lines (ErrInterrupt for "^C").
type script struct {
	lines   []string
	prompts []string
	history []string
}

func (s *script) Readline() (string, error) {
	if len(s.lines) == 0 {
		return "", io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	if l == "^C" {
		return "", ErrInterrupt
	}
	return l, nil
}

func (s *script) SetPrompt(p string)         { s.prompts = append(s.prompts, p) }
func (s *script) SaveHistory(h string) error { s.history = append(s.history, h); return nil }

func TestShell(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 10*time.Second)
	in := &script{lines: []string{
		".help",
		"SELECT code, name",
		"  FROM ref.territory -- communes only",
		"  WHERE level = 'commune' AND name <> 'a;b'",
		"  ORDER BY code;",
		"SELECT 'interrupted",
		"^C",
		"SELECT nope FROM mart.indicator;",
		".tables ref.*",
		".schema mart.indicator_catalog",
		".format csv",
		"SELECT 1 AS a; SELECT 2 AS b;",
		".format parquet",
		".maxrows 2",
		".format table",
		"SELECT range FROM range(5);",
		"COPY mart.indicator TO '/tmp/x.csv';",
		".schema nothing_here",
		".frobnicate",
		".quit",
		"SELECT 'never run';",
	}}
	var out bytes.Buffer
	sh := &Shell{Session: s, In: in, Out: &out, MaxRows: 100}
	if err := sh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"observatoire sql: read-only snapshot " + snap + ", published ",
		".tables [PATTERN]",
		" code  | name\n-------+---------------\n 35047 | Bruz\n 35051 | Cesson-Sévigné\n 35238 | Rennes\n(3 rows)\n",
		`Error: Binder Error: Referenced column "nope" not found`,
		"ref.commune_territory  table, 18 rows",
		"ref.territory          table, 10 rows  Territoires : communes, EPCI, aires de RPE, départements, régions, France",
		"mart.indicator_catalog (table, 9 rows)\n  Catalogue des indicateurs : libellés et définitions en français\n  indicator    VARCHAR\n",
		"a\n1\nb\n2\n",
		"Error: parquet is written to a file",
		"(2 of 5 rows shown: the output is truncated; .maxrows N shows more)",
		"Error: " + SandboxPrefix + reasonFiles,
		`Error: no table matches "nothing_here"`,
		"Error: unknown command .frobnicate",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "never run") || strings.Contains(got, "interrupted") {
		t.Error("ran a statement it should not have")
	}
	wantHistory := []string{
		".help",
		"SELECT code, name FROM ref.territory WHERE level = 'commune' AND name <> 'a;b' ORDER BY code;",
		"SELECT nope FROM mart.indicator;",
		".tables ref.*", ".schema mart.indicator_catalog", ".format csv",
		"SELECT 1 AS a; SELECT 2 AS b;",
		".format parquet", ".maxrows 2", ".format table",
		"SELECT range FROM range(5);",
		"COPY mart.indicator TO '/tmp/x.csv';",
		".schema nothing_here", ".frobnicate", ".quit",
	}
	if d := cmp.Diff(wantHistory, in.history); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	// Continuation prompts while a statement is open.
	if d := cmp.Diff([]string{prompt, prompt, continuePrompt, continuePrompt, continuePrompt, prompt, continuePrompt}, in.prompts[:7]); d != "" {
		t.Errorf("prompts (-want +got):\n%s", d)
	}
	if out.String() == "" || t.Failed() {
		t.Log(got)
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		rest string
	}{
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, ""},
		{"SELECT 'a;b'; SELECT \"c;d\" FROM t", []string{"SELECT 'a;b'"}, " SELECT \"c;d\" FROM t"},
		{"SELECT 'it''s; fine';", []string{"SELECT 'it''s; fine'"}, ""},
		{"SELECT E'\\'; still';", []string{"SELECT E'\\'; still'"}, ""},
		{"-- a comment; not a statement\nSELECT 1;", []string{"-- a comment; not a statement\nSELECT 1"}, ""},
		{"/* one; /* nested; */ two; */ SELECT 1;", []string{"/* one; /* nested; */ two; */ SELECT 1"}, ""},
		{"SELECT $$a;b$$, $tag$c;$tag$; SELECT $1;", []string{"SELECT $$a;b$$, $tag$c;$tag$", "SELECT $1"}, ""},
		{";; -- nothing\n;", nil, ""},
		{"SELECT 'open;", nil, "SELECT 'open;"},
	}
	for _, c := range cases {
		got, rest := Split(c.in)
		if !cmp.Equal(c.want, got) || rest != c.rest {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", c.in, got, rest, c.want, c.rest)
		}
	}
	if !Unterminated("SELECT 'open") || !Unterminated("/* open") || Unterminated("SELECT 1 -- done") {
		t.Error("Unterminated")
	}
	if got := Statements("SELECT 1; SELECT 2 -- last, no semicolon\n"); len(got) != 2 {
		t.Errorf("Statements: %q", got)
	}
	if got := oneLine("SELECT a, -- why\n  'x--y'\nFROM t"); got != "SELECT a, 'x--y' FROM t" {
		t.Errorf("oneLine: %q", got)
	}
}
