-- description: Taux de couverture officiels publiés par la CNAF sur data.caf.fr
--   (txcouv_pe), par territoire, année et mode ; le taux EAJE est recalculé
--   comme PSU + hors PSU quand le fichier ne le donne pas. Un mois prend la
--   dernière année publiée antérieure ou égale.
-- grain: un territoire, un mode et une année
-- source: raw.caf_rate (data.caf.fr txcouv_pe_{nat,reg,dep,epci,com})
-- columns:
--   level: niveau (commune, epci, departement, region, france)
--   code: code du territoire
--   mode: total, am, eaje, eaje_psu, eaje_hors_psu, ecole, home, individual
--   year: année de référence
--   rate: taux pour 100 enfants de moins de 3 ans
--   valid_from: premier mois où cette année s'applique
--   valid_to: premier mois où l'année suivante publiée la remplace (exclu)
-- tests:
--   - unique: level, code, mode, year
--   - not_null: level, code, mode, year, rate
--   - range: rate 0..200 [warn]
WITH r AS (
    SELECT lower(level) AS level, CASE WHEN lower(level) = 'france' THEN 'FR' ELSE code END AS code,
        mode, year, avg(rate) AS rate
    FROM raw.caf_rate WHERE rate IS NOT NULL
    GROUP BY ALL
), eaje AS (
    SELECT level, code, 'eaje' AS mode, year, sum(rate) AS rate
    FROM r WHERE mode IN ('eaje_psu', 'eaje_hors_psu')
    GROUP BY ALL
    HAVING count(*) = 2
), u AS (
    SELECT * FROM r
    UNION ALL
    SELECT e.* FROM eaje e WHERE NOT EXISTS (
        SELECT 1 FROM r WHERE r.level = e.level AND r.code = e.code AND r.year = e.year AND r.mode = 'eaje')
)
SELECT level, code, mode, year, rate,
    make_date(year, 1, 1) AS valid_from,
    coalesce(make_date(lead(year) OVER (PARTITION BY level, code, mode ORDER BY year), 1, 1), DATE '9999-12-31') AS valid_to
FROM u
