-- kind: view
-- description: Vue large du taux de couverture pour les analystes : par
--   territoire et période, les enfants de moins de 3 ans, les places par mode,
--   le taux de couverture calculé et ses parts par mode, à côté des taux
--   officiels publiés par la CNAF (data.caf.fr) et de l'écart entre les deux.
--   Valeurs exactes, non masquées.
-- source: mart.indicator, ref.territory
SELECT *, coverage_rate - official_coverage_rate AS diff_official
FROM (
SELECT i.level, i.code, t.name, i.period_kind, i.period, i.period_start,
    max(value) FILTER (WHERE indicator = 'children_under3') AS children_under3,
    max(value) FILTER (WHERE indicator = 'eaje_psu_places') AS eaje_psu_places,
    max(value) FILTER (WHERE indicator = 'eaje_hors_psu_places') AS eaje_hors_psu_places,
    max(value) FILTER (WHERE indicator = 'ecole_2ans_places') AS ecole_2ans_places,
    max(value) FILTER (WHERE indicator = 'am_places_under3') AS am_places_under3,
    max(value) FILTER (WHERE indicator = 'home_carer_places') AS home_carer_places,
    max(value) FILTER (WHERE indicator = 'coverage_rate') AS coverage_rate,
    max(value) FILTER (WHERE indicator = 'coverage_rate_eaje_psu') AS coverage_rate_eaje_psu,
    max(value) FILTER (WHERE indicator = 'coverage_rate_eaje_hors_psu') AS coverage_rate_eaje_hors_psu,
    max(value) FILTER (WHERE indicator = 'coverage_rate_ecole') AS coverage_rate_ecole,
    max(value) FILTER (WHERE indicator = 'coverage_rate_am') AS coverage_rate_am,
    max(value) FILTER (WHERE indicator = 'coverage_rate_home') AS coverage_rate_home,
    max(value) FILTER (WHERE indicator = 'official_coverage_rate') AS official_coverage_rate,
    max(value) FILTER (WHERE indicator = 'official_coverage_rate_am') AS official_coverage_rate_am,
    max(value) FILTER (WHERE indicator = 'official_coverage_rate_eaje') AS official_coverage_rate_eaje
FROM mart.indicator i
LEFT JOIN ref.territory t ON t.level = i.level AND t.code = i.code
WHERE i.indicator IN ('children_under3', 'eaje_psu_places', 'eaje_hors_psu_places', 'ecole_2ans_places', 'am_places_under3', 'home_carer_places', 'coverage_rate', 'coverage_rate_eaje_psu', 'coverage_rate_eaje_hors_psu', 'coverage_rate_ecole', 'coverage_rate_am', 'coverage_rate_home', 'official_coverage_rate', 'official_coverage_rate_am', 'official_coverage_rate_eaje')
GROUP BY i.level, i.code, t.name, i.period_kind, i.period, i.period_start
)
