package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/rpe-observatoire/observatoire/data"
)

const refDDL = `
CREATE TABLE IF NOT EXISTS ref.territory (
	level        VARCHAR NOT NULL,
	code         VARCHAR NOT NULL,
	name         VARCHAR,
	parent_level VARCHAR,
	parent_code  VARCHAR,
	population   BIGINT,
	PRIMARY KEY (level, code)
);
CREATE TABLE IF NOT EXISTS ref.commune_territory (
	commune VARCHAR NOT NULL,
	level   VARCHAR NOT NULL,
	code    VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.commune_merge (
	old_code VARCHAR PRIMARY KEY,
	code     VARCHAR NOT NULL
);`

// LoadReference (re)builds ref.territory, ref.commune_territory and
// ref.commune_merge from the embedded COG files of package data, plus the
// RPE areas of raw.rpe_register when it has rows. It is idempotent: one
// transaction replaces the whole content.
func LoadReference(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := EnsureSchema(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, refDDL); err != nil {
		return fmt.Errorf("create ref tables: %w", err)
	}
	// Every ingest calls this; rebuilding costs ~3 s, a third of a monthly
	// ingest. Skip it when the tables were built from the same embedded
	// files by the same logic.
	version, err := referenceVersion()
	if err != nil {
		return err
	}
	var have sql.NullString
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT max(version) FROM meta.ref_version), (SELECT count(*) FROM ref.territory WHERE level = 'commune')`).Scan(&have, &n); err != nil {
		return err
	}
	if have.String == version && n > 0 {
		return nil
	}
	if err := stageReference(ctx, conn); err != nil {
		return fmt.Errorf("reference data: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fillReference(ctx, conn, true); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("reference data: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM meta.ref_version; INSERT INTO meta.ref_version VALUES ('"+version+"')"); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "DROP TABLE IF EXISTS _ref_communes; DROP TABLE IF EXISTS _ref_epci; DROP TABLE IF EXISTS _ref_dep; DROP TABLE IF EXISTS _ref_reg; DROP TABLE IF EXISTS _ref_merge")
	return err
}

// refLogic names the version of fillReference's SQL: change it when that
// SQL changes, so that existing warehouses rebuild their ref tables.
const refLogic = "ref-2026-11-25"

// referenceVersion identifies the reference tables' inputs: the embedded
// territory files and refLogic.
func referenceVersion() (string, error) {
	h := sha256.New()
	h.Write([]byte(refLogic))
	err := fs.WalkDir(data.Territories, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := data.Territories.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

// stageReference loads the embedded territories into temp tables _ref_*
// through Arrow.
func stageReference(ctx context.Context, conn *sql.Conn) error {
	communes, err := data.Communes()
	if err != nil {
		return err
	}
	rows := make([][]string, len(communes))
	for i, c := range communes {
		rows[i] = []string{c.Code, c.Name, c.Type, c.Departement, c.Region, c.EPCI, strconv.Itoa(c.Population)}
	}
	if err := loadRows(ctx, conn, rows, 7, "_ref_communes_t"); err != nil {
		return err
	}
	epcis, err := data.EPCIs()
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, e := range epcis {
		rows = append(rows, []string{e.Code, e.Name})
	}
	if err := loadRows(ctx, conn, rows, 2, "_ref_epci"); err != nil {
		return err
	}
	deps, err := data.Departements()
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, d := range deps {
		rows = append(rows, []string{d.Code, d.Name, d.Region})
	}
	if err := loadRows(ctx, conn, rows, 3, "_ref_dep"); err != nil {
		return err
	}
	regs, err := data.Regions()
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, r := range regs {
		rows = append(rows, []string{r.Code, r.Name})
	}
	if err := loadRows(ctx, conn, rows, 2, "_ref_reg"); err != nil {
		return err
	}
	merges, err := readMerges()
	if err != nil {
		return err
	}
	if err := loadRows(ctx, conn, merges, 2, "_ref_merge"); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _ref_communes AS
		SELECT c0 AS code, c1 AS name, c2 AS type, c3 AS dep, c4 AS reg, c5 AS epci, CAST(c6 AS BIGINT) AS pop,
		       c3 IN (SELECT c0 FROM _ref_dep) AS known_dep
		FROM _ref_communes_t; DROP TABLE _ref_communes_t`)
	return err
}

func readMerges() ([][]string, error) {
	b, err := data.ReadFile("territories/commune_merges.csv")
	if err != nil {
		return nil, err
	}
	var out [][]string
	start := 0
	first := true
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '\n' {
			line := string(b[start:i])
			start = i + 1
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if line == "" {
				continue
			}
			if first {
				first = false
				if line != "old_code,code" {
					return nil, fmt.Errorf("commune_merges.csv: header %q", line)
				}
				continue
			}
			var old, cur string
			for j := 0; j < len(line); j++ {
				if line[j] == ',' {
					old, cur = line[:j], line[j+1:]
					break
				}
			}
			out = append(out, []string{old, cur})
		}
	}
	// follow chains (a -> b -> c becomes a -> c)
	next := map[string]string{}
	for _, r := range out {
		next[r[0]] = r[1]
	}
	for _, r := range out {
		seen := 0
		for {
			n, ok := next[r[1]]
			if !ok || seen > 20 {
				break
			}
			r[1] = n
			seen++
		}
	}
	return out, nil
}

// refreshPending refreshes the RPE territories of ref.territory and
// ref.commune_territory when an RPE register loaded since the last refresh
// (meta.ref_pending), in one transaction. A run calls it once at its end
// rather than once per register file (101 at national scale, 0.1 s each),
// and at its start, which completes the refresh of a run that stopped
// between a register's commit and its end.
func refreshPending(ctx context.Context, conn *sql.Conn) error {
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM meta.ref_pending").Scan(&n); err != nil || n == 0 {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	err := fillReference(ctx, conn, false)
	if err == nil {
		_, err = conn.ExecContext(ctx, "DELETE FROM meta.ref_pending")
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("refreshing the RPE territories: %w", err)
	}
	return nil
}

// fillReference replaces the content of the ref tables (inside the caller's
// transaction). Without base, only the RPE rows are refreshed (the COG part
// is then assumed loaded).
func fillReference(ctx context.Context, conn *sql.Conn, base bool) error {
	var stmts []string
	if base {
		stmts = append(stmts,
			`DELETE FROM ref.commune_merge`,
			`INSERT INTO ref.commune_merge SELECT c0, c1 FROM _ref_merge`,
			`DELETE FROM ref.territory`,
			`DELETE FROM ref.commune_territory`,
			// communes and municipal arrondissements
			`INSERT INTO ref.territory
			 SELECT 'commune', code, name,
			        CASE WHEN epci IS NOT NULL THEN 'epci' WHEN known_dep THEN 'departement' ELSE 'france' END,
			        CASE WHEN epci IS NOT NULL THEN epci WHEN known_dep THEN dep ELSE 'FR' END,
			        pop
			 FROM _ref_communes`,
			// EPCI: parent = département of its most populated commune
			`INSERT INTO ref.territory
			 SELECT 'epci', e.c0, e.c1, 'departement', arg_max(c.dep, c.pop), sum(c.pop)
			 FROM _ref_epci e JOIN _ref_communes c ON c.epci = e.c0 AND c.type = 'commune-actuelle'
			 GROUP BY e.c0, e.c1`,
			`INSERT INTO ref.territory
			 SELECT 'departement', d.c0, d.c1, 'region', d.c2,
			        (SELECT sum(pop) FROM _ref_communes c WHERE c.dep = d.c0 AND c.type = 'commune-actuelle')
			 FROM _ref_dep d`,
			`INSERT INTO ref.territory
			 SELECT 'region', r.c0, r.c1, 'france', 'FR',
			        (SELECT sum(pop) FROM _ref_communes c WHERE c.reg = r.c0 AND c.known_dep AND c.type = 'commune-actuelle')
			 FROM _ref_reg r WHERE r.c0 IN (SELECT c2 FROM _ref_dep)`,
			`INSERT INTO ref.territory
			 SELECT 'france', 'FR', 'France', NULL, NULL, sum(pop) FROM _ref_communes WHERE type = 'commune-actuelle'`,
			`INSERT INTO ref.commune_territory
			 SELECT code, 'commune', code FROM _ref_communes
			 UNION ALL SELECT code, 'epci', epci FROM _ref_communes WHERE epci IS NOT NULL
			 UNION ALL SELECT code, 'departement', dep FROM _ref_communes WHERE known_dep
			 UNION ALL SELECT code, 'region', reg FROM _ref_communes WHERE known_dep
			 UNION ALL SELECT code, 'france', 'FR' FROM _ref_communes`,
		)
	} else {
		stmts = append(stmts,
			`DELETE FROM ref.territory WHERE level = 'rpe'`,
			`DELETE FROM ref.commune_territory WHERE level = 'rpe'`)
	}
	// RPE areas: the latest row of each RPE id.
	stmts = append(stmts,
		`CREATE OR REPLACE TEMP TABLE _ref_rpe AS
		 SELECT rpe_id, arg_max(name, file_id) AS name, arg_max(communes, file_id) AS communes
		 FROM raw.rpe_register GROUP BY rpe_id`,
		`INSERT INTO ref.territory
		 SELECT 'rpe', r.rpe_id, r.name, 'departement',
		        arg_max(t.parent_dep, t.population), sum(t.population)
		 FROM _ref_rpe r, unnest(r.communes) u(commune)
		 JOIN (SELECT c.code, c.population,
		              (SELECT ct.code FROM ref.commune_territory ct WHERE ct.commune = c.code AND ct.level = 'departement') AS parent_dep
		       FROM ref.territory c WHERE c.level = 'commune') t ON t.code = u.commune
		 GROUP BY r.rpe_id, r.name`,
		`INSERT INTO ref.commune_territory
		 SELECT DISTINCT u.commune, 'rpe', r.rpe_id FROM _ref_rpe r, unnest(r.communes) u(commune)`,
		`DROP TABLE _ref_rpe`,
	)
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w (in %.80s)", err, s)
		}
	}
	return nil
}

// loadRows materialises rows (ncols columns c0.., all VARCHAR, empty =
// NULL, with their line) as the temp table name.
func loadRows(ctx context.Context, conn *sql.Conn, rows [][]string, ncols int, name string) error {
	return loadArrow(ctx, conn, newTextReader(&sliceSource{rows: rows}, ncols, allColumns(ncols), nil), name)
}
