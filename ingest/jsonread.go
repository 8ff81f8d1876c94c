package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// jsonDoc is a JSON array of objects (at the top level, or under a dotted
// path), or NDJSON (one object per line), held in memory.
type jsonDoc struct {
	data    []byte
	ndjson  bool
	records string // dotted path of the array
}

// jsonRecord is one object with the line it starts on.
type jsonRecord struct {
	line int64
	obj  map[string]json.RawMessage
}

// jsonSource decodes records one by one.
type jsonSource struct {
	doc    *jsonDoc
	keys   []string
	dec    *json.Decoder
	base   int64 // offset of the decoder's input in data
	nlPos  int64 // offset up to which newlines are counted
	line   int64
	rest   []byte // NDJSON: what is left
	rec    []string
	path   string
	closed bool
}

func (d *jsonDoc) open(path string) (*jsonSource, error) {
	s := &jsonSource{doc: d, path: path, line: 1}
	if d.ndjson {
		s.rest = d.data
		return s, nil
	}
	// find the array
	data := d.data
	off, err := findArray(data, d.records)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	s.base = int64(off)
	s.line = 1 + int64(bytes.Count(data[:off], []byte("\n")))
	s.nlPos = int64(off)
	s.dec = json.NewDecoder(bytes.NewReader(data[off:]))
	s.dec.UseNumber()
	if _, err := s.dec.Token(); err != nil { // [
		return nil, &Error{File: path, Reason: "not a JSON array", Err: err}
	}
	return s, nil
}

// findArray returns the offset of the '[' of the records array: the
// top-level array, the array at the dotted path, or the first array value
// of the top-level object.
func findArray(data []byte, path string) (int, error) {
	trim := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	start := len(data) - len(trim)
	if len(trim) == 0 {
		return 0, fmt.Errorf("empty JSON")
	}
	if trim[0] == '[' {
		if path != "" {
			return 0, fmt.Errorf("records path %q but the document is an array", path)
		}
		return start, nil
	}
	if trim[0] != '{' {
		return 0, fmt.Errorf("JSON document is neither an array nor an object")
	}
	parts := []string{}
	if path != "" {
		parts = strings.Split(path, ".")
	}
	off := start
	for depth := 0; ; depth++ {
		dec := json.NewDecoder(bytes.NewReader(data[off:]))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return 0, fmt.Errorf("records path %q: not an object", path)
		}
		found := false
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return 0, err
			}
			key, _ := t.(string)
			var raw json.RawMessage
			valStart := dec.InputOffset()
			if err := dec.Decode(&raw); err != nil {
				return 0, err
			}
			want := depth < len(parts) && key == parts[depth]
			auto := len(parts) == 0 && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '['
			if want || auto {
				// position of the value: skip ':' and spaces
				p := off + int(valStart)
				for p < len(data) && (data[p] == ':' || data[p] == ' ' || data[p] == '\t' || data[p] == '\r' || data[p] == '\n') {
					p++
				}
				if auto || depth == len(parts)-1 {
					if data[p] != '[' {
						return 0, fmt.Errorf("records path %q: not an array", path)
					}
					return p, nil
				}
				off = p
				found = true
				break
			}
		}
		if !found {
			if path == "" {
				return 0, fmt.Errorf("no array of records in the JSON object")
			}
			return 0, fmt.Errorf("records path %q not found", path)
		}
	}
}

// nextObject returns the next record.
func (s *jsonSource) nextObject() (jsonRecord, error) {
	if s.doc.ndjson {
		for len(s.rest) > 0 {
			i := bytes.IndexByte(s.rest, '\n')
			var l []byte
			if i < 0 {
				l, s.rest = s.rest, nil
			} else {
				l, s.rest = s.rest[:i], s.rest[i+1:]
			}
			line := s.line
			s.line++
			l = bytes.TrimSpace(bytes.TrimPrefix(l, utf8BOM))
			if len(l) == 0 {
				continue
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(l, &obj); err != nil {
				return jsonRecord{}, &Error{File: s.path, Line: line, Reason: "not a JSON object", Err: err}
			}
			return jsonRecord{line, obj}, nil
		}
		return jsonRecord{}, io.EOF
	}
	if !s.dec.More() {
		return jsonRecord{}, io.EOF
	}
	// line of the object: count newlines up to its first byte
	off := s.base + s.dec.InputOffset()
	data := s.doc.data
	for off < int64(len(data)) && (data[off] == ',' || data[off] == ' ' || data[off] == '\t' || data[off] == '\r' || data[off] == '\n') {
		off++
	}
	s.line += int64(bytes.Count(data[s.nlPos:off], []byte("\n")))
	s.nlPos = off
	var obj map[string]json.RawMessage
	if err := s.dec.Decode(&obj); err != nil {
		return jsonRecord{}, &Error{File: s.path, Line: s.line, Reason: "not a JSON object", Err: err}
	}
	return jsonRecord{s.line, obj}, nil
}

// head returns the keys of the first n records, in order of appearance.
func (d *jsonDoc) keys(path string, n int) ([]string, error) {
	s, err := d.open(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var keys []string
	for i := 0; i < n; i++ {
		r, err := s.nextObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		// keep the document's key order: decode the keys in order
		for _, k := range orderedKeys(r) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// orderedKeys returns the keys of a record in a stable order (sorted: Go
// maps do not keep the document's order).
func orderedKeys(r jsonRecord) []string {
	ks := make([]string, 0, len(r.obj))
	for k := range r.obj {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

func (s *jsonSource) Next() (int64, []string, error) {
	r, err := s.nextObject()
	if err != nil {
		return 0, nil, err
	}
	if s.rec == nil {
		s.rec = make([]string, len(s.keys))
	}
	for i, k := range s.keys {
		s.rec[i] = jsonText(r.obj[k])
	}
	return r.line, s.rec, nil
}

// jsonText is the text of a JSON value as a cell: strings unquoted,
// numbers and booleans as written, null empty, arrays joined with "|".
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	case 'n':
		return ""
	case '[':
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil {
			return string(raw)
		}
		parts := make([]string, 0, len(l))
		for _, e := range l {
			if t := jsonText(e); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "|")
	default:
		return string(raw)
	}
}
