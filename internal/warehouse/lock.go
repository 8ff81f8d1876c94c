package warehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The writer lock: one writer at a time across processes.
//
// It is an flock(2) on "<warehouse>.lock", beside the warehouse file. The
// kernel releases an flock when its holder dies, kill -9 included, so the
// lock itself can never be stale; the file's content (a JSON Holder: pid,
// host, command, start time) only says who holds it. The holder writes it
// after taking the flock and empties it before releasing; a non-empty file
// found by the next writer is therefore the trace of a process that died
// holding the lock, and is reported (Stale) then overwritten. The file is
// never deleted: deleting a lock file while another process has it open
// would let two processes lock two different inodes.

// Holder says who holds the writer lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Job     string    `json:"job,omitempty"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (no details written yet)"
	}
	s := fmt.Sprintf("pid %d on %s", h.PID, h.Host)
	if h.Job != "" {
		s += ", job " + h.Job
	}
	if h.Command != "" {
		s += fmt.Sprintf(" (%s)", h.Command)
	}
	if !h.Started.IsZero() {
		s += fmt.Sprintf(", since %s (%s ago)", h.Started.Format("2006-01-02 15:04:05 MST"), time.Since(h.Started).Round(time.Second))
	}
	return s
}

// CurrentHolder describes this process for the lock file.
func CurrentHolder(command, job string) Holder {
	host, _ := os.Hostname()
	if command == "" {
		command = strings.Join(os.Args, " ")
	}
	return Holder{PID: os.Getpid(), Host: host, Command: command, Job: job, Started: time.Now()}
}

// LockedError is returned when another process holds the writer lock. It
// wraps ErrLocked, which callers test with errors.Is (it is worth retrying).
type LockedError struct {
	Warehouse string
	Holder    Holder
	// HolderDead: the recorded holder is not running any more on this host,
	// yet the lock is held (a child process inherited it).
	HolderDead bool
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("warehouse %s is held by %s", e.Warehouse, e.Holder)
	if e.HolderDead {
		return msg + "; that process is gone but the lock is still held, probably by a process it started: " +
			"find it with 'fuser " + LockPath(e.Warehouse) + "' and stop it"
	}
	hint := ". Wait for it to finish (see 'observatoire status'), or query the read-only snapshot with 'observatoire sql'"
	if e.Holder.PID != 0 {
		hint += fmt.Sprintf("; if it is hung, stop it (kill %d): the lock is released when it exits", e.Holder.PID)
	}
	return msg + hint
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// LockPath is the lock file of a warehouse file.
func LockPath(warehouse string) string { return warehouse + ".lock" }

// WriterLock is a held writer lock.
type WriterLock struct {
	f      *os.File
	path   string
	Holder Holder
	// Stale is the holder left in the file by a process that died while it
	// held the lock (nil when the lock was released cleanly). It has been
	// overwritten; the caller reports it.
	Stale *Holder
	// StaleDead reports whether the stale holder's pid is known dead (same
	// host and no such process).
	StaleDead bool
	// AbandonedRuns are the meta.run rows OpenWriter found 'running' and
	// marked 'abandoned'.
	AbandonedRuns []int64
}

// AcquireWriterLock takes the writer lock of the warehouse file without
// waiting: it returns a *LockedError (errors.Is ErrLocked) when another
// process (or another open in this process) holds it.
func AcquireWriterLock(warehouse string, h Holder) (*WriterLock, error) {
	path := LockPath(warehouse)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("writer lock %s: %w", path, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Warehouse: warehouse}
			if prev, ok := readHolder(path); ok {
				le.Holder = prev
				le.HolderDead = prev.deadHere()
			}
			return nil, le
		}
		return nil, fmt.Errorf("writer lock %s: %w", path, err)
	}
	l := &WriterLock{f: f, path: path, Holder: h}
	if prev, ok := readHolder(path); ok {
		l.Stale, l.StaleDead = &prev, prev.deadHere()
	}
	b, _ := json.Marshal(h)
	if err := writeAll(f, append(b, '\n')); err != nil {
		l.Release()
		return nil, fmt.Errorf("writer lock %s: %w", path, err)
	}
	return l, nil
}

// Release empties the lock file (nobody holds it) and releases the flock.
// It is safe to call twice.
func (l *WriterLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Truncate(0)
	if e := flock(l.f, syscall.LOCK_UN); err == nil {
		err = e
	}
	if e := l.f.Close(); err == nil {
		err = e
	}
	l.f = nil
	return err
}

// LockState reports, without taking it, whether the writer lock is held and
// by whom.
func LockState(warehouse string) (held bool, h Holder, err error) {
	path := LockPath(warehouse)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, Holder{}, nil
	}
	if err != nil {
		return false, Holder{}, err
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h, _ := readHolder(path)
			return true, h, nil
		}
		return false, Holder{}, err
	}
	flock(f, syscall.LOCK_UN)
	return false, Holder{}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func readHolder(path string) (Holder, bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return Holder{}, false
	}
	var h Holder
	if json.Unmarshal(b, &h) != nil {
		// Unreadable content still means an unclean release.
		return Holder{Command: "unreadable lock file content: " + strconv.Quote(string(b))}, true
	}
	return h, true
}

func writeAll(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

// deadHere reports whether the holder is known not to run any more: same
// host, and no process with its pid.
func (h Holder) deadHere() bool {
	host, _ := os.Hostname()
	if h.PID <= 0 || h.Host != host {
		return false
	}
	return !pidAlive(h.PID)
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
