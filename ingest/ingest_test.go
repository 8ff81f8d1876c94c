package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func count(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

const popHeader = "code_commune;annee;enfants_0_2;naissances\n"

func TestIdempotenceAndReplacement(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	dir := t.TempDir()
	opt := Options{Secret: testSecret}
	p1 := writeFile(t, dir, "a/population_35_2024.csv", popHeader+"35238;2024;100;10\n35001;2024;5;1\n")

	res, err := Files(ctx, db, []string{p1}, opt)
	if err != nil || res.Files[0].Status != StatusLoaded {
		t.Fatalf("first load: %v %+v", err, res.Files)
	}
	if len(res.Months) != 12 || !res.Months[0].Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("months %v", res.Months)
	}
	first := res.Files[0].FileID

	// the same content again, even under another name: unchanged
	p1b := writeFile(t, dir, "b/population_35_2024.csv", popHeader+"35238;2024;100;10\n35001;2024;5;1\n")
	res, err = Files(ctx, db, []string{p1, p1b}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Status != StatusUnchanged || f.FileID != first || f.Read != 2 {
			t.Errorf("second load: %+v", f)
		}
	}
	if len(res.Months) != 0 {
		t.Errorf("unchanged files touch no month: %v", res.Months)
	}
	if n := count(t, db, "SELECT count(*) FROM raw.population"); n != 2 {
		t.Errorf("%d rows after reload, want 2", n)
	}

	// a corrected export for the same source, sender and period replaces it
	p2 := writeFile(t, dir, "c/population_35_2024.csv", popHeader+"35238;2024;101;11\n")
	res, err = Files(ctx, db, []string{p2}, opt)
	if err != nil || res.Files[0].Status != StatusReplaced {
		t.Fatalf("correction: %v %+v", err, res.Files)
	}
	second := res.Files[0].FileID
	if d := cmp.Diff([]int64{first}, res.Files[0].Replaced); d != "" {
		t.Error(d)
	}
	if n := count(t, db, "SELECT count(*) FROM raw.population WHERE file_id = ?", first); n != 0 {
		t.Errorf("%d rows of the replaced file remain", n)
	}
	if n := count(t, db, "SELECT count(*) FROM raw.population WHERE file_id = ? AND children_0_2 = 101", second); n != 1 {
		t.Errorf("corrected rows: %d", n)
	}
	if n := count(t, db, "SELECT count(*) FROM meta.file_ledger WHERE file_id = ? AND replaced_by = ?", first, second); n != 1 {
		t.Error("replaced_by not set")
	}
	// another period does not replace
	p3 := writeFile(t, dir, "population_35_2025.csv", popHeader+"35238;2025;90;9\n")
	res, _ = Files(ctx, db, []string{p3}, opt)
	if res.Files[0].Status != StatusLoaded {
		t.Errorf("other period: %+v", res.Files[0])
	}
	// the first content again is the latest arrival: it replaces the correction
	res, _ = Files(ctx, db, []string{p1}, opt)
	if res.Files[0].Status != StatusReplaced || res.Files[0].Replaced[0] != second {
		t.Errorf("old content again: %+v", res.Files[0])
	}
	if n := count(t, db, "SELECT count(*) FROM raw.population WHERE year = 2024"); n != 2 {
		t.Errorf("%d rows for 2024", n)
	}
}

func TestOneFileOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "population_35_2024.csv", popHeader+"35238;2024;100;10\n")
	// a failure at the last moment, after rows, quarantine and ledger were written
	testHookBeforeCommit = func(string) error { return errors.New("disk full") }
	res, err := Files(ctx, db, []string{good}, Options{Secret: testSecret})
	testHookBeforeCommit = nil
	if err == nil || res.Files[0].Status != StatusFailed {
		t.Fatalf("want a failure, got %v %+v", err, res.Files)
	}
	// a reader failure midway: the fourth JSON record is broken
	bad := writeFile(t, dir, "demandes_35_2025-05.ndjson",
		`{"id_demande":"D1","rpe":"R","commune":"35238","date_reception":"02/05/2025"}`+"\n"+
			`{"id_demande":"D2","rpe":"R","commune":"35238","date_reception":"02/05/2025"}`+"\n"+
			`{"id_demande":"D3","rpe":"R","commune":"35238","date_reception":"02/05/2025"}`+"\n"+
			`{"id_demande":"D4","rpe":"R","commune":"35238","date_reception":`+"\n")
	res, err = Files(ctx, db, []string{bad}, Options{Secret: testSecret, Source: "family_request"})
	if err == nil || res.Files[0].Status != StatusFailed {
		t.Fatalf("want a failure, got %v %+v", err, res.Files)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 4 {
		t.Errorf("error should name line 4: %v", err)
	}
	for _, c := range contracts {
		if n := count(t, db, "SELECT count(*) FROM "+c.Table); n != 0 {
			t.Errorf("%s: %d rows left by failed loads", c.Table, n)
		}
	}
	for _, tb := range []string{"meta.file_ledger", "meta.quarantine"} {
		if n := count(t, db, "SELECT count(*) FROM "+tb); n != 0 {
			t.Errorf("%s: %d rows left by failed loads", tb, n)
		}
	}
	// and the same file loads afterwards
	res, err = Files(ctx, db, []string{good}, Options{Secret: testSecret})
	if err != nil || res.Files[0].Status != StatusLoaded {
		t.Fatalf("reload: %v %+v", err, res.Files)
	}
}

// TestNoClearIdentifier loads every golden case and the demo layouts and
// looks for the clear identifiers and personal data of the inputs in every
// text column of every table of the warehouse.
func TestNoClearIdentifier(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	cases, _ := os.ReadDir("testdata/golden")
	for _, c := range cases {
		in, gopt, profiles := prepareCase(t, filepath.Join("testdata/golden", c.Name()))
		Files(ctx, db, []string{in}, Options{Secret: testSecret, Source: gopt.Source, Profile: gopt.Profile, Sender: gopt.Sender, Period: gopt.Period, ProfilesDir: profiles, MaxRejectShare: 1})
	}
	secrets := []string{
		"035-2011-000123", "035-2015-000456", "035-2019-000789", "035-2011-000001", "D35-2025-000001", "D35-2025-000002",
		"A-123", "Jean Dupont", "Léa Roux", "0601020304", "06 00 00 00 01", "m@x.fr", "jd@exemple.fr", "1 rue X", "Lefèvre", testSecret,
	}
	rows, err := db.Query(`SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
		WHERE data_type LIKE 'VARCHAR%' AND table_schema IN ('ref', 'raw', 'meta', 'staging', 'mart')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ schema, table, name, typ string }
	var cols []col
	for rows.Next() {
		var c col
		rows.Scan(&c.schema, &c.table, &c.name, &c.typ)
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 20 {
		t.Fatalf("only %d text columns", len(cols))
	}
	if n := count(t, db, "SELECT count(*) FROM raw.am_register"); n < 5 {
		t.Fatalf("only %d AM rows loaded: the test sees nothing", n)
	}
	for _, c := range cols {
		expr := id(c.name)
		if strings.HasSuffix(c.typ, "[]") {
			expr = "array_to_string(" + expr + ", '|')"
		}
		for _, s := range secrets {
			n := count(t, db, "SELECT count(*) FROM "+c.schema+"."+id(c.table)+" WHERE contains(upper("+expr+"), upper(?))", s)
			if n > 0 {
				t.Errorf("%s.%s.%s holds %q (%d rows)", c.schema, c.table, c.name, s, n)
			}
		}
	}
}

// TestPseudonymizer: the readers' pseudonyms are Pseudonym's: 16 hex
// characters, the identifier normalised (spaces, case), the key used.
func TestPseudonymizer(t *testing.T) {
	ps := newPseudonymizer("k")
	for _, in := range []string{"035-2011-000123", " 035-2011-000123 ", "d35-2025-000001", "A 12\t3", "Élodie-9", "", "x"} {
		if got, want := ps.of(in), Pseudonym("k", in); got != want || len(want) != 16 {
			t.Errorf("of(%q) = %q, Pseudonym = %q", in, got, want)
		}
	}
	if Pseudonym("k", "035-2011-000123") != Pseudonym("k", "035-2011-000123 ") || Pseudonym("k", "a") == Pseudonym("l", "a") {
		t.Error("pseudonyms: normalisation or key ignored")
	}
}

func TestSecretRequired(t *testing.T) {
	db := openTestDB(t)
	p := writeFile(t, t.TempDir(), "population_35_2024.csv", popHeader+"35238;2024;1;1\n")
	if _, err := Files(context.Background(), db, []string{p}, Options{}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("no secret: %v", err)
	}
	if res, err := Files(context.Background(), db, []string{p}, Options{Demo: true}); err != nil || res.Files[0].Status != StatusLoaded {
		t.Errorf("demo: %v", err)
	}
}

func TestInbox(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	dir := t.TempDir()
	writeFile(t, dir, "population_35_2024.csv", popHeader+"35238;2024;1;1\n")
	writeFile(t, dir, "population_35_2023.csv", popHeader+"99999;2023;1;1\n") // refused
	writeFile(t, dir, "notes.csv", "a;b\n1;2\n")                              // unknown layout
	writeFile(t, dir, "processed/old.csv", "x")                               // not taken again
	res, err := Inbox(ctx, db, dir, Options{Secret: testSecret})
	if err == nil {
		t.Error("want an error for the refused and failed files")
	}
	if len(res.Files) != 3 {
		t.Fatalf("%d files", len(res.Files))
	}
	for _, want := range []string{"processed/population_35_2024.csv", "processed/old.csv", "rejected/population_35_2023.csv",
		"rejected/population_35_2023.csv.errors.txt", "rejected/notes.csv", "rejected/notes.csv.errors.txt"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("%s: %v", want, err)
		}
	}
	for _, gone := range []string{"population_35_2024.csv", "population_35_2023.csv", "notes.csv"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s still in the inbox", gone)
		}
	}
	// the same content again: unchanged, moved beside the first without overwriting it
	writeFile(t, dir, "population_35_2024.csv", popHeader+"35238;2024;1;1\n")
	res, err = Inbox(ctx, db, dir, Options{Secret: testSecret})
	if err != nil || res.Files[0].Status != StatusUnchanged {
		t.Fatalf("%v %+v", err, res.Files)
	}
	if _, err := os.Stat(filepath.Join(dir, "processed/population_35_2024-2.csv")); err != nil {
		t.Error(err)
	}
	// a dry run moves nothing
	writeFile(t, dir, "population_35_2022.csv", popHeader+"35238;2022;1;1\n")
	res, _ = Inbox(ctx, db, dir, Options{Secret: testSecret, DryRun: true})
	if res.Files[0].Status != StatusDryRun {
		t.Errorf("%+v", res.Files[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "population_35_2022.csv")); err != nil {
		t.Error("dry run moved the file")
	}
}

func TestLoadReference(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	for i := 0; i < 2; i++ { // idempotent
		if err := LoadReference(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	checks := map[string]int64{
		"SELECT count(*) FROM ref.territory WHERE level = 'france'":                                                    1,
		"SELECT count(*) FROM ref.territory WHERE level = 'departement'":                                               101,
		"SELECT count(*) FROM ref.territory WHERE level = 'region'":                                                    18,
		"SELECT count(*) FROM ref.territory WHERE level = 'commune' AND code = '35238' AND parent_level = 'epci'":      1,
		"SELECT count(*) FROM ref.territory WHERE code = '97701' AND parent_code = 'FR'":                               1,
		"SELECT count(*) FROM ref.territory WHERE level = 'epci' AND code = '243500139' AND parent_code = '35'":        1,
		"SELECT count(*) FROM ref.commune_territory WHERE commune = '35238'":                                           5,
		"SELECT count(*) FROM ref.commune_territory WHERE commune = '97701'":                                           2,
		"SELECT count(*) FROM ref.commune_merge WHERE old_code = '01003' AND code = '01165'":                           1,
		"SELECT count(*) FROM (SELECT commune FROM ref.commune_territory GROUP BY commune, level HAVING count(*) > 1)": 0,
		"SELECT count(*) FROM ref.territory WHERE level = 'france' AND population BETWEEN 60000000 AND 70000000":       1,
	}
	for q, want := range checks {
		if got := count(t, db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	// an RPE register adds the RPE areas
	in, _, _ := prepareCase(t, "testdata/golden/demo-layouts")
	if _, err := Files(ctx, db, []string{filepath.Join(in, "registre_rpe_35.xlsx")}, Options{Secret: testSecret, MaxRejectShare: 0.5}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.territory WHERE level = 'rpe' AND parent_code = '35'"); n != 2 {
		t.Errorf("%d RPE territories", n)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.commune_territory WHERE level = 'rpe' AND code = 'RPE035002'"); n != 2 {
		t.Errorf("RPE035002 covers %d communes", n)
	}
	// and LoadReference keeps them
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.territory WHERE level = 'rpe'"); n != 2 {
		t.Errorf("%d RPE territories after LoadReference", n)
	}
}

// TestReferenceVersion: the ref tables are rebuilt when their inputs (the
// embedded COG files, the SQL) changed, not on every ingest.
func TestReferenceVersion(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM ref.territory WHERE code = '35238'"); err != nil {
		t.Fatal(err)
	}
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.territory WHERE code = '35238'"); n != 0 {
		t.Errorf("same version: the tables were rebuilt (%d rows for 35238)", n)
	}
	if _, err := db.Exec("UPDATE meta.ref_version SET version = 'older'"); err != nil {
		t.Fatal(err)
	}
	if err := LoadReference(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.territory WHERE code = '35238'"); n != 1 {
		t.Errorf("new version: %d rows for 35238 after the rebuild, want 1", n)
	}
}

// TestRPERefreshPending: a run that stopped between an RPE register's commit
// and its end-of-run refresh leaves meta.ref_pending; the next run (even one
// with nothing to load) completes the refresh.
func TestRPERefreshPending(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	in, _, _ := prepareCase(t, "testdata/golden/demo-layouts")
	if _, err := Files(ctx, db, []string{filepath.Join(in, "registre_rpe_35.xlsx")}, Options{Secret: testSecret, MaxRejectShare: 0.5}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM meta.ref_pending"); n != 0 {
		t.Errorf("%d pending refreshes after a complete run", n)
	}
	// the state a stopped run leaves: the RPE areas of the register missing
	for _, s := range []string{"DELETE FROM ref.territory WHERE level = 'rpe'", "DELETE FROM ref.commune_territory WHERE level = 'rpe'",
		"INSERT INTO meta.ref_pending SELECT file_id FROM meta.file_ledger WHERE source = 'rpe_register'"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Files(ctx, db, nil, Options{Secret: testSecret}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ref.territory WHERE level = 'rpe' AND parent_code = '35'"); n != 2 {
		t.Errorf("%d RPE territories after the next run, want 2", n)
	}
	if n := count(t, db, "SELECT count(*) FROM meta.ref_pending"); n != 0 {
		t.Errorf("%d pending refreshes after the next run", n)
	}
}

func TestProfiles(t *testing.T) {
	ps, err := Profiles("")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range ps {
		if names[p.Name] {
			t.Errorf("two profiles named %s", p.Name)
		}
		names[p.Name] = true
	}
	for _, c := range contracts {
		found := false
		for _, p := range ps {
			found = found || p.Source == c.Source
		}
		if !found {
			t.Errorf("no built-in profile for %s", c.Source)
		}
	}
	for _, bad := range []struct{ toml, want string }{
		{`name = "x"` + "\n" + `source = "nope"`, "not one of"},
		{`name = "x"` + "\n" + `source = "population"` + "\n[columns]\ncommune = \"c\"\nyear = \"y\"\nfoo = \"f\"", "not a field"},
		{`name = "x"` + "\n" + `source = "population"` + "\n[columns]\ncommune = \"c\"", "required field year"},
		{`name = "x"` + "\n" + `source = "population"` + "\ncolour = 1", "unknown keys"},
		{`name = "x"` + "\n" + `source = "am_register"` + "\n[columns]\nam_id=\"a\"\ncommune=\"c\"\napproval_date=\"d\"\nstatus=\"s\"\nplaces=\"p\"\n[values.status]\n\"actif\" = \"on\"", "code not one of"},
	} {
		if _, err := ParseProfile([]byte(bad.toml), "test"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.toml, err, bad.want)
		}
	}
	if n, ok := nearest("numero_agrment", []string{"numero_agrement", "statut"}); !ok || n != "numero_agrement" {
		t.Errorf("nearest: %q", n)
	}
	if _, ok := nearest("couleur", []string{"numero_agrement", "statut"}); ok {
		t.Error("nearest of an unrelated name")
	}
}

func TestContractDocs(t *testing.T) {
	var b bytes.Buffer
	if err := WriteContractDocs(&b); err != nil {
		t.Fatal(err)
	}
	for _, c := range Contracts() {
		if !strings.Contains(b.String(), "`"+c.Table+"`") {
			t.Errorf("%s missing from the docs", c.Table)
		}
	}
	if *update {
		os.WriteFile("CONTRACTS.md", b.Bytes(), 0o644)
	}
	old, _ := os.ReadFile("CONTRACTS.md")
	if !bytes.Equal(old, b.Bytes()) {
		t.Error("ingest/CONTRACTS.md is out of date: go test -tags duckdb_arrow ./ingest -run TestContractDocs -update")
	}
}

func TestWriteSummary(t *testing.T) {
	r := Result{Files: []FileResult{
		{Path: "a.csv", Source: "population", Profile: "demo-population", Status: StatusLoaded, Read: 10, Accepted: 9, Rejected: 1},
		{Path: "long/name/b.xlsx", Source: "rpe_register", Profile: "demo-rpe-register", Status: StatusRefused, Read: 3, Rejected: 3, Err: errors.New("too many")},
	}}
	var b bytes.Buffer
	r.WriteSummary(&b)
	want := `file              source                            status   read  accepted  rejected
----------------  --------------------------------  -------  ----  --------  --------
a.csv             population (demo-population)      loaded     10         9         1
long/name/b.xlsx  rpe_register (demo-rpe-register)  refused     3         0         3
----------------  --------------------------------  -------  ----  --------  --------
total (2 files)                                                13         9         4

refused: too many
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Error(d)
	}
	if !r.Failed() {
		t.Error("Failed")
	}
}
