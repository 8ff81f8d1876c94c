-- description: Enfants de moins de 3 ans et naissances par commune et année
--   (INSEE), codes des communes fusionnées ramenés au code actuel. Chaque
--   année vaut de son 1er janvier jusqu'à l'année suivante publiée : un mois
--   prend la dernière année connue antérieure ou égale.
-- grain: une commune et une année
-- source: raw.population (INSEE, base-ic-evol-struct-pop sommée par commune ; état civil)
-- columns:
--   commune: code commune (COG courant)
--   year: année de référence
--   children_0_2: enfants de 0 à 2 ans révolus (estimation, peut être décimale)
--   births: naissances domiciliées de l'année
--   valid_from: premier mois où cette année s'applique
--   valid_to: premier mois où l'année suivante publiée la remplace (exclu)
-- tests:
--   - unique: commune, year
--   - not_null: commune, year
--   - range: children_0_2 0..
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH p AS (
    SELECT coalesce(m.code, r.commune) AS commune, r.year,
        sum(r.children_0_2) AS children_0_2, sum(r.births) AS births
    FROM raw.population r
    LEFT JOIN ref.commune_merge m ON m.old_code = r.commune
    GROUP BY ALL
)
SELECT commune, year, children_0_2, births,
    make_date(year, 1, 1) AS valid_from,
    coalesce(make_date(lead(year) OVER (PARTITION BY commune ORDER BY year), 1, 1), DATE '9999-12-31') AS valid_to
FROM p
