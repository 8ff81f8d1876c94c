package analyst

import (
	"context"
	"errors"
	"os"
	"time"
)

// EarlyCopy is a copy of the published snapshot file made in the background
// while the pipeline computes what the next publication will hold. An
// incremental publication starts from a byte copy of the previous snapshot
// (11 GB nationally, 20 s here): the copy is disk-bound and the models that
// run before it CPU-bound, so making it meanwhile takes it off the critical
// path. Publish takes it (PublishOptions.EarlyCopy) only if it completed
// and the snapshot it copied is still the published one; otherwise it is
// removed and Publish copies, or publishes in full, as it would without.
type EarlyCopy struct {
	src, dst string
	before   os.FileInfo // the snapshot when the copy started
	cancel   context.CancelFunc
	done     chan struct{}
	err      error         // of the copy, once done is closed
	took     time.Duration // of the copy, once done is closed
	taken    bool          // renamed to Publish's temporary file
}

// StartEarlyCopy starts copying the snapshot at path beside it
// (path + ".next"). It returns nil, and copies nothing, when there is no
// snapshot to continue or it has a WAL file (an incremental publication
// would refuse it). The caller holds the warehouse's writer lock, as for
// Publish, and calls Discard when the run ends, whatever its outcome.
func StartEarlyCopy(ctx context.Context, path string) *EarlyCopy {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	if _, err := os.Stat(path + ".wal"); err == nil {
		return nil
	}
	c := &EarlyCopy{src: path, dst: earlyCopyPath(path), before: st, done: make(chan struct{})}
	// A crash may have left a copy of an earlier run.
	if err := removeTmp(c.dst); err != nil {
		return nil
	}
	ctx, c.cancel = context.WithCancel(ctx)
	go func() {
		defer close(c.done)
		t0 := time.Now()
		c.err = copyFile(ctx, c.src, c.dst)
		c.took = time.Since(t0)
	}()
	return c
}

// earlyCopyPath is where the early copy of the snapshot at path is made.
func earlyCopyPath(path string) string { return path + ".next" }

// take waits for the copy and renames it to tmp. It reports false when the
// copy cannot be used (failed, or the snapshot changed since it started):
// the caller then copies the snapshot itself. Only a cancellation of ctx is
// an error.
func (c *EarlyCopy) take(ctx context.Context, tmp string) (bool, error) {
	if c == nil {
		return false, nil
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if c.err != nil || !c.sameSource() {
		c.Discard()
		return false, nil
	}
	if err := os.Rename(c.dst, tmp); err != nil {
		c.Discard()
		return false, nil
	}
	c.taken = true
	return true, nil
}

// sameSource reports whether the snapshot file is still the one copied: a
// publication replaces it by renaming a new file over it, so a new file
// (or a changed size or time) means the copy is of an older snapshot.
func (c *EarlyCopy) sameSource() bool {
	st, err := os.Stat(c.src)
	return err == nil && os.SameFile(st, c.before) && st.Size() == c.before.Size() && st.ModTime().Equal(c.before.ModTime())
}

// Discard stops the copy if it still runs and removes it unless Publish
// took it. It may be called more than once, and on nil.
func (c *EarlyCopy) Discard() error {
	if c == nil {
		return nil
	}
	c.cancel()
	<-c.done
	if c.taken {
		return nil
	}
	c.taken = true // removed once
	if err := removeTmp(c.dst); err != nil {
		return errors.Join(errors.New("discard the early copy of the analyst snapshot"), err)
	}
	return nil
}
