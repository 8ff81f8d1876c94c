-- description: Offre d'accueil collective et autres modes par commune et année
--   (CAF, nbpla_pe) : places en EAJE financés par la PSU et hors PSU,
--   enfants scolarisés à 2 ans, salariés à domicile. Un mois prend la
--   dernière année connue antérieure ou égale.
-- grain: une commune et une année
-- source: raw.collective_places (CAF open data nbpla_pe ou listes locales)
-- columns:
--   commune: code commune (COG courant)
--   year: année de référence
--   eaje_psu: places en EAJE financés par la PSU
--   eaje_hors_psu: places en EAJE hors PSU (micro-crèches PAJE...)
--   ecole_2ans: enfants de 2 ans scolarisés
--   home_carer: places chez des salariés à domicile
--   am_caf: places d'AM selon la CAF (informatif, non utilisé dans le taux calculé)
--   valid_from: premier mois où cette année s'applique
--   valid_to: premier mois où l'année suivante publiée la remplace (exclu)
-- tests:
--   - unique: commune, year
--   - not_null: commune, year
--   - range: eaje_psu 0..
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH p AS (
    SELECT coalesce(m.code, r.commune) AS commune, r.year,
        sum(r.eaje_psu) AS eaje_psu, sum(r.eaje_hors_psu) AS eaje_hors_psu,
        sum(r.ecole_2ans) AS ecole_2ans, sum(r.home_carer) AS home_carer, sum(r.am_caf) AS am_caf
    FROM raw.collective_places r
    LEFT JOIN ref.commune_merge m ON m.old_code = r.commune
    GROUP BY ALL
)
SELECT *,
    make_date(year, 1, 1) AS valid_from,
    coalesce(make_date(lead(year) OVER (PARTITION BY commune ORDER BY year), 1, 1), DATE '9999-12-31') AS valid_to
FROM p
