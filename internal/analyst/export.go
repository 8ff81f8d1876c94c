package analyst

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ExportOptions configure 'observatoire export'.
type ExportOptions struct {
	Snapshot    string
	Dir         string   // output folder, replaced as a whole
	Format      string   // parquet (default) or csv
	Tables      []string // schema.table patterns; default DefaultExportTables
	PartitionBy []string // Hive partition columns, used when a table has them all
	MemoryLimit string
	Threads     int
}

// DefaultExportTables are the tables exported by default: every indicator
// table and view of mart, and the territories to name the codes.
var DefaultExportTables = []string{"mart.*", "ref.territory"}

// DefaultPartitionBy is the Hive layout of the indicator tables.
var DefaultPartitionBy = []string{"period_kind", "period"}

// ManifestFile describes an export; its presence marks a folder as one.
const ManifestFile = "_manifest.json"

// Manifest is written at the root of an export.
type Manifest struct {
	ExportedAt  time.Time       `json:"exported_at"`
	PublishedAt *time.Time      `json:"snapshot_published_at,omitempty"`
	Format      string          `json:"format"`
	Tables      []ExportedTable `json:"tables"`
}

// ExportedTable is one table of an export.
type ExportedTable struct {
	Name        string   `json:"name"`                   // schema.table
	Path        string   `json:"path"`                   // folder relative to the export root
	PartitionBy []string `json:"partition_by,omitempty"` // Hive partition columns
	Rows        int64    `json:"rows"`
	Description string   `json:"description,omitempty"`
	Columns     []Column `json:"columns"`
}

// Export writes the selected tables of the snapshot under o.Dir, one folder
// per table (<schema>/<table>/), partitioned Hive-style
// (period_kind=.../period=.../data_0.parquet) when the table has the
// partition columns. It is a trusted command: it attaches the snapshot
// read-only with file access on and uses DuckDB's COPY ... (PARTITION_BY). The folder is
// built beside o.Dir and renamed into place, so readers never see half an
// export; an existing o.Dir is replaced only if it is an export (has
// _manifest.json) or empty.
func Export(ctx context.Context, o ExportOptions) (*Manifest, error) {
	if o.Format == "" {
		o.Format = "parquet"
	}
	if o.Format != "parquet" && o.Format != "csv" {
		return nil, fmt.Errorf("export format %q: use parquet or csv", o.Format)
	}
	if len(o.Tables) == 0 {
		o.Tables = DefaultExportTables
	}
	if o.PartitionBy == nil {
		o.PartitionBy = DefaultPartitionBy
	}
	if o.Dir == "" {
		return nil, errors.New("export: no output folder (--out)")
	}
	if err := checkReplaceable(o.Dir); err != nil {
		return nil, err
	}
	if err := snapshotExists(o.Snapshot); err != nil {
		return nil, err
	}
	db, conn, tmpDir, err := openSnapshot(ctx, o.Snapshot, o.MemoryLimit, o.Threads)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	defer db.Close()
	defer conn.Close()

	rels, err := Describe(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	var selected []Relation
	for _, r := range rels {
		if r.Kind != "macro" && matchAny(o.Tables, r.Schema, r.Name) {
			selected = append(selected, r)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("export: no table of the snapshot matches %s", strings.Join(o.Tables, ", "))
	}

	parent := filepath.Dir(filepath.Clean(o.Dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(o.Dir)+".tmp-")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(stage)
		}
	}()

	m := &Manifest{ExportedAt: time.Now().UTC(), Format: o.Format}
	if info := readInfo(ctx, conn, o.Snapshot); !info.PublishedAt.IsZero() {
		t := info.PublishedAt.UTC()
		m.PublishedAt = &t
	}
	ext := "." + o.Format
	formatOpts := "FORMAT parquet, COMPRESSION zstd"
	if o.Format == "csv" {
		formatOpts = "FORMAT csv, HEADER true"
	}
	for _, r := range selected {
		rel := filepath.Join(r.Schema, r.Name)
		dest := filepath.Join(stage, rel)
		et := ExportedTable{Name: r.FullName(), Path: filepath.ToSlash(rel), Description: r.Description, Columns: r.Columns}
		source := CatalogName + "." + quoteIdent(r.Schema) + "." + quoteIdent(r.Name)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		var q string
		if hasColumns(r, o.PartitionBy) && len(o.PartitionBy) > 0 {
			et.PartitionBy = o.PartitionBy
			q = fmt.Sprintf(`COPY (SELECT * FROM %s) TO %s (%s, PARTITION_BY (%s), FILENAME_PATTERN 'data_{i}')`,
				source, quoteLiteral(dest), formatOpts, identList(o.PartitionBy))
		} else {
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return nil, err
			}
			q = fmt.Sprintf(`COPY (SELECT * FROM %s) TO %s (%s)`, source, quoteLiteral(filepath.Join(dest, "data_0"+ext)), formatOpts)
		}
		res, err := conn.ExecContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", r.FullName(), err)
		}
		et.Rows, _ = res.RowsAffected()
		m.Tables = append(m.Tables, et)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(stage, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := replaceDir(stage, o.Dir); err != nil {
		return nil, err
	}
	done = true
	return m, nil
}

func hasColumns(r Relation, names []string) bool {
	for _, n := range names {
		found := false
		for _, c := range r.Columns {
			if strings.EqualFold(c.Name, n) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// checkReplaceable refuses to replace a folder that is not an export.
func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("export: %s exists and is not an export (no %s): choose an empty or new folder", dir, ManifestFile)
	}
	return nil
}

// replaceDir moves stage to dir, replacing a previous export.
func replaceDir(stage, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = stage + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := os.Rename(stage, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fmt.Errorf("export: %w", err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
