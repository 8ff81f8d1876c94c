package benchnational

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one measured subprocess: wall time, CPU time and peak RSS come
// from the kernel (wait4's rusage), so they cover DuckDB's threads and the
// Go heap alike, and nothing of the harness itself.
type proc struct {
	Wall    time.Duration
	CPU     time.Duration // user + system
	MaxRSS  int64         // bytes
	Load    float64       // mean 1-minute load average sampled while it ran
	Stdout  string
	Stderr  string // kept whole: the observatoire logs are parsed for breakdowns
	Start   time.Time
	ExitErr error
}

// runProc runs argv in dir with env, logging stdout and stderr to logPath
// as well. A non-zero exit is returned in p.ExitErr (with the last lines of
// stderr), not as an error: the caller records the failure in the table.
func runProc(ctx context.Context, dir string, env []string, logPath string, argv ...string) proc {
	var p proc
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// SIGTERM first: observatoire rolls back and releases its lock.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var out, errb bytes.Buffer
	var logw io.Writer = io.Discard
	if logPath != "" {
		if f, err := os.Create(logPath); err == nil {
			defer f.Close()
			fmt.Fprintf(f, "$ %s\n", strings.Join(argv, " "))
			logw = f
		}
	}
	lw := &lockedWriter{w: logw}
	cmd.Stdout = io.MultiWriter(&out, lw)
	cmd.Stderr = io.MultiWriter(&errb, lw)

	stop := make(chan struct{})
	var load loadSampler
	go load.run(stop)
	p.Start = time.Now()
	err := cmd.Run()
	p.Wall = time.Since(p.Start)
	close(stop)
	p.Load = load.mean()
	p.Stdout, p.Stderr = out.String(), errb.String()
	if st := cmd.ProcessState; st != nil {
		p.CPU = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			p.MaxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		p.ExitErr = fmt.Errorf("%s: %w%s", strings.Join(shortArgv(argv), " "), err, tail(p.Stderr, 12))
	}
	return p
}

func shortArgv(argv []string) []string {
	out := make([]string, 0, len(argv))
	for _, a := range argv {
		if len(a) > 80 {
			a = a[:77] + "..."
		}
		out = append(out, a)
	}
	return out
}

// tail returns the last n lines of s, indented, for error messages.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// loadSampler averages /proc/loadavg's 1-minute value every 2 s while a
// step runs: the machine may be shared, and the results say how busy it was.
type loadSampler struct {
	mu  sync.Mutex
	sum float64
	n   int
}

func (s *loadSampler) run(stop <-chan struct{}) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	s.add()
	for {
		select {
		case <-stop:
			s.add()
			return
		case <-t.C:
			s.add()
		}
	}
}

func (s *loadSampler) add() {
	if l, ok := loadAvg1(); ok {
		s.mu.Lock()
		s.sum += l
		s.n++
		s.mu.Unlock()
	}
}

func (s *loadSampler) mean() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return 0
	}
	return s.sum / float64(s.n)
}

func loadAvg1() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
