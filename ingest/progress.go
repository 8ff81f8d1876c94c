package ingest

import (
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progressBar shows the progress of one file on a terminal; a nil
// *progressBar does nothing.
type progressBar struct {
	bar  *progressbar.ProgressBar
	rows int64
}

func (l *loader) newBar(path string) *progressBar {
	f, ok := l.opt.Progress.(*os.File)
	if !ok || f == nil || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	b := progressbar.NewOptions64(st.Size(),
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(filepath.Base(path)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &progressBar{bar: b}
}

// newBatchBar is the bar of a batch of small files (see batch.go): its
// steps are described, its length is the batch's bytes.
func (l *loader) newBatchBar(size int64, files int) *progressBar {
	f, ok := l.opt.Progress.(*os.File)
	if !ok || f == nil || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	b := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(itoa(int64(files))+" files"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &progressBar{bar: b}
}

func (p *progressBar) bytes(n int64) {
	if p != nil {
		p.bar.Set64(n)
	}
}

func (p *progressBar) row() {
	if p != nil {
		p.rows++
		if p.rows%4096 == 0 {
			p.bar.Describe("reading " + itoa(p.rows) + " rows")
		}
	}
}

func (p *progressBar) describe(s string) {
	if p != nil {
		p.bar.Describe(s)
	}
}

func (p *progressBar) done() {
	if p != nil {
		p.bar.Finish()
	}
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b[i:])
}
