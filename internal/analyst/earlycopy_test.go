package analyst

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPublishEarlyCopy checks that an incremental publication starts from
// the early copy only when it is a copy of the published snapshot, that the
// result is the same as a full publication either way, and that no copy is
// ever left beside the snapshot.
func TestPublishEarlyCopy(t *testing.T) {
	dir := t.TempDir()
	db, _ := newWarehouse(t, dir)
	ctx := context.Background()
	snap := filepath.Join(dir, "snapshot.duckdb")
	next := snap + ".next"
	excl, _ := ParsePatterns(DefaultExclude)
	var logs bytes.Buffer
	opts := func(version, base string, early *EarlyCopy) PublishOptions {
		c := TableChange{Table: "mart.indicator", Version: version, Base: base}
		if base != "" {
			c.Window, c.Setup = testWindow, windowSetup("2025-07-01")
		}
		return PublishOptions{Path: snap, Exclude: excl, Job: "transform", Changes: []TableChange{c}, EarlyCopy: early,
			Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	}
	publish := func(name string, o PublishOptions, mode string, usesEarly bool) {
		t.Helper()
		logs.Reset()
		res, err := Publish(ctx, db, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Mode != mode || res.Fallback != nil {
			t.Errorf("%s: mode %s (%s, %v), want %s", name, res.Mode, res.Reason, res.Fallback, mode)
		}
		if got := strings.Contains(logs.String(), "early=true"); got != usesEarly {
			t.Errorf("%s: started from the early copy = %v, want %v:\n%s", name, got, usesEarly, logs.String())
		}
		for _, leftover := range []string{next, next + ".wal", snap + ".tmp"} {
			if _, err := os.Stat(leftover); err == nil {
				t.Errorf("%s: %s left behind", name, leftover)
			}
		}
		checkSameAsFull(t, db, snap, o)
	}

	if c := StartEarlyCopy(ctx, snap); c != nil {
		t.Fatal("an early copy of a snapshot that does not exist")
	}
	publish("first", opts("i1", "", nil), ModeFull, false)

	// The usual case: copied while the window was rebuilt.
	early := StartEarlyCopy(ctx, snap)
	if early == nil {
		t.Fatal("no early copy")
	}
	rewriteWindow(t, db, "2025-07-01", 1)
	publish("early copy", opts("i2", "i1", early), ModeIncremental, true)

	// The snapshot was replaced after the copy was made (a publication
	// renamed a new file over it): the copy is of an older snapshot and
	// must not be used.
	stale := StartEarlyCopy(ctx, snap)
	<-stale.done
	rewriteWindow(t, db, "2025-07-01", 2)
	other := opts("i3", "", nil)
	other.Path = filepath.Join(dir, "other.duckdb")
	if _, err := Publish(ctx, db, other); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other.Path, snap); err != nil {
		t.Fatal(err)
	}
	rewriteWindow(t, db, "2025-07-01", 3)
	publish("stale early copy", opts("i4", "i3", stale), ModeIncremental, false)

	// A full publication discards the copy before it writes its own.
	full := StartEarlyCopy(ctx, snap)
	o := opts("i4", "", full)
	o.Full = true
	publish("full", o, ModeFull, false)

	// A run that publishes nothing discards its copy; a leftover of a
	// crashed run is removed by the next publication.
	discarded := StartEarlyCopy(ctx, snap)
	if err := discarded.Discard(); err != nil {
		t.Fatal(err)
	}
	if err := discarded.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(next); err == nil {
		t.Error("Discard left the copy")
	}
	if err := os.WriteFile(next, []byte("crashed run"), 0o644); err != nil {
		t.Fatal(err)
	}
	publish("leftover", opts("i4", "i3", nil), ModeIncremental, false)
}
