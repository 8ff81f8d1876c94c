// Package benchnational is the national benchmark of issue 8: how fast the
// observatory runs on all of France (101 départements, 60 months), beside
// what bare DuckDB does with the same input.
//
// Run saves nothing of its own between runs but the generated data set:
// it is made once by internal/demo into Config.CacheDir, in a folder named
// after a key that hashes the generator options and the sources of
// internal/demo (and the embedded territories), so that it is regenerated
// exactly when they change. The set is the base window (Months months
// ending at To) and, apart, the files of the month after it (generated with
// the window extended by one month, keeping only that month's availability,
// activity, requests and AM register files, as the sources would send them).
//
// Every timed step is a subprocess, so that its wall time, CPU time and
// peak RSS (wait4's rusage: Go heap and DuckDB alike) are its own:
//
//	ingest_bare       bare DuckDB: CREATE TABLE AS SELECT * FROM read_csv(...) of the same CSV files, one per source
//	ingest            observatoire ingest --demo of the base set
//	transform_bare    bare DuckDB: the models' SQL and data tests (transform.Models()), in order, plain Exec, on a copy of the post-ingest warehouse
//	transform         observatoire transform --full-refresh; its log splits it into the runner and the analyst snapshot it publishes
//	report            observatoire report (pages/s)
//	month_ingest      observatoire ingest --demo of the new month's files
//	month_transform   observatoire transform (incremental)
//
// and sums: one new month (month_ingest + month_transform) against the full
// rebuild (ingest + transform), and the whole run (ingest + transform +
// report). Every process gets the same DuckDB settings (Config.Threads,
// Config.MemoryLimit). The bare baselines are BareMain, run by the
// benchnational command ("benchnational bare ...") or, in the smoke test,
// by the test binary itself.
//
// The results (table, goals of issue 8, ingest by source, transform by
// model) are printed and written between the markers of Config.Results
// (docs/benchmarks.md: the analysis around them is written by hand) and to
// Config.JSON. A step that fails is recorded with its error and the run
// goes on with the others.
//
// make bench-national runs the national benchmark (not part of make test);
// TestSmoke runs the same harness on one small département, 24 months, in a
// temporary folder, as part of make test.
package benchnational
