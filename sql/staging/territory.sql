-- description: Territoires (ref.territory) avec leur groupe de pairs pour les
--   rangs et quartiles : une commune, un EPCI ou un RPE est comparé aux
--   territoires de même niveau de son département ; un département, une
--   région aux autres de France.
-- grain: un territoire (niveau, code)
-- source: ref.territory, ref.commune_territory (COG 2026, registre des RPE)
-- columns:
--   level: niveau (commune, epci, rpe, departement, region, france)
--   code: code officiel (COG, SIREN de l'EPCI, identifiant du RPE, FR)
--   name: nom
--   parent_level: niveau du territoire parent (comparaison « écart au parent »)
--   parent_code: code du territoire parent
--   peer_group: groupe de pairs pour rang, pairs et quartile (code du département, ou FR)
--   peer_gid: numéro du couple (niveau, groupe de pairs), pour partitionner vite
--   tid: numéro du territoire (clé entière des calculs de masquage)
--   parent_tid: numéro du territoire parent
-- tests:
--   - unique: level, code
--   - not_null: level, code, peer_group
--   - accepted_values: level in ('commune', 'epci', 'rpe', 'departement', 'region', 'france')
SELECT u.*, p.tid AS parent_tid
FROM (
SELECT *, CAST(dense_rank() OVER (ORDER BY level, peer_group) AS INTEGER) AS peer_gid,
    CAST(row_number() OVER (ORDER BY level, code) AS INTEGER) AS tid
FROM (
SELECT
    t.level, t.code, t.name, t.parent_level, t.parent_code, t.population,
    CASE
        WHEN t.level = 'commune' THEN coalesce(d.code, t.parent_code)
        WHEN t.level IN ('epci', 'rpe') THEN coalesce(t.parent_code, 'FR')
        ELSE 'FR'
    END AS peer_group
FROM ref.territory t
-- an equality join only: with "t.level = 'commune'" in the ON clause DuckDB
-- planned a nested-loop join (36k x 35k, seconds); the CASE above reads d
-- for communes only
LEFT JOIN (SELECT commune, code FROM ref.commune_territory WHERE level = 'departement') d ON d.commune = t.code
QUALIFY row_number() OVER (PARTITION BY t.level, t.code ORDER BY d.code) = 1
)
) u
LEFT JOIN (SELECT level, code, CAST(row_number() OVER (ORDER BY level, code) AS INTEGER) AS tid
    FROM (SELECT DISTINCT level, code FROM ref.territory)) p
    ON p.level = u.parent_level AND p.code = u.parent_code
