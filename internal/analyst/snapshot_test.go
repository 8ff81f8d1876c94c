package analyst

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func TestPublish(t *testing.T) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	snap := filepath.Join(dir, "var", "snapshot.duckdb")
	// A crash left half a copy behind: it is replaced.
	os.MkdirAll(filepath.Dir(snap), 0o755)
	os.WriteFile(snap+".tmp", []byte("garbage"), 0o644)
	excl, err := ParsePatterns(DefaultExclude)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 6, 4, 0, 0, time.UTC)
	res, err := Publish(context.Background(), db, PublishOptions{
		Path: snap, Exclude: excl, Job: "transform", Now: func() time.Time { return at },
		Descriptions: map[string]string{
			"mart.indicator.code":      "code du territoire",              // no comment yet: applied
			"mart.indicator.value":     "ne remplace pas le commentaire",  // has one: kept
			"ref.commune_territory":    "territoires de chaque commune",   // table comment
			"mart.nothing":             "ignoré : pas de table de ce nom", // no such table
			"mart.published_indicator": "indicateurs publiables, petits effectifs masqués",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Emptied != 2 || res.Tables < 4 || res.Rows == 0 || res.Bytes == 0 {
		t.Errorf("result: %+v", res)
	}
	for _, leftover := range []string{snap + ".tmp", snap + ".tmp.wal", snap + ".wal"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s left behind", leftover)
		}
	}
	s := openSession(t, snap, 10*time.Second)
	if s.Info.Job != "transform" || !s.Info.PublishedAt.Equal(at) || !cmp.Equal(s.Info.Excluded, []string{"meta.quarantine", "raw.am_register"}) {
		t.Errorf("info: %+v", s.Info)
	}
	checks := []struct{ query, want string }{
		// Data copied, excluded tables present but empty.
		{"SELECT count(*) > 1000 FROM mart.indicator", "true"},
		{"SELECT count(*) FROM raw.am_register", "0"},
		{"SELECT count(*) FROM meta.quarantine", "0"},
		{"SELECT count(*) FROM ref.territory", "10"},
		// Views, macros and comments come along.
		{"SELECT count(*) > 0 FROM mart.indicator_year", "true"},
		{"SELECT bool_or(masked) FROM mart.published_indicator(5)", "true"},
		{"SELECT comment FROM duckdb_tables() WHERE table_name = 'indicator'", "Table longue des indicateurs : une ligne par territoire, période et indicateur"},
		{"SELECT comment FROM duckdb_views() WHERE view_name = 'indicator_year'", "Indicateurs annuels (vue)"},
		{"SELECT comment FROM duckdb_columns() WHERE table_name = 'indicator' AND column_name = 'value'", "valeur exacte"},
		{"SELECT comment FROM duckdb_columns() WHERE table_name = 'indicator' AND column_name = 'code'", "code du territoire"},
		{"SELECT comment FROM duckdb_tables() WHERE table_name = 'commune_territory'", "territoires de chaque commune"},
		{"SELECT comment FROM duckdb_functions() WHERE function_name = 'published_indicator'", "indicateurs publiables, petits effectifs masqués"},
	}
	for _, c := range checks {
		got := queryStrings(t, s.Conn(), c.query)
		if len(got) != 1 || got[0][0] != c.want {
			t.Errorf("%s: got %v, want %s", c.query, got, c.want)
		}
	}
	// The excluded rows are not in the file at all, not even in free blocks.
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("Jeanne Martin")) {
		t.Error("the quarantined value is in the snapshot file")
	}
}

func TestParsePatterns(t *testing.T) {
	got, err := ParsePatterns(" raw.* , META.quarantine*,,")
	if err != nil || !cmp.Equal(got, []string{"raw.*", "meta.quarantine*"}) {
		t.Errorf("%v %v", got, err)
	}
	if _, err := ParsePatterns("quarantine"); err == nil {
		t.Error("a pattern without schema accepted")
	}
	if got, _ := ParsePatterns(""); got != nil {
		t.Errorf("empty: %v", got)
	}
}

// A new publication replaces the snapshot atomically: a session already open
// keeps reading the file it opened, a new session sees the new data.
func TestRepublishWhileReading(t *testing.T) {
	snap, db := fixtureSnapshot(t)
	old := openSession(t, snap, 10*time.Second)
	if _, err := db.Exec(`DELETE FROM mart.indicator WHERE level = 'commune'`); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(context.Background(), db, PublishOptions{Path: snap, Job: "run"}); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT count(*) FROM mart.indicator WHERE level = 'commune'"
	if got := queryStrings(t, old.Conn(), q); got[0][0] == "0" {
		t.Error("the open session lost its data")
	}
	fresh := openSession(t, snap, 10*time.Second)
	if got := queryStrings(t, fresh.Conn(), q); got[0][0] != "0" {
		t.Errorf("the new session reads the old snapshot: %v", got)
	}
	if len(fresh.Info.Excluded) != 0 {
		t.Errorf("no exclusion asked: %v", fresh.Info.Excluded)
	}
}

func TestNoSnapshotYet(t *testing.T) {
	_, err := Open(context.Background(), Options{Snapshot: filepath.Join(t.TempDir(), "none.duckdb")})
	if !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "observatoire snapshot") {
		t.Errorf("got %v", err)
	}
}

// writerHelperEnv makes the test binary act as a pipeline process: it opens
// the warehouse for writing, starts a long write transaction and holds it
// until its standard input closes.
const writerHelperEnv = "OBSERVATOIRE_ANALYST_TEST_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerHelperEnv); path != "" {
		os.Exit(holdWarehouse(path))
	}
	os.Exit(m.Run())
}

func holdWarehouse(path string) int {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 2})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer tx.Rollback()
	// A big uncommitted rewrite of the indicators, as a transform does.
	for _, q := range []string{
		`DELETE FROM mart.indicator`,
		`INSERT INTO mart.indicator (level, code, period_kind, period, indicator, value, n)
		 SELECT 'commune', 'C' || (i % 35000), 'month', '2025-01', 'coverage_rate', i, i FROM range(500000) r(i)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			fmt.Println("error:", err)
			return 1
		}
	}
	fmt.Println("holding")
	bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
	return 0
}

// The pipeline holds the warehouse (another process, a long write
// transaction in progress): the live warehouse cannot even be opened
// read-only, while the snapshot answers at once.
func TestSnapshotQueryableWhileWriterHoldsWarehouse(t *testing.T) {
	dir := t.TempDir()
	db, live := newWarehouse(t, dir)
	snap := filepath.Join(dir, "snapshot.duckdb")
	if _, err := Publish(context.Background(), db, PublishOptions{Path: snap, Job: "run"}); err != nil {
		t.Fatal(err)
	}
	db.Close() // hand the warehouse to the "pipeline" process

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerHelperEnv+"="+live)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "holding" {
		t.Fatalf("writer process: %q %v", line, err)
	}

	// The live warehouse is out of reach...
	if ro, err := warehouse.Open(context.Background(), warehouse.Options{Path: live, ReadOnly: true}); err == nil {
		ro.Close()
		t.Fatal("the live warehouse opened while another process writes it: this test shows nothing")
	} else if !errors.Is(err, warehouse.ErrLocked) {
		t.Logf("opening the live warehouse: %v", err)
	}
	// ...the snapshot is not, and has the last published data.
	for i := 0; i < 3; i++ {
		start := time.Now()
		s, err := Open(context.Background(), Options{Snapshot: snap, QueryTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		err = s.Run(context.Background(), "SELECT count(DISTINCT level) AS levels FROM mart.indicator", Output{Format: FormatCSV, W: &buf})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if buf.String() != "levels\n6\n" {
			t.Errorf("snapshot content: %q", buf.String())
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the snapshot took %s to answer while the pipeline writes", d)
		}
	}
}
