-- description: Les grandeurs additives de int.commune_month sommées à chaque
--   niveau de territoire (commune, EPCI, RPE, département, région, France)
--   par une seule jointure sur ref.commune_territory. Une commune couverte
--   par deux RPE compte pour chacun.
-- grain: un territoire (niveau, code) et un mois
-- source: int.commune_month, ref.commune_territory
-- incremental: in_window(month)
-- columns:
--   level: niveau du territoire
--   code: code du territoire
--   month: mois
--   (grandeurs): mêmes colonnes et définitions que int.commune_month, sommées
-- tests:
--   - unique: level, code, month
--   - not_null: level, code, month
SELECT level, code, month, sum(COLUMNS(* EXCLUDE (level, code, month)))
FROM (
    SELECT ct.level, ct.code, cm.* EXCLUDE (commune)
    FROM int.commune_month cm
    JOIN ref.commune_territory ct ON ct.commune = cm.commune
    WHERE in_window(cm.month)
)
GROUP BY level, code, month
