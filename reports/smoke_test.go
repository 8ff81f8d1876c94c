package reports

import "testing"

func TestSmoke(t *testing.T) {
	db := openFixture(t)
	res, dir := buildFixture(t, db, Options{})
	t.Logf("%+v", res)
	for _, f := range walkFiles(t, dir) {
		t.Log(f)
	}
}
