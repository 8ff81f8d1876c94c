// Package ops runs the observatory unattended and says how it is doing: the
// cron scheduler, retries with backoff, notifications, and data freshness.
// It knows nothing of the stages: the composition root (cmd/observatoire)
// hands it jobs as functions and reads the warehouse through
// internal/warehouse (the writer lock and the run history live there).
package ops

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rpe-observatoire/observatoire/internal/warehouse"
)

// ErrTransient marks a failure worth retrying (wrap it, or use Transient).
var ErrTransient = errors.New("transient failure")

// Transient marks err as worth retrying.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

type transientError struct{ error }

func (e transientError) Unwrap() []error { return []error{e.error, ErrTransient} }

// IsRetryable reports whether a failure is worth another attempt: the
// warehouse held by another writer (warehouse.ErrLocked), an error marked
// ErrTransient (or with a Retryable() bool method saying so), or a transient
// system error (EAGAIN, EBUSY, timeouts, refused or reset connections, stale
// NFS handles). Cancellation and deadlines are never retried, nor is anything
// else: a bad file or a failed data test fails the same way the next time.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	// Explicit marks first.
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	if errors.Is(err, ErrTransient) || errors.Is(err, warehouse.ErrLocked) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	for _, e := range []error{syscall.EAGAIN, syscall.EBUSY, syscall.EINTR, syscall.ETIMEDOUT,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ESTALE} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// DuckDB reports I/O errors as text.
	msg := err.Error()
	return strings.Contains(msg, "Resource temporarily unavailable") || strings.Contains(msg, "Device or resource busy")
}

// Backoff is a retry policy: Attempts in all (1 = no retry), waiting Initial
// before the second, doubling up to Max, plus up to Jitter (a share) more.
type Backoff struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	Jitter   float64
}

// Delay is the wait after the attempt-th failed attempt (1-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	for i := 1; i < attempt && (b.Max <= 0 || d < b.Max); i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	if b.Jitter > 0 && d > 0 {
		d += time.Duration(rand.Float64() * b.Jitter * float64(d))
	}
	return d
}

// Retry calls fn until it succeeds, fails in a way not worth retrying, the
// attempts are spent, or ctx ends. fn receives ctx carrying the attempt
// number (see AttemptFrom), so that what it records can say so. The error is
// the last attempt's.
func Retry(ctx context.Context, b Backoff, log *slog.Logger, fn func(ctx context.Context) error) error {
	if b.Attempts < 1 {
		b.Attempts = 1
	}
	if log == nil {
		log = slog.Default()
	}
	for attempt := 1; ; attempt++ {
		err := fn(WithAttempt(ctx, Attempt{N: attempt, Max: b.Attempts}))
		if err == nil || attempt >= b.Attempts || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		d := b.Delay(attempt)
		log.Warn("attempt failed, will retry", "attempt", attempt, "of", b.Attempts, "in", d.Round(time.Millisecond), "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// Attempt is the attempt number of a retried call.
type Attempt struct{ N, Max int }

// Final reports whether no attempt follows this one.
func (a Attempt) Final() bool { return a.N >= a.Max }

type attemptKey struct{}

// WithAttempt returns ctx carrying the attempt.
func WithAttempt(ctx context.Context, a Attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// AttemptFrom returns the attempt ctx carries ({1, 1} outside Retry).
func AttemptFrom(ctx context.Context) Attempt {
	if a, ok := ctx.Value(attemptKey{}).(Attempt); ok {
		return a
	}
	return Attempt{N: 1, Max: 1}
}

// WillRetry reports whether a call failing with err in ctx will be attempted
// again (so its failure need not be notified yet).
func WillRetry(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !AttemptFrom(ctx).Final() && IsRetryable(err)
}
