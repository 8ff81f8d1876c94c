package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const availHeader = "numero_agrement;commune;date_declaration;enfants_accueillis;places_disponibles;date_disponibilite;tranche_age;avant_7h;apres_20h;samedi;dimanche;nuit;periscolaire;mercredi;vacances;handicap;occasionnel\n"

// availFile is a monthly availability export of département dep with n
// records; the records listed in bad carry a fault each.
func availFile(dep string, month, n int, bad map[int]string) string {
	var b strings.Builder
	b.WriteString(availHeader)
	communes := []string{"35238", "35001", "35047", "35024"}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-2010-%06d", dep, month*1000+i)
		commune := communes[i%len(communes)]
		places := fmt.Sprint(i % 3)
		date := fmt.Sprintf("%02d/%02d/2023", 1+i%28, 1+month%12)
		switch bad[i] {
		case "commune":
			commune = "99999"
		case "places":
			places = "-2"
		case "date":
			date = "31/02/2023"
		}
		fmt.Fprintf(&b, "%s;%s;%s;3;%s;;18 mois - 3 ans;non;oui;non;non;non;oui;non;oui;non;non\n", id, commune, date, places)
	}
	return b.String()
}

type batchDump struct {
	Raw        []map[string]any
	Quarantine []map[string]any
	Ledger     []map[string]any
	Files      []string
}

// TestBatchEqualsOneByOne: files loaded in batches give exactly the rows,
// lines, quarantine, ledger and statuses of the same files loaded one by
// one, a refused file in the middle of a batch included.
func TestBatchEqualsOneByOne(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for m := 1; m <= 3; m++ {
		for _, dep := range []string{"35", "22", "29"} {
			bad := map[int]string{}
			switch {
			case dep == "22" && m == 2: // refused: 4 of 10 records rejected
				bad = map[int]string{1: "commune", 3: "places", 5: "date", 7: "commune"}
			case dep == "29":
				bad = map[int]string{m: "commune", 10 + m: "places"}
			}
			n := 10
			if dep != "22" {
				n = 40 + m
			}
			paths = append(paths, writeFile(t, dir, fmt.Sprintf("disponibilites_%s_2024-%02d.csv", dep, m), availFile(dep, m, n, bad)))
		}
	}
	// a correction of a file of the same batch: it replaces the earlier one
	paths = append(paths, writeFile(t, filepath.Join(dir, "v2"), "disponibilites_35_2024-01.csv", availFile("35", 1, 45, nil)))

	run := func(noBatch bool) batchDump {
		db := openTestDB(t)
		res, err := Files(ctx, db, paths, Options{Secret: testSecret, MaxRejectShare: 0.2, NoBatch: noBatch})
		if err == nil || !errors.Is(err, ErrRefused) {
			t.Fatalf("noBatch=%v: want the refusal of one file, got %v", noBatch, err)
		}
		var d batchDump
		for _, f := range res.Files {
			d.Files = append(d.Files, fmt.Sprintf("%s %s id=%d read=%d ok=%d rej=%d replaced=%v", filepath.Base(f.Path), f.Status, f.FileID, f.Read, f.Accepted, f.Rejected, f.Replaced))
		}
		d.Raw = queryJSON(t, db, "SELECT CAST(to_json(r) AS VARCHAR) FROM raw.availability r ORDER BY file_id, line")
		d.Quarantine = queryJSON(t, db, "SELECT CAST(to_json(q) AS VARCHAR) FROM (SELECT * FROM meta.quarantine ORDER BY ALL) q")
		d.Ledger = queryJSON(t, db, "SELECT CAST(to_json(l) AS VARCHAR) FROM (SELECT file_id, sha256, source, sender, period, rows_read, rows_loaded, rows_rejected, replaced_by FROM meta.file_ledger ORDER BY file_id) l")
		return d
	}
	one, batched := run(true), run(false)
	if diff := cmp.Diff(one, batched); diff != "" {
		t.Errorf("batched load differs from one by one (-one +batched):\n%s", diff)
	}
	// and what they agree on is right
	if len(one.Files) != 10 || !strings.Contains(one.Files[4], "refused") || !strings.Contains(one.Files[9], "replaced") {
		t.Errorf("statuses:\n%s", strings.Join(one.Files, "\n"))
	}
	var rows, rejected int
	for _, f := range batched.Files {
		var read, ok, rej int
		fmt.Sscanf(f[strings.Index(f, "read="):], "read=%d ok=%d rej=%d", &read, &ok, &rej)
		if read != ok+rej {
			t.Errorf("read != accepted + rejected: %s", f)
		}
	}
	rows = len(batched.Raw)
	rejected = len(batched.Quarantine)
	// 35: 41+42+43 then 41 replaced by 45; 22: 10+10 (month 2 refused); 29: 41+42+43 minus 2 each
	if want := (45 + 42 + 43) + (10 + 10) + (41 + 42 + 43 - 6); rows != want {
		t.Errorf("%d rows loaded, want %d", rows, want)
	}
	if rejected != 6 {
		t.Errorf("%d quarantine rows, want 6 (the refused file's are not kept)", rejected)
	}
	for _, q := range batched.Quarantine {
		// line = record index + 2 (header on line 1)
		if l := q["line"].(float64); l != 3 && l != 4 && l != 5 && l != 13 && l != 14 && l != 15 {
			t.Errorf("quarantine line %v: %v", l, q)
		}
	}
}

// TestBatchFallsBackToOneByOne: when a batch cannot commit, its files load
// one by one, each in its own transaction: one failing file does not take
// the others down.
func TestBatchFallsBackToOneByOne(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for m := 1; m <= 4; m++ {
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("disponibilites_35_2024-%02d.csv", m), availFile("35", m, 20, nil)))
	}
	testHookBeforeCommit = func(path string) error {
		if strings.HasSuffix(path, "2024-03.csv") {
			return errors.New("disk full (test)")
		}
		return nil
	}
	defer func() { testHookBeforeCommit = nil }()
	db := openTestDB(t)
	res, err := Files(ctx, db, paths, Options{Secret: testSecret})
	if err == nil {
		t.Fatal("want the failure of one file")
	}
	var got []string
	for _, f := range res.Files {
		got = append(got, filepath.Base(f.Path)+" "+f.Status)
	}
	want := []string{"disponibilites_35_2024-01.csv loaded", "disponibilites_35_2024-02.csv loaded", "disponibilites_35_2024-03.csv failed", "disponibilites_35_2024-04.csv loaded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := count(t, db, "SELECT count(*) FROM raw.availability"); n != 60 {
		t.Errorf("%d rows, want 60 (3 files of 20)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM raw.availability WHERE month = DATE '2024-03-01'"); n != 0 {
		t.Errorf("%d rows of the failed file", n)
	}
	if n := count(t, db, "SELECT count(*) FROM meta.file_ledger"); n != 3 {
		t.Errorf("%d ledger rows, want 3", n)
	}
}

// TestBatchAfterGoReader: a file the Go reader takes (quotes) between plain
// files leaves nothing behind: the plain files after it still load in a
// batch through read_csv. (Its temp table _src once survived the clean-up
// and sent every later file to the slow path.)
func TestBatchAfterGoReader(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for m := 1; m <= 5; m++ {
		content := availFile("35", m, 20, nil)
		if m == 2 {
			content = strings.Replace(content, ";18 mois - 3 ans;", `;"18 mois - 3 ans";`, 1)
		}
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("disponibilites_35_2024-%02d.csv", m), content))
	}
	var batches []int
	testHookBatch = func(n int) { batches = append(batches, n) }
	defer func() { testHookBatch = nil }()
	db := openTestDB(t)
	res, err := Files(ctx, db, paths, Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Status != StatusLoaded || f.Read != 20 {
			t.Errorf("%s: %s, %d read", filepath.Base(f.Path), f.Status, f.Read)
		}
	}
	if diff := cmp.Diff([]int{1, 3}, batches); diff != "" {
		t.Errorf("batches (-want +got): %s (file 1 alone in a batch of one, file 2 by the Go reader, files 3-5 in one batch)", diff)
	}
}

// TestInboxCancelLeavesFiles: files stopped by a cancellation (SIGTERM)
// stay in the inbox for the next run; none is moved to rejected/.
func TestInboxCancelLeavesFiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	for m := 1; m <= 4; m++ {
		writeFile(t, dir, fmt.Sprintf("disponibilites_35_2024-%02d.csv", m), availFile("35", m, 20, nil))
	}
	testHookBeforeCommit = func(string) error {
		cancel()
		return context.Canceled
	}
	defer func() { testHookBeforeCommit = nil }()
	db := openTestDB(t)
	if _, err := Inbox(ctx, db, dir, Options{Secret: testSecret}); err == nil {
		t.Fatal("want the cancellation")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	rejected, _ := filepath.Glob(filepath.Join(dir, "rejected", "*"))
	if len(left) != 4 || len(rejected) != 0 {
		t.Errorf("%d files left in the inbox (want 4), %d rejected (want 0)", len(left), len(rejected))
	}
	if n := count(t, db, "SELECT count(*) FROM raw.availability"); n != 0 {
		t.Errorf("%d rows loaded", n)
	}
}
