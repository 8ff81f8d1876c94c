package benchnational

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// parseLogLine splits a log/slog text line (key=value, values with spaces
// quoted Go-style) into its fields.
func parseLogLine(line string) map[string]string {
	out := map[string]string{}
	i := 0
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		key := line[i : i+eq]
		if strings.ContainsRune(key, ' ') {
			break
		}
		i += eq + 1
		if i < len(line) && line[i] == '"' {
			j := i + 1
			for j < len(line) {
				if line[j] == '\\' {
					j += 2
					continue
				}
				if line[j] == '"' {
					break
				}
				j++
			}
			if j >= len(line) {
				j = len(line) - 1
			}
			v, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				v = line[i+1 : j]
			}
			out[key] = v
			i = j + 1
			continue
		}
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			j = len(line) - i
		}
		out[key] = line[i : i+j]
		i += j
	}
	return out
}

// logLines returns the parsed lines of s whose msg is msg.
func logLines(s, msg string) []map[string]string {
	var out []map[string]string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "msg=") {
			continue
		}
		f := parseLogLine(line)
		if f["msg"] == msg {
			out = append(out, f)
		}
	}
	return out
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// IngestFile is one file of observatoire's ingest, from its log.
type IngestFile struct {
	Source   string
	Status   string
	Read     int64
	Seconds  float64 // since the previous file's log line (the first: since the process started)
	Rejected int64
}

// IngestSource sums the files of one source.
type IngestSource struct {
	Source   string  `json:"source"`
	Files    int     `json:"files"`
	Read     int64   `json:"read"`
	Rejected int64   `json:"rejected"`
	Seconds  float64 `json:"seconds"`
	Refused  int     `json:"refused"`
	Failed   int     `json:"failed"`
	// FirstDecile and LastDecile are the mean seconds per file of the first
	// and last tenth of the source's files: a growth means per-file work
	// that grows with the warehouse.
	FirstDecile float64 `json:"first_decile_s_per_file"`
	LastDecile  float64 `json:"last_decile_s_per_file"`
	// BareSeconds is the bare baseline's time for the same source (0 when
	// it has none: the XLSX workbooks).
	BareSeconds float64 `json:"bare_seconds"`
}

// parseIngestLog reads the per-file lines of an ingest run started at start.
func parseIngestLog(stderr string, start time.Time) []IngestFile {
	var out []IngestFile
	prev := start
	for _, f := range logLines(stderr, "ingest") {
		if f["file"] == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f["time"])
		if err != nil {
			continue
		}
		fi := IngestFile{Source: f["source"], Status: f["status"], Read: atoi(f["read"]), Rejected: atoi(f["rejected"]), Seconds: t.Sub(prev).Seconds()}
		if fi.Source == "" {
			fi.Source = sourceOf(relToData(f["file"]))
		}
		prev = t
		out = append(out, fi)
	}
	return out
}

// relToData strips everything before the source folder of a generated file.
func relToData(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	parts := strings.Split(p, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return p
}

func ingestBySource(files []IngestFile) []IngestSource {
	m := map[string]*IngestSource{}
	secs := map[string][]float64{}
	for _, f := range files {
		secs[f.Source] = append(secs[f.Source], f.Seconds)
		s := m[f.Source]
		if s == nil {
			s = &IngestSource{Source: f.Source}
			m[f.Source] = s
		}
		s.Files++
		s.Read += f.Read
		s.Rejected += f.Rejected
		s.Seconds += f.Seconds
		switch f.Status {
		case "refused":
			s.Refused++
		case "failed":
			s.Failed++
		}
	}
	var out []IngestSource
	for _, s := range m {
		xs := secs[s.Source]
		if n := len(xs) / 10; n > 0 {
			s.FirstDecile, s.LastDecile = mean(xs[:n]), mean(xs[len(xs)-n:])
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seconds > out[j].Seconds })
	return out
}

var ingestTotalRE = regexp.MustCompile(`(?m)^total \((\d+) files\)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`)

// parseIngestTotal reads the total line of ingest's summary.
func parseIngestTotal(stdout string) (files, read, accepted, rejected int64, ok bool) {
	m := ingestTotalRE.FindStringSubmatch(stdout)
	if m == nil {
		return 0, 0, 0, 0, false
	}
	return atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), true
}

// ModelTime is one model of a transform run, from its log.
type ModelTime struct {
	Name string  `json:"name"`
	Mode string  `json:"mode"`
	Rows int64   `json:"rows"`
	Secs float64 `json:"seconds"`
	// Bare* are the baseline's build and data-test times of the same model.
	BareBuild float64 `json:"bare_build_s"`
	BareTests float64 `json:"bare_tests_s"`
	BareRows  int64   `json:"bare_rows"`
}

// TransformLog is what a transform run's log says.
type TransformLog struct {
	Models      []ModelTime
	Rows        int64
	Snapshot    time.Duration // analyst snapshot published after the run
	FullRefresh string        // "true"/"false" as logged
	Since       string
	Until       string
}

func parseTransformLog(stderr string) TransformLog {
	var tl TransformLog
	for _, f := range logLines(stderr, "model") {
		mt := ModelTime{Name: f["model"], Mode: f["mode"], Rows: atoi(f["rows"]), Secs: float64(atoi(f["ms"])) / 1000}
		tl.Models = append(tl.Models, mt)
		tl.Rows += mt.Rows
	}
	for _, f := range logLines(stderr, "analyst snapshot published") {
		d, _ := time.ParseDuration(f["duration"])
		tl.Snapshot += d
	}
	for _, f := range logLines(stderr, "transform") {
		tl.FullRefresh, tl.Since, tl.Until = f["full_refresh"], f["since"], f["until"]
	}
	return tl
}

var reportRE = regexp.MustCompile(`report: (\d+) pages, (\d+) standalone files in (\S+) \(`)

// parseReport reads "report: N pages, M standalone files in D (R pages/s)".
func parseReport(stdout string) (pages, standalone int64, d time.Duration, ok bool) {
	m := reportRE.FindStringSubmatch(stdout)
	if m == nil {
		return 0, 0, 0, false
	}
	d, _ = time.ParseDuration(m[3])
	return atoi(m[1]), atoi(m[2]), d, true
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var t float64
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

var transformDoneRE = regexp.MustCompile(`transform: (\d+) models, (\d+) data tests failed`)

// parseTransformDone reads "transform: N models, K data tests failed".
func parseTransformDone(stdout string) (models, failed int64, ok bool) {
	m := transformDoneRE.FindStringSubmatch(stdout)
	if m == nil {
		return 0, 0, false
	}
	return atoi(m[1]), atoi(m[2]), true
}
