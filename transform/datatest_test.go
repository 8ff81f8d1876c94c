package transform

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGenericTestsFindFailingRows runs each generic test's query on a small
// table and compares the rows it returns with the ones written to fail it.
func TestGenericTestsFindFailingRows(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	mustExec(t, db, `CREATE SCHEMA staging; CREATE SCHEMA int;
		CREATE TABLE staging.territory (level VARCHAR, code VARCHAR);
		INSERT INTO staging.territory VALUES ('commune', '35001'), ('commune', '35002'), ('epci', '200001');
		CREATE TABLE int.t (id INTEGER, level VARCHAR, code VARCHAR, n INTEGER, kind VARCHAR, ind STRUCT(indicator VARCHAR, n INTEGER)[]);
		INSERT INTO int.t VALUES
			(1, 'commune', '35001', 3, 'a', [{'indicator': 'x', 'n': 1}]),
			(2, 'commune', '200001', 4, 'b', []),        -- code of another level
			(3, 'epci', '200001', -1, 'a', NULL),        -- n out of range
			(4, 'commune', NULL, 2, 'c', NULL),          -- no code: not an orphan; kind not accepted
			(5, 'commune', '99999', 2, NULL, NULL),      -- unknown code
			(5, 'epci', '200001', 2, 'a', NULL)          -- id repeated`)
	for _, tc := range []struct {
		spec string
		want []int
	}{
		{"relationships: code -> staging.territory(code) where r.level = t.level", []int{2, 5}},
		{"relationships: code -> staging.territory(code)", []int{5}},
		{"not_null: code, kind", []int{4, 5}},
		{"range: n 0..3", []int{2, 3}},
		{"accepted_values: kind in ('a', 'b')", []int{4}},
		{"assert: n_small: n < 4", []int{2}},
		{"unique: id", []int{5}},
	} {
		tests, err := parseTest(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		rows, err := db.Query("SELECT id FROM (" + strings.ReplaceAll(tests[0].Query, "{{this}}", "int.t") + ")")
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		var got []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		rows.Close()
		sort.Ints(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: failing ids (-want +got):\n%s", tc.spec, diff)
		}
	}
}
