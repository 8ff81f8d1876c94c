package benchnational

import (
	"bufio"
	"debug/buildinfo"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs        int     `json:"cpus"`        // runtime.NumCPU
	CPUModel    string  `json:"cpu_model"`   // /proc/cpuinfo
	MemTotal    int64   `json:"mem_total"`   // bytes, /proc/meminfo
	OS          string  `json:"os"`          // GOOS/GOARCH and kernel
	GoVersion   string  `json:"go_version"`  // of the observatoire binary
	DuckDB      string  `json:"duckdb"`      // DuckDB library version (from the bare baseline)
	DuckDBGo    string  `json:"duckdb_go"`   // github.com/duckdb/duckdb-go/v2 module version
	Commit      string  `json:"commit"`      // vcs.revision of the observatoire binary
	Modified    bool    `json:"modified"`    // the binary was built from a tree with local changes
	LoadBefore  float64 `json:"load_before"` // 1-minute load average when the run started
	LoadAfter   float64 `json:"load_after"`  // and when it ended
	Date        string  `json:"date"`        // RFC 3339, UTC
	HostThreads int     `json:"duckdb_threads"`
	MemoryLimit string  `json:"duckdb_memory_limit"`
}

func describeMachine(bin string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Date: time.Now().UTC().Format(time.RFC3339)}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	m.MemTotal = memTotal()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(b))
	}
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		m.GoVersion = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Path == "github.com/duckdb/duckdb-go/v2" {
				m.DuckDBGo = d.Version
			}
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				m.Commit = s.Value
			case "vcs.modified":
				m.Modified = s.Value == "true"
			}
		}
	} else {
		m.GoVersion = runtime.Version()
	}
	m.LoadBefore, _ = loadAvg1()
	return m
}

// memTotal reads MemTotal from /proc/meminfo, in bytes (0 when unknown).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
