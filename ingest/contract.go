package ingest

import (
	"fmt"
	"io"
	"strings"
)

// Type is the type of a contract field, as the source file writes it. It
// decides how the text of a cell is parsed and checked.
type Type string

const (
	TText          Type = "text"           // trimmed text, empty = NULL
	TInt           Type = "int"            // integer; spaces, U+00A0, U+202F as thousands separators; "4,0" is 4
	TDouble        Type = "decimal"        // decimal comma or point, thousands separators as above
	TDate          Type = "date"           // dd/mm/yyyy, yyyy-mm-dd (also dd-mm-yyyy, dd.mm.yyyy; Excel serial in XLSX)
	TBool          Type = "bool"           // oui/non, o/n, yes/no, true/false, vrai/faux, 1/0, x/empty
	TEnum          Type = "enum"           // a label the profile maps onto one of Codes
	TEnumList      Type = "enum list"      // labels separated by , ; or |
	TCommune       Type = "commune"        // COG commune code; old codes follow ref.commune_merge; 4 digits get their leading 0 back
	TCommuneList   Type = "commune list"   // commune codes separated by , ; | or spaces
	TDepartement   Type = "departement"    // département code (01, 2A, 971); DREES aggregate codes are rejected with their reason
	TTerritory     Type = "territory"      // code of the territory at the level of the field named in Field.LevelOf
	TPseudonym     Type = "pseudonym"      // personal identifier: replaced by its keyed pseudonym
	TPseudonymList Type = "pseudonym list" // personal identifiers separated by | ; or ,
	TMonth         Type = "month"          // first day of a month: the file's period, else the month of Field.DateOf
)

// SQLType is the DuckDB column type a field lands as in its raw table.
func (t Type) SQLType() string {
	switch t {
	case TInt:
		return "INTEGER"
	case TDouble:
		return "DOUBLE"
	case TDate, TMonth:
		return "DATE"
	case TBool:
		return "BOOLEAN"
	case TEnumList, TCommuneList, TPseudonymList:
		return "VARCHAR[]"
	default:
		return "VARCHAR"
	}
}

// Field is one column of a contract.
type Field struct {
	Name     string
	Type     Type
	Required bool
	Doc      string
	Codes    []string // TEnum, TEnumList: the codes values are mapped to
	Min, Max float64  // TInt, TDouble: bounds when Bounded; TDate: years (Max relative to today when <= 0: today + |Max| years)
	Bounded  bool
	LevelOf  string // TTerritory: the field holding the level
	DateOf   string // TMonth: date field whose month is used when the file has no monthly period
}

// Check is a rule over several typed fields of one row; SQL is a DuckDB
// boolean expression over the field names, true (or NULL) when the row is
// fine.
type Check struct {
	Field  string // the field reported in quarantine
	SQL    string
	Reason string
}

// Contract is the documented shape of one source: what a file of that
// source must give, once its profile has mapped it.
type Contract struct {
	Source string // "am_register"
	Table  string // "raw.am_register"
	Title  string
	Doc    string
	Period string // "month", "year" or "" (no period): the grain of a file's period
	Fields []Field
	Checks []Check
}

// Field returns the field with that name.
func (c *Contract) Field(name string) (Field, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func rng(f Field, min, max float64) Field { f.Min, f.Max, f.Bounded = min, max, true; return f }

var ynFields = []string{"before_7h", "after_20h", "saturday", "sunday", "night", "after_school", "wednesday", "holidays", "disability", "occasional"}

var contracts = func() []Contract {
	availability := []Field{
		{Name: "month", Type: TMonth, Required: true, Doc: "month of the monenfant.fr state (1st of month), from the file's period"},
		{Name: "am_id", Type: TPseudonym, Required: true, Doc: "approval number of the AM (personal data: pseudonymised)"},
		{Name: "commune", Type: TCommune, Required: true, Doc: "commune of work"},
		{Name: "declared_on", Type: TDate, Doc: "date of the AM's last availability declaration; empty = never declared", Min: 2000, Max: -1},
		rng(Field{Name: "children_cared", Type: TInt, Doc: "children currently cared for"}, 0, 12),
		rng(Field{Name: "places_available", Type: TInt, Doc: "places declared available"}, 0, 4),
		{Name: "available_from", Type: TDate, Doc: "available from", Min: 2000, Max: -3},
		{Name: "age_bracket", Type: TEnum, Doc: "age bracket of the available places", Codes: []string{"under18m", "18m_3y", "over3y", "all"}},
	}
	yn := map[string]string{
		"before_7h": "accepts a child before 7h", "after_20h": "after 20h", "saturday": "on Saturday", "sunday": "on Sunday",
		"night": "at night", "after_school": "before/after school (périscolaire)", "wednesday": "on Wednesday", "holidays": "during school holidays",
		"disability": "accepts a child with a disability", "occasional": "occasional or emergency care",
	}
	for _, n := range ynFields {
		availability = append(availability, Field{Name: n, Type: TBool, Doc: yn[n]})
	}
	return []Contract{
		{
			Source: "population", Table: "raw.population", Period: "year",
			Title: "Population (INSEE)",
			Doc:   "Children aged 0-2 and births per commune and year. INSEE base-ic-evol-struct-pop files are at IRIS level: their rows are summed to communes.",
			Fields: []Field{
				{Name: "commune", Type: TCommune, Required: true, Doc: "COG commune code"},
				rng(Field{Name: "year", Type: TInt, Required: true, Doc: "year"}, 1990, 2100),
				rng(Field{Name: "children_0_2", Type: TDouble, Doc: "children aged 0 to 2 (survey estimate, may be non-integer)"}, 0, 1e6),
				rng(Field{Name: "births", Type: TInt, Doc: "births in the year"}, 0, 1e6),
			},
			Checks: []Check{{Field: "children_0_2", SQL: "children_0_2 IS NOT NULL OR births IS NOT NULL", Reason: "neither children aged 0-2 nor births given"}},
		},
		{
			Source: "am_register", Table: "raw.am_register", Period: "month",
			Title: "AM register (PMI)",
			Doc:   "One row per approved childminder (assistant maternel), as of the snapshot month. Names, addresses, phones and e-mails are dropped; the approval number becomes a keyed pseudonym.",
			Fields: []Field{
				{Name: "snapshot_month", Type: TMonth, Required: true, Doc: "month of the snapshot (1st of month), from the file's period"},
				{Name: "am_id", Type: TPseudonym, Required: true, Doc: "approval number (personal data: pseudonymised)"},
				{Name: "commune", Type: TCommune, Required: true, Doc: "commune of work"},
				{Name: "in_mam", Type: TBool, Doc: "works in a MAM (maison d'assistants maternels)"},
				{Name: "approval_date", Type: TDate, Required: true, Doc: "approval date", Min: 1960, Max: -1},
				{Name: "end_date", Type: TDate, Doc: "end of approval (withdrawn, ceased, retired); empty = valid", Min: 1960, Max: -5},
				{Name: "status", Type: TEnum, Required: true, Doc: "status", Codes: []string{"active", "suspended", "withdrawn", "ceased"}},
				rng(Field{Name: "places", Type: TInt, Required: true, Doc: "places approved, total (legal maximum 4; up to 6 by derogation are refused)"}, 1, 4),
				rng(Field{Name: "places_under3", Type: TInt, Doc: "of which under 3; empty = unknown"}, 0, 4),
				rng(Field{Name: "birth_year", Type: TInt, Doc: "AM's year of birth"}, 1930, 2010),
			},
			Checks: []Check{
				{Field: "places_under3", SQL: "places_under3 IS NULL OR places IS NULL OR places_under3 <= places", Reason: "more places under 3 than places approved"},
				{Field: "end_date", SQL: "end_date IS NULL OR approval_date IS NULL OR end_date >= approval_date", Reason: "end of approval before the approval date"},
				{Field: "approval_date", SQL: "approval_date IS NULL OR approval_date < snapshot_month + INTERVAL 1 MONTH", Reason: "approval date after the snapshot month"},
				{Field: "birth_year", SQL: "birth_year IS NULL OR approval_date IS NULL OR year(approval_date) - birth_year >= 18", Reason: "approved before the age of 18"},
			},
		},
		{
			Source: "availability", Table: "raw.availability", Period: "month",
			Title:  "AM availability (monenfant.fr)",
			Doc:    "State of each approved AM's monenfant.fr availability at the end of the month, one row per AM.",
			Fields: availability,
			Checks: []Check{{Field: "declared_on", SQL: "declared_on IS NULL OR declared_on < month + INTERVAL 1 MONTH", Reason: "declaration after the month of the file"}},
		},
		{
			Source: "rpe_register", Table: "raw.rpe_register",
			Title: "RPE register (CAF)",
			Doc:   "One row per Relais Petite Enfance: its managing body, the communes it covers, its staff and its missions renforcées. Loading it refreshes the RPE territories of ref.territory and ref.commune_territory.",
			Fields: []Field{
				{Name: "rpe_id", Type: TText, Required: true, Doc: "RPE identifier"},
				{Name: "name", Type: TText, Required: true, Doc: "name of the relais"},
				{Name: "manager_type", Type: TEnum, Doc: "managing body", Codes: []string{"commune", "epci", "ccas", "association", "mutual", "other_public"}},
				{Name: "communes", Type: TCommuneList, Required: true, Doc: "communes covered (current COG codes)"},
				rng(Field{Name: "fte", Type: TDouble, Doc: "staff in full-time equivalents"}, 0, 100),
				{Name: "reinforced", Type: TEnumList, Doc: "missions renforcées; empty = none", Codes: []string{"guichet_unique", "practice_analysis", "promotion"}},
			},
		},
		{
			Source: "rpe_activity", Table: "raw.rpe_activity", Period: "month",
			Title: "RPE activity",
			Doc:   "One row per event of an RPE: permanence, contact, appointment, atelier, meeting, training... Approval numbers of the AMs present are pseudonymised.",
			Fields: []Field{
				{Name: "month", Type: TMonth, Required: true, Doc: "month of the export (the file's period, else the event's month)", DateOf: "event_date"},
				{Name: "rpe_id", Type: TText, Required: true, Doc: "RPE identifier"},
				{Name: "event_date", Type: TDate, Required: true, Doc: "date of the event", Min: 2000, Max: -1},
				{Name: "kind", Type: TEnum, Required: true, Doc: "kind of event", Codes: []string{"permanence", "contact_phone", "contact_email", "contact_in_person", "appointment", "atelier", "collective_time", "meeting", "conference", "training", "practice_analysis"}},
				{Name: "public", Type: TEnum, Doc: "public (empty for collective events)", Codes: []string{"parent", "am", "home_carer", "partner"}},
				{Name: "topic", Type: TEnum, Doc: "topic (empty for collective events)", Codes: []string{"search", "contract", "employer", "conflict", "training", "profession", "other"}},
				{Name: "commune", Type: TCommune, Doc: "commune of the person"},
				rng(Field{Name: "n_am", Type: TInt, Doc: "AMs present"}, 0, 10000),
				rng(Field{Name: "n_children", Type: TInt, Doc: "children present"}, 0, 10000),
				rng(Field{Name: "n_parents", Type: TInt, Doc: "parents present"}, 0, 10000),
				{Name: "participants", Type: TPseudonymList, Doc: "approval numbers of the AMs present (personal data: pseudonymised)"},
			},
			Checks: []Check{{Field: "event_date", SQL: "event_date IS NULL OR month IS NULL OR date_trunc('month', event_date) = month", Reason: "event outside the month of the file"}},
		},
		{
			Source: "family_request", Table: "raw.family_request", Period: "month",
			Title: "Family requests (guichet unique)",
			Doc:   "One row per request for a care place received by an RPE. Parents' names, phones and e-mails are dropped; the request id becomes a keyed pseudonym.",
			Fields: []Field{
				{Name: "month", Type: TMonth, Required: true, Doc: "month the request was received (the file's period, else the month of received_on)", DateOf: "received_on"},
				{Name: "request_id", Type: TPseudonym, Required: true, Doc: "request id (personal data: pseudonymised)"},
				{Name: "rpe_id", Type: TText, Doc: "RPE that handled it"},
				{Name: "commune", Type: TCommune, Required: true, Doc: "family's commune"},
				{Name: "received_on", Type: TDate, Required: true, Doc: "received", Min: 2000, Max: -1},
				rng(Field{Name: "child_age_months", Type: TInt, Doc: "child's age in months at the wanted start (negative: not born yet)"}, -9, 72),
				{Name: "wanted_start", Type: TDate, Doc: "wanted start", Min: 2000, Max: -3},
				{Name: "atypical_hours", Type: TBool, Doc: "before 7h, after 20h, weekend or night"},
				{Name: "disability", Type: TBool, Doc: "child with a disability"},
				{Name: "wanted_mode", Type: TEnum, Doc: "care mode wanted", Codes: []string{"am", "creche", "any"}},
				{Name: "first_answer_on", Type: TDate, Doc: "first answer or appointment", Min: 2000, Max: -1},
				{Name: "outcome", Type: TEnum, Doc: "outcome", Codes: []string{"found_am", "found_creche", "other", "none", "withdrawn", "pending"}},
				{Name: "outcome_on", Type: TDate, Doc: "date of the outcome", Min: 2000, Max: -1},
			},
			Checks: []Check{
				{Field: "first_answer_on", SQL: "first_answer_on IS NULL OR received_on IS NULL OR first_answer_on >= received_on", Reason: "first answer before the request was received"},
				{Field: "outcome_on", SQL: "outcome_on IS NULL OR received_on IS NULL OR outcome_on >= received_on", Reason: "outcome before the request was received"},
			},
		},
		{
			Source: "collective_places", Table: "raw.collective_places", Period: "year",
			Title: "Formal care places other than AMs (CAF nbpla_pe)",
			Doc:   "Places for children under 3 per commune and year: EAJE (PSU and hors PSU), préscolarisation at age 2, salariés à domicile; the CAF's own AM figure is kept for information.",
			Fields: []Field{
				{Name: "commune", Type: TCommune, Required: true, Doc: "COG commune code"},
				rng(Field{Name: "year", Type: TInt, Required: true, Doc: "year"}, 1990, 2100),
				rng(Field{Name: "eaje_psu", Type: TInt, Doc: "places in EAJE funded by the PSU"}, 0, 1e6),
				rng(Field{Name: "eaje_hors_psu", Type: TInt, Doc: "places in EAJE outside the PSU"}, 0, 1e6),
				rng(Field{Name: "ecole_2ans", Type: TInt, Doc: "children aged 2 at school (préscolarisation)"}, 0, 1e6),
				rng(Field{Name: "home_carer", Type: TInt, Doc: "places with salariés à domicile"}, 0, 1e6),
				rng(Field{Name: "am_caf", Type: TInt, Doc: "the CAF's own AM places figure (informative)"}, 0, 1e6),
			},
		},
		{
			Source: "caf_rate", Table: "raw.caf_rate", Period: "year",
			Title: "Official coverage rates (data.caf.fr txcouv_pe)",
			Doc:   "Coverage rates (places per 100 children under 3) by territory, year and mode, as published by the CAF. Wide files (one column per mode) are unpivoted by their profile. Rates above 100 exist.",
			Fields: []Field{
				{Name: "level", Type: TEnum, Required: true, Doc: "territory level", Codes: []string{"commune", "epci", "departement", "region", "france"}},
				{Name: "code", Type: TTerritory, Required: true, Doc: "territory code at that level (communes follow merges; France = FR)", LevelOf: "level"},
				rng(Field{Name: "year", Type: TInt, Required: true, Doc: "year"}, 1990, 2100),
				{Name: "mode", Type: TEnum, Required: true, Doc: "care mode", Codes: []string{"total", "am", "eaje_psu", "eaje_hors_psu", "eaje", "ecole", "home", "individual"}},
				rng(Field{Name: "rate", Type: TDouble, Required: true, Doc: "places per 100 children under 3"}, 0, 1000),
			},
		},
		{
			Source: "drees", Table: "raw.drees", Period: "year",
			Title: "DREES tables (L'offre d'accueil du jeune enfant)",
			Doc:   "DREES wide tables (one column per year) per département, unpivoted: Tab33 approvals of AMs, Tab23-32 crèches and their places. Empty cells give no row. DREES aggregate codes (20 Corse, 6AE Alsace, 69D/69M parts of the Rhône) are quarantined with that reason, so that nothing is counted twice.",
			Fields: []Field{
				{Name: "table_id", Type: TText, Required: true, Doc: "DREES table (Tab33...), from the file name"},
				{Name: "departement", Type: TDepartement, Required: true, Doc: "département code"},
				rng(Field{Name: "year", Type: TInt, Required: true, Doc: "year"}, 1990, 2100),
				rng(Field{Name: "value", Type: TDouble, Required: true, Doc: "value"}, 0, 1e8),
			},
		},
	}
}()

// Contracts returns the documented contracts, one per source.
func Contracts() []Contract {
	out := make([]Contract, len(contracts))
	copy(out, contracts)
	return out
}

func contractFor(source string) (*Contract, bool) {
	for i := range contracts {
		if contracts[i].Source == source {
			return &contracts[i], true
		}
	}
	return nil, false
}

func sourceNames() []string {
	var s []string
	for _, c := range contracts {
		s = append(s, c.Source)
	}
	return s
}

// WriteContractDocs writes the Markdown reference page of the contracts and
// of the built-in profiles.
func WriteContractDocs(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Source contracts (generated by `ingest.WriteContractDocs`: do not edit)\n\n")
	b.WriteString("Each source has one contract: the typed columns its raw table holds. A mapping\n" +
		"profile (TOML, see below) maps a real export onto it. Every raw table also has\n" +
		"`file_id BIGINT` (meta.file_ledger) and `line BIGINT` (line in the source file).\n\n")
	b.WriteString(rulesDoc)
	for _, c := range contracts {
		fmt.Fprintf(&b, "\n## %s — `%s`\n\n%s\n\n", c.Title, c.Table, c.Doc)
		switch c.Period {
		case "month":
			b.WriteString("Period of a file: a month (`2025-03`), from the file name (`_YYYY-MM`), else from its dates.\n\n")
		case "year":
			b.WriteString("Period of a file: a year or a range of years (`2025`, `2017-2022`), from the file name, else from its data.\n\n")
		default:
			b.WriteString("No period: a new file of the same sender replaces the earlier one whole.\n\n")
		}
		b.WriteString("| field | type | column type | required | meaning |\n|---|---|---|---|---|\n")
		for _, f := range c.Fields {
			req := ""
			if f.Required {
				req = "yes"
			}
			doc := f.Doc
			if len(f.Codes) > 0 {
				doc += ": `" + strings.Join(f.Codes, "`, `") + "`"
			}
			if f.Bounded {
				doc += fmt.Sprintf(" (%s to %s)", fmtNum(f.Min), fmtNum(f.Max))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Name, f.Type, f.Type.SQLType(), req, doc)
		}
		if len(c.Checks) > 0 {
			b.WriteString("\nRow checks:\n")
			for _, ch := range c.Checks {
				fmt.Fprintf(&b, "- %s (`%s`)\n", ch.Reason, ch.SQL)
			}
		}
		var names []string
		for _, p := range builtinProfiles() {
			if p.Source == c.Source {
				names = append(names, "`"+p.Name+"`")
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, "\nBuilt-in profiles: %s.\n", strings.Join(names, ", "))
		}
	}
	b.WriteString(profileDoc)
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtNum(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%g", f)
}
