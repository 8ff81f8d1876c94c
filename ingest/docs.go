package ingest

import "path/filepath"

func absPath(p string) (string, error) { return filepath.Abs(p) }

const rulesDoc = `## Rules common to every source

- **Recognition.** A file is matched to a profile by its header: the profile
  whose columns it has (all the required ones) with the best score wins; the
  file name pattern breaks ties and gives the sender and period. The header
  may sit below title rows (up to 30). ` + "`--profile`" + ` / ` + "`--source`" + ` force the choice.
  An unknown layout is refused with the missing and unexpected columns and the
  nearest known names.
- **Formats.** CSV with ` + "`;`" + `, ` + "`,`" + `, tab or ` + "`|`" + ` (detected), UTF-8 with or without BOM or
  Windows-1252 (detected), CRLF or LF, with or without a final newline; XLSX
  (the sheet and header row are found, or named by the profile); JSON (an array
  of objects, at the top or under ` + "`format.records`" + `) and NDJSON. Blank rows and
  total rows at the bottom ("Total", "Ensemble", "France") are skipped.
- **Values.** Cells are trimmed; an empty cell is missing. Numbers take a
  decimal comma or point and spaces, U+00A0 or U+202F as thousands
  separators. Dates: ` + "`dd/mm/yyyy`" + `, ` + "`yyyy-mm-dd`" + ` (also ` + "`dd-mm-yyyy`" + `, ` + "`dd.mm.yyyy`" + `,
  date-times, Excel serial dates in XLSX), and must be plausible. Yes/no:
  ` + "`oui`/`non`" + `, ` + "`o`/`n`" + `, ` + "`1`/`0`" + `, ` + "`vrai`/`faux`" + `, ` + "`x`" + `. Labels are compared without case,
  accents or extra spaces. Commune codes get a lost leading zero back (` + "`1004`" + ` is
  ` + "`01004`" + `), and old codes are carried to the current commune (ref.commune_merge);
  placeholder codes (` + "`XX`" + `, ` + "`XXX`" + `, ` + "`ND`" + `...) are rejected.
- **Counting.** read = accepted + rejected, in source records. A record with a
  faulty cell is rejected whole: it goes to ` + "`meta.quarantine`" + ` (file, line, column,
  value, reason), one row per faulty cell. Above ` + "`max_reject_share`" + ` (5 % by
  default) of rejected records, the file is refused and nothing of it loads.
- **One file, one transaction.** Rows, quarantine, ledger and replacement commit
  together or not at all. ` + "`--dry-run`" + ` runs everything and rolls back.
- **Ledger and replacement.** ` + "`meta.file_ledger`" + ` records each file with its SHA-256.
  The same content again is ` + "`unchanged`" + ` (nothing happens). A file with the same
  (source, sender, period) as a current earlier file **replaces** it: the earlier
  rows are deleted in the same transaction and its ` + "`replaced_by`" + ` set. Sender and
  period come from the file name (profile ` + "`[file] pattern`" + `), else from the data
  (the one département of its communes, else ` + "`FR`" + `; the month or year range).
- **Personal data.** Columns listed in a profile's ` + "`drop`" + ` (names, addresses,
  phones, e-mails) are never loaded. Identifiers of people become pseudonyms:
  the first 16 hex characters of HMAC-SHA256(secret, id), id trimmed,
  upper-cased, without spaces. Outside the demo, ingest refuses to run without
  a secret; the secret is passed to DuckDB as a query parameter and never stored.
`

const profileDoc = `
## Mapping profiles

A profile is a TOML file. The built-in ones are in ` + "`ingest/profiles/`" + `; a file of the
same name in the profiles directory (` + "`[ingest] profiles_dir`" + `) overrides one, others
add layouts.

` + "```toml" + `
name = "my-pmi-register"          # unique name (--profile)
source = "am_register"            # the contract it maps onto
description = "PMI register exported by XYZ software"

[file]
pattern = '(?i)agrements_(?P<sender>\d{2,3})_(?P<period>\d{4}-\d{2})'  # named groups
# sender = "{sender}"             # templates over the groups; literal text allowed
# period = "all"                  # "all": the file is the whole series

[format]                          # all optional: detected
# kind = "csv"                    # csv, xlsx, json, ndjson
# delimiter = ";"
# encoding = "windows-1252"
# sheet = "Agréments"
# header_row = 3
# records = "data.rows"           # JSON: path of the array of records

[columns]                         # contract field = source column
am_id = "N° agrément"
commune = ["Code INSEE", "Commune (code)"]        # alternatives
places = { pattern = '^nb.*places' }                # header regexp
status = { value = "active" }                       # constant
year = { header_of = "children_0_2", match = '^P(\d\d)_', template = "20$1" }  # from a header
table_id = { file = "table" }                       # from a file-name group

drop = ["Nom", "Prénom", "Adresse"]   # expected, never loaded (personal data)

[values.status]                   # label -> code (case, accents, spaces ignored)
"En activité" = "active"

[unpivot]                         # wide files: one row per matching column
columns = '^(\d{4})$'             # group 1 gives the key
key = "year"
value = "value"
# names = { "Taux global" = "total" }   # or explicit header -> key

[aggregate]                       # sum rows after validation (IRIS -> commune)
by = ["commune", "year"]
sum = ["children_0_2"]

[[reject]]                        # quarantine rows with these values, with a reason
field = "departement"
values = ["6AE"]
reason = "aggregate of 67 and 68"
` + "```" + `
`
