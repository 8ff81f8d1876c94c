package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

func TestIsRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("file refused: 12% rows rejected"), false},
		{&warehouse.LockedError{Warehouse: "w"}, true},
		{fmt.Errorf("run: %w", warehouse.ErrLocked), true},
		{Transient(errors.New("share unreachable")), true},
		{fmt.Errorf("read: %w", &fs.PathError{Op: "read", Path: "/mnt/inbox/x.csv", Err: syscall.ESTALE}), true},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EAGAIN}, true},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}, false},
		{errors.New("IO Error: Could not read from file: Resource temporarily unavailable"), true},
		{context.Canceled, false},
		{fmt.Errorf("transform: %w", context.DeadlineExceeded), false},
		{errors.Join(errors.New("ingest failed: reports not published"), warehouse.ErrLocked), true},
		{statusError{code: 503}, true},
		{statusError{code: 400}, false},
	} {
		if got := IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRetry(t *testing.T) {
	log, _ := testLogger()
	b := Backoff{Attempts: 4, Initial: time.Millisecond, Max: 4 * time.Millisecond}
	var seen []Attempt
	err := Retry(context.Background(), b, log, func(ctx context.Context) error {
		seen = append(seen, AttemptFrom(ctx))
		if len(seen) < 3 {
			return warehouse.ErrLocked
		}
		return nil
	})
	if err != nil || len(seen) != 3 || seen[2] != (Attempt{N: 3, Max: 4}) {
		t.Fatalf("err %v, attempts %v", err, seen)
	}

	// Not worth retrying: one attempt.
	n := 0
	err = Retry(context.Background(), b, log, func(ctx context.Context) error {
		n++
		return errors.New("bad file")
	})
	if n != 1 || err == nil {
		t.Fatalf("non-retryable: %d attempts", n)
	}

	// Attempts spent: the last error comes back.
	n = 0
	err = Retry(context.Background(), b, log, func(ctx context.Context) error {
		n++
		if WillRetry(ctx, ErrTransient) != (n < 4) {
			t.Errorf("attempt %d: WillRetry = %v", n, !(n < 4))
		}
		return Transient(fmt.Errorf("attempt %d", n))
	})
	if n != 4 || err == nil || err.Error() != "attempt 4" {
		t.Fatalf("spent: %d attempts, %v", n, err)
	}

	// Cancelled while waiting: stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	start := time.Now()
	err = Retry(ctx, Backoff{Attempts: 3, Initial: time.Hour}, log, func(context.Context) error {
		n++
		time.AfterFunc(10*time.Millisecond, cancel)
		return warehouse.ErrLocked
	})
	if n != 1 || !errors.Is(err, warehouse.ErrLocked) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled: %d attempts, %v", n, err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: time.Minute, Max: 15 * time.Minute}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w)
		}
	}
	b.Jitter = 0.2
	for range 100 {
		if d := b.Delay(1); d < time.Minute || d > 72*time.Second {
			t.Fatalf("jittered delay %s out of [1m, 1m12s]", d)
		}
	}
	if (Attempt{}).Final() != true || AttemptFrom(context.Background()) != (Attempt{N: 1, Max: 1}) {
		t.Fatal("default attempt")
	}
}
