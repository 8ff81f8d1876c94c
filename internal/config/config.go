// Package config is the observatory's configuration: one struct whose field
// tags are the single spec of every key (TOML name, environment variable,
// default, documentation). Docs() renders that spec, so the README and
// `observatoire config` can never drift from the code.
//
// Precedence, lowest to highest: defaults, the config file, environment
// variables, command-line flags (applied by cmd/).
package config

//go:generate env OBSERVATOIRE_UPDATE_DOCS=1 go test -run TestOperationsDocTable .

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultFile is the config file read when none is named and it exists.
const DefaultFile = "observatoire.toml"

// Config is the whole configuration. Every leaf field carries:
//
//	toml:"name"    key in the file (sections are nested structs)
//	env:"NAME"     environment variable overriding it
//	default:"v"    value when nothing sets it
//	doc:"..."      one-line documentation (English)
type Config struct {
	Warehouse Warehouse `toml:"warehouse"`
	Ingest    Ingest    `toml:"ingest"`
	Transform Transform `toml:"transform"`
	Reports   Reports   `toml:"reports"`
	Analyst   Analyst   `toml:"analyst"`
	Schedule  Schedule  `toml:"schedule"`
	Notify    Notify    `toml:"notify"`
	Freshness Freshness `toml:"freshness"`
}

// Warehouse configures the embedded DuckDB file.
type Warehouse struct {
	Path        string `toml:"path" env:"OBSERVATOIRE_WAREHOUSE" default:"var/warehouse.duckdb" doc:"DuckDB warehouse file (created if missing)."`
	MemoryLimit string `toml:"memory_limit" env:"OBSERVATOIRE_MEMORY_LIMIT" default:"" doc:"DuckDB memory_limit, e.g. \"2GB\"; empty = DuckDB's default (80% of RAM)."`
	Threads     int    `toml:"threads" env:"OBSERVATOIRE_THREADS" default:"0" doc:"DuckDB threads; 0 = one per core."`
	TempDir     string `toml:"temp_dir" env:"OBSERVATOIRE_TEMP_DIR" default:"" doc:"Where DuckDB spills when memory is short; empty = next to the warehouse file."`
}

// Ingest configures loading source files.
type Ingest struct {
	Inbox          string  `toml:"inbox" env:"OBSERVATOIRE_INBOX" default:"var/inbox" doc:"Folder watched by 'ingest --inbox'; files move to processed/ or rejected/ beside it once their transaction ends."`
	Secret         string  `toml:"secret" env:"OBSERVATOIRE_SECRET" default:"" doc:"Key of the pseudonyms that replace AM and request identifiers. Required outside the demo; keep it out of version control (prefer the environment variable)."`
	MaxRejectShare float64 `toml:"max_reject_share" env:"OBSERVATOIRE_MAX_REJECT_SHARE" default:"0.05" doc:"A file whose share of rejected rows is above this is refused whole (0.05 = 5 %)."`
	ProfilesDir    string  `toml:"profiles_dir" env:"OBSERVATOIRE_PROFILES" default:"" doc:"Folder of extra or overriding mapping profiles (*.toml), beside the built-in ones."`
}

// Transform configures the SQL models.
type Transform struct {
	AMUnder3Ratio float64 `toml:"am_under3_ratio" env:"OBSERVATOIRE_AM_UNDER3_RATIO" default:"0.81" doc:"Share of an active AM's approved places counted for under-3s when the register has no under-3 figure (758,900 / 934,300 nationally in 2018)."`
}

// Reports configures the published HTML.
type Reports struct {
	OutDir               string `toml:"out_dir" env:"OBSERVATOIRE_REPORTS" default:"var/site" doc:"Folder of the published report site (replaced atomically on success)."`
	MinCount             int    `toml:"min_count" env:"OBSERVATOIRE_MIN_COUNT" default:"5" doc:"Statistical confidentiality: figures resting on fewer people are masked as 's'."`
	MinCommunePopulation int    `toml:"min_commune_population" env:"OBSERVATOIRE_MIN_COMMUNE_POP" default:"10000" doc:"Communes get a report of their own above this population."`
	CommuneGeoJSON       string `toml:"commune_geojson" env:"OBSERVATOIRE_COMMUNE_GEOJSON" default:"" doc:"Optional GeoJSON of commune outlines for the commune maps."`
}

// Analyst configures read-only SQL access.
type Analyst struct {
	Snapshot     string        `toml:"snapshot" env:"OBSERVATOIRE_SNAPSHOT" default:"var/snapshot.duckdb" doc:"Read-only copy of the warehouse published after each successful run; analysts query it."`
	QueryTimeout time.Duration `toml:"query_timeout" env:"OBSERVATOIRE_QUERY_TIMEOUT" default:"60s" doc:"Analyst queries running longer are cancelled."`
	MaxRows      int           `toml:"max_rows" env:"OBSERVATOIRE_MAX_ROWS" default:"1000" doc:"Rows shown by the table output before it says it truncated."`
	Exclude      string        `toml:"exclude" env:"OBSERVATOIRE_SNAPSHOT_EXCLUDE" default:"raw.*,meta.quarantine*" doc:"Tables copied empty into the snapshot: comma-separated schema.table patterns (* wildcard). Default: raw source rows and the quarantine, which keeps rejected values verbatim; empty = copy everything."`
	MemoryLimit  string        `toml:"memory_limit" env:"OBSERVATOIRE_ANALYST_MEMORY_LIMIT" default:"" doc:"DuckDB memory_limit of an analyst session, e.g. \"2GB\", so a heavy query leaves room for the pipeline; empty = warehouse.memory_limit."`
	MaxTempSize  string        `toml:"max_temp_size" env:"OBSERVATOIRE_ANALYST_MAX_TEMP_SIZE" default:"10GB" doc:"Disk an analyst session may spill to (DuckDB max_temp_directory_size), so a runaway CREATE TEMP TABLE cannot fill the disk."`
	History      string        `toml:"history" env:"OBSERVATOIRE_SQL_HISTORY" default:"" doc:"History file of the interactive 'observatoire sql' shell; empty = ~/.observatoire_sql_history, \"off\" = no history."`
}

// Schedule configures 'observatoire schedule'.
type Schedule struct {
	TimeZone        string        `toml:"time_zone" env:"OBSERVATOIRE_TZ" default:"Europe/Paris" doc:"Time zone of the cron specs (a spec may override it with CRON_TZ=Area/City as its first word)."`
	Retries         int           `toml:"retries" env:"OBSERVATOIRE_RETRIES" default:"3" doc:"Further attempts of a scheduled job whose failure is worth retrying (warehouse held by another run, transient I/O); data errors are never retried."`
	RetryBackoff    time.Duration `toml:"retry_backoff" env:"OBSERVATOIRE_RETRY_BACKOFF" default:"1m" doc:"Wait before the first retry; doubled at each further attempt, with up to 20 % jitter."`
	RetryMaxBackoff time.Duration `toml:"retry_max_backoff" env:"OBSERVATOIRE_RETRY_MAX_BACKOFF" default:"15m" doc:"Longest wait between two attempts."`
	JobTimeout      time.Duration `toml:"job_timeout" env:"OBSERVATOIRE_JOB_TIMEOUT" default:"6h" doc:"A scheduled job still running after this is cancelled (its current transaction rolls back) and recorded as failed; 0 = no limit."`
	Jobs            []Job         `toml:"jobs" doc:"Scheduled jobs, one [[schedule.jobs]] table each (fields below). No job: 'observatoire schedule' refuses to start."`
}

// Job is one scheduled job.
type Job struct {
	Name    string   `toml:"name" doc:"Job name, unique; recorded in meta.run.job and shown by 'observatoire runs' and 'status'."`
	Spec    string   `toml:"spec" doc:"Cron spec: 5 fields (minute hour day-of-month month day-of-week), 6 with a leading seconds field, or @daily/@every 1h; an optional CRON_TZ=Area/City prefix overrides schedule.time_zone."`
	Command string   `toml:"command" doc:"What to run, in-process, exactly as the command of the same name: ingest-inbox ('ingest --inbox'), transform, report, run, or freshness (check late sources and notify)."`
	Args    []string `toml:"args" doc:"Extra arguments of that command, e.g. [\"--inbox\"] for run, [\"--full-refresh\"] for transform."`
}

// Notify configures notifications: a failed run, a failed data test of error
// severity, a late source.
type Notify struct {
	Command string        `toml:"command" env:"OBSERVATOIRE_NOTIFY_COMMAND" default:"" doc:"Shell command (sh -c) run for each notification: the message in plain text on its standard input, the event as JSON in $OBSERVATOIRE_EVENT_JSON, its kind in $OBSERVATOIRE_EVENT."`
	Webhook string        `toml:"webhook" env:"OBSERVATOIRE_NOTIFY_WEBHOOK" default:"" doc:"URL receiving each notification as a JSON POST (its text field suits Slack/Mattermost incoming webhooks); any non-2xx answer is an error."`
	Timeout time.Duration `toml:"timeout" env:"OBSERVATOIRE_NOTIFY_TIMEOUT" default:"10s" doc:"Longest wait for the notification command or webhook."`
}

// Freshness says when each source's export is expected, for 'observatoire
// status' and the freshness job.
type Freshness struct {
	Sources []Expect `toml:"sources" doc:"Expected exports, one [[freshness.sources]] table each (fields below). When the file names none, the built-in calendar applies: rpe_activity, availability and family_request monthly, due 15 days after the month; am_register monthly, due 30 days after; collective_places yearly, due 400 days after the year; population yearly, due 550 days after. 'freshness.sources = []' expects nothing."`
}

// Expect is one source's calendar.
type Expect struct {
	Source   string `toml:"source" doc:"Source contract (as in meta.file_ledger.source), e.g. rpe_activity."`
	Every    string `toml:"every" doc:"month or year: one export per sender and period."`
	DueDays  int    `toml:"due_days" doc:"Days after the end of a period by which its export is expected; past that the source, or a sender that has not sent it, is late."`
	Lookback int    `toml:"lookback" doc:"A sender is expected when it sent this source in the Lookback periods before; 0 = 12 for month, 3 for year."`
}

// DefaultExpectations is the calendar used when the config file has no
// [[freshness.sources]].
var DefaultExpectations = []Expect{
	{Source: "rpe_activity", Every: "month", DueDays: 15},
	{Source: "availability", Every: "month", DueDays: 15},
	{Source: "family_request", Every: "month", DueDays: 15},
	{Source: "am_register", Every: "month", DueDays: 30},
	{Source: "collective_places", Every: "year", DueDays: 400},
	{Source: "population", Every: "year", DueDays: 550},
}

// Load returns the defaults overlaid with the file (path, or DefaultFile when
// path is empty and it exists) and the environment.
func Load(path string) (Config, error) {
	var c Config
	if err := walk(reflect.ValueOf(&c).Elem(), "", func(f field) error { return f.set(f.def) }); err != nil {
		return c, err
	}
	if path == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			path = DefaultFile
		}
	}
	fresh := false
	if path != "" {
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return c, fmt.Errorf("config %s: unknown keys %s (see 'observatoire config')", path, strings.Join(keys, ", "))
		}
		fresh = md.IsDefined("freshness", "sources")
	}
	if !fresh {
		c.Freshness.Sources = append([]Expect(nil), DefaultExpectations...)
	}
	err := walk(reflect.ValueOf(&c).Elem(), "", func(f field) error {
		if f.env == "" {
			return nil
		}
		if v, ok := os.LookupEnv(f.env); ok {
			if err := f.set(v); err != nil {
				return fmt.Errorf("environment %s: %w", f.env, err)
			}
		}
		return nil
	})
	return c, err
}

// Key documents one configuration key.
type Key struct {
	Name, Env, Default, Doc, Type string
}

// Keys lists every key of the spec, in declaration order.
func Keys() []Key {
	var keys []Key
	var c Config
	_ = walk(reflect.ValueOf(&c).Elem(), "", func(f field) error {
		keys = append(keys, Key{Name: f.name, Env: f.env, Default: f.def, Doc: f.doc, Type: f.typ})
		// A list of tables documents its fields as name[].field.
		if t := f.v.Type(); t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
			for i := 0; i < t.Elem().NumField(); i++ {
				sf := t.Elem().Field(i)
				keys = append(keys, Key{Name: f.name + "[]." + sf.Tag.Get("toml"), Doc: sf.Tag.Get("doc"), Type: typeName(sf.Type)})
			}
		}
		return nil
	})
	return keys
}

// Docs renders the spec as a Markdown table (docs/operations.md embeds it;
// a test fails when the two differ).
func Docs() string {
	var b strings.Builder
	b.WriteString("| key | type | environment | default | meaning |\n|---|---|---|---|---|\n")
	for _, k := range Keys() {
		env := ""
		if k.Env != "" {
			env = "`" + k.Env + "`"
		}
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, k.Type, env, def, strings.ReplaceAll(k.Doc, "|", "\\|"))
	}
	return b.String()
}

type field struct {
	name, env, def, doc, typ string
	v                        reflect.Value
}

var durationType = reflect.TypeOf(time.Duration(0))

func (f field) set(s string) error {
	switch {
	case f.v.Type() == durationType:
		if s == "" {
			return nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.v.SetInt(int64(d))
	case f.v.Kind() == reflect.String:
		f.v.SetString(s)
	case f.v.Kind() == reflect.Int:
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		f.v.SetInt(int64(n))
	case f.v.Kind() == reflect.Float64:
		if s == "" {
			return nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.v.SetFloat(x)
	case f.v.Kind() == reflect.Slice:
		// Lists come from the file only.
	default:
		return errors.New("unsupported config type " + f.v.Type().String())
	}
	return nil
}

func walk(v reflect.Value, prefix string, fn func(field) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("toml")
		if prefix != "" {
			name = prefix + "." + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != durationType {
			if err := walk(fv, name, fn); err != nil {
				return err
			}
			continue
		}
		typ := typeName(fv.Type())
		if err := fn(field{name: name, env: sf.Tag.Get("env"), def: sf.Tag.Get("default"), doc: sf.Tag.Get("doc"), typ: typ, v: fv}); err != nil {
			return err
		}
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "list of tables"
	case t.Kind() == reflect.Slice:
		return "list of " + t.Elem().String()
	}
	return t.String()
}
