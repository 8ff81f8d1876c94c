package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The plain CSV reader: files that need neither quote handling nor
// decoding (valid UTF-8, no double quote, no lone CR: see classifyCSV) are
// split and trimmed in Go, a few MB at a time on every core, straight into
// Arrow record batches of the _src layout (srcLayout), identifiers already
// replaced by their pseudonyms. Each record carries its line number and its
// file's ledger id, so the validation SQL does not depend on the order of
// its output: it inserts the accepted records straight into the raw table
// (no intermediate table) and the rejected ones are captured on the way
// (reject.go). One reader serves one file or a batch of files of one layout.

// plainChunk is how much of a file is read, split and handed over at a time.
const plainChunk = 4 << 20

// plainFile is one file of a plain reader.
type plainFile struct {
	path         string
	fid          int64
	month        int32 // _month: days since 1970-01-01 (when the layout has it)
	headerLine   int64 // lines up to the header, included
	lastDataLine int64 // last line that may hold a record (trailing totals and blank lines excluded)
	records      atomic.Int64
}

// region is a run of whole lines of one file.
type region struct {
	f     *plainFile
	data  []byte
	first int64  // line number of its first line
	buf   []byte // the buffer data is in, back to chunkPool once parsed
}

// chunkPool recycles the read buffers: fresh memory costs page faults and
// clearing as much as the split itself.
var chunkPool = sync.Pool{New: func() any { return make([]byte, 0, plainChunk+64<<10) }}

type plainResult struct {
	rec arrow.RecordBatch
	err error
}

// plainReader is an array.RecordReader over plain CSV files.
type plainReader struct {
	recordStream
	lay    *srcLayout
	delim  byte
	ncols  int
	files  []*plainFile
	pseudo *pseudonymizer

	out      chan plainResult
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	progress func(int64) // bytes read so far, may be nil
	read     atomic.Int64
}

// newPlainReader starts reading files (in order, each after its header) on
// background goroutines; Close stops them.
func newPlainReader(ctx context.Context, files []*plainFile, delim byte, ncols int, lay *srcLayout, ps *pseudonymizer, progress func(int64)) *plainReader {
	ctx, cancel := context.WithCancel(ctx)
	r := &plainReader{lay: lay, delim: delim, ncols: ncols, files: files, pseudo: ps,
		out: make(chan plainResult, 4), cancel: cancel, progress: progress}
	r.schema = lay.schema()
	r.refs.Store(1)
	regions := make(chan region, 4)
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	var wwg sync.WaitGroup
	for range workers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			p := r.newParser()
			for rg := range regions {
				rec, err := p.parse(rg)
				if rg.buf != nil {
					chunkPool.Put(rg.buf[:0]) //nolint:staticcheck // a slice header, on purpose
				}
				if err == nil && rec == nil {
					continue
				}
				select {
				case r.out <- plainResult{rec, err}:
				case <-ctx.Done():
					if rec != nil {
						rec.Release()
					}
					return
				}
			}
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := r.split(ctx, regions)
		close(regions)
		wwg.Wait()
		if err != nil {
			select {
			case r.out <- plainResult{err: err}:
			case <-ctx.Done():
			}
		}
		close(r.out)
	}()
	return r
}

// split reads the files and sends their data lines as regions.
func (r *plainReader) split(ctx context.Context, regions chan<- region) error {
	for _, f := range r.files {
		if err := r.splitFile(ctx, f, regions); err != nil {
			return err
		}
	}
	return nil
}

func (r *plainReader) splitFile(ctx context.Context, f *plainFile, regions chan<- region) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	size := int64(plainChunk)
	if st, err := fh.Stat(); err == nil && st.Size() < size {
		size = st.Size() + 1 // one read for a small file
	}
	line := int64(1) // line number of the first line of carry
	var carry []byte
	for eof := false; !eof; {
		var buf []byte
		if need := len(carry) + int(size); need <= plainChunk+64<<10 {
			buf = chunkPool.Get().([]byte)[:need]
		} else {
			buf = make([]byte, need)
		}
		copy(buf, carry)
		n, err := io.ReadFull(fh, buf[len(carry):])
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			eof = true
		default:
			return fmt.Errorf("%s: %w", f.path, err)
		}
		r.read.Add(int64(n))
		if r.progress != nil {
			r.progress(r.read.Load())
		}
		data := buf[:len(carry)+n]
		end := len(data)
		if !eof {
			end = bytes.LastIndexByte(data, '\n') + 1
			if end == 0 { // a line longer than the chunk: read on
				carry, size = append([]byte(nil), data...), size*2
				continue
			}
		}
		carry = append(carry[:0:0], data[end:]...)
		data = data[:end]
		// the header and the lines above it are not data
		for line <= f.headerLine && len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				data = nil
				break
			}
			data = data[i+1:]
			line++
		}
		if len(data) == 0 {
			continue
		}
		if line > f.lastDataLine {
			break
		}
		rg := region{f: f, data: data, first: line, buf: buf}
		line += int64(bytes.Count(data, []byte{'\n'}))
		select {
		case regions <- rg:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (r *plainReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.Close()
	}
}

func (r *plainReader) Next() bool {
	r.dropCur()
	if r.err != nil {
		return false
	}
	res, ok := <-r.out
	if !ok {
		return false
	}
	if res.err != nil {
		r.err = res.err
		return false
	}
	r.cur = res.rec
	return true
}

// Close stops the reader's goroutines and frees what it holds. It may be
// called more than once.
func (r *plainReader) Close() {
	r.cancel()
	for res := range r.out { // unblock and drain
		if res.rec != nil {
			res.rec.Release()
		}
	}
	r.wg.Wait()
	r.dropCur()
}

// Records is the number of records read from each file, in order.
func (r *plainReader) Records() []int64 {
	n := make([]int64, len(r.files))
	for i, f := range r.files {
		n[i] = f.records.Load()
	}
	return n
}

// plainParser turns regions into record batches; one per worker.
type plainParser struct {
	r     *plainReader
	cells [][]byte
	batch *srcBatch
}

func (r *plainReader) newParser() *plainParser {
	return &plainParser{r: r, cells: make([][]byte, r.ncols), batch: newSrcBatch(r.lay, r.pseudo)}
}

// parse splits the lines of rg into records: blank lines and lines of
// delimiters only are not records; a line with fewer fields than the
// header, or more non-empty ones, gets the reason in _extra (the SQL
// rejects it); cells are trimmed, empty ones are NULL.
func (p *plainParser) parse(rg region) (arrow.RecordBatch, error) {
	r, b, d := p.r, p.batch, p.r.delim
	b.start(bytes.Count(rg.data, []byte{'\n'})+1, len(rg.data)/max(r.ncols, 1)+16)
	data := rg.data
	ln := rg.first - 1
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		ln++
		if ln > rg.f.lastDataLine {
			break
		}
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if onlyDelims(l, d) {
			continue // blank, or delimiters only: not a record
		}
		// fields
		nf := 0
		rest := l
		for nf < r.ncols-1 {
			i := bytes.IndexByte(rest, d)
			if i < 0 {
				break
			}
			p.cells[nf] = rest[:i]
			rest = rest[i+1:]
			nf++
		}
		var more []byte // what follows the header's last field
		if i := bytes.IndexByte(rest, d); i >= 0 {
			more = rest[i+1:]
			rest = rest[:i]
		}
		p.cells[nf] = rest
		nf++
		x := ""
		switch {
		case nf < r.ncols:
			x = fmt.Sprintf("%d fields, the header has %d", nf, r.ncols)
			for k := nf; k < r.ncols; k++ {
				p.cells[k] = nil
			}
		case more != nil && !allEmptyFields(more, d):
			x = fmt.Sprintf("%d fields, the header has %d", r.ncols+1+bytes.Count(more, []byte{d}), r.ncols)
		}
		row := b.record(ln, x)
		for k, c := range b.lay.cols {
			b.cell(row, k, str(bytes.TrimSpace(p.cells[c])))
		}
	}
	rec := b.finish(r.schema, rg.f.fid, rg.f.month)
	if rec != nil {
		rg.f.records.Add(rec.NumRows())
	}
	return rec, nil
}

// onlyDelims: the line holds nothing but delimiters, spaces and tabs.
func onlyDelims(l []byte, d byte) bool {
	for _, c := range l {
		if c != d && c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// allEmptyFields: the fields of s (split on d) are all empty.
func allEmptyFields(s []byte, d byte) bool {
	for _, c := range s {
		if c != d {
			return false
		}
	}
	return true
}

// strCol builds an Arrow string column without an allocation per cell.
type strCol struct {
	off   []int32
	data  []byte
	valid []byte
	nulls int
}

func (c *strCol) init(rows, bytes int) {
	c.off = make([]int32, 1, rows+1)
	c.data = make([]byte, 0, bytes)
	c.valid = make([]byte, (rows+7)/8)
}

func (c *strCol) add(row int, v string) {
	c.valid[row>>3] |= 1 << (row & 7)
	c.data = append(c.data, v...)
	c.off = append(c.off, int32(len(c.data)))
}

func (c *strCol) null(row int) {
	c.nulls++
	c.off = append(c.off, int32(len(c.data)))
}

func (c *strCol) array(n int) arrow.Array {
	var valid *memory.Buffer
	if c.nulls > 0 {
		valid = memory.NewBufferBytes(c.valid)
	}
	d := array.NewData(arrow.BinaryTypes.String, n,
		[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.off)), memory.NewBufferBytes(c.data)}, nil, c.nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}
