package reports

import (
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	db := openFixture(t)
	opt := Options{OutDir: os.Getenv("SMOKE_OUT")}
	if opt.OutDir == "" {
		t.Skip()
	}
	res, _ := buildFixture(t, db, opt)
	t.Logf("%+v", res)
}
