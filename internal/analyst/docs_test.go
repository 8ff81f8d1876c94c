package analyst

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"time"
)

// docExamples returns the sql blocks of the "Example queries" section of
// docs/analyst.md.
func docExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/analyst.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Example queries")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/analyst.md has no Example queries section")
	}
	var blocks []string
	for _, part := range strings.Split(doc[start:start+1+end], "```sql\n")[1:] {
		code, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatal("unterminated sql block")
		}
		blocks = append(blocks, code)
	}
	return blocks
}

// Every example query of docs/analyst.md runs in the sandbox and returns rows.
func TestDocExamples(t *testing.T) {
	snap, _ := fixtureSnapshot(t)
	s := openSession(t, snap, 30*time.Second)
	blocks := docExamples(t)
	if len(blocks) < 3 {
		t.Fatalf("only %d example queries", len(blocks))
	}
	for i, q := range blocks {
		var buf bytes.Buffer
		if err := s.Run(context.Background(), q, Output{Format: FormatCSV, W: &buf}); err != nil {
			t.Errorf("example %d: %v\n%s", i+1, err, q)
			continue
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Errorf("example %d returned no rows (%v)\n%s", i+1, err, q)
			continue
		}
		if testing.Verbose() {
			t.Logf("example %d: %d rows, first %v", i+1, len(rows)-1, rows[:2])
		}
	}
}
