-- description: Les grandeurs de int.level_month par mois, trimestre et année.
--   Les stocks (AM, places, population, offre collective, ETP...) prennent
--   la valeur du dernier mois de la période qui a des données pour le
--   territoire ; les flux (demandes, contacts, ateliers, formations,
--   inadéquation) sont sommés sur les mois de la période.
-- grain: un territoire, un type de période et une période
-- source: int.level_month
-- incremental: in_window_period(period_kind, period_start)
-- formula: flux = colonnes requests_*, unmet_with_vacancy, mismatch_*, contacts*, ateliers, atelier_children, training_departures ; les autres sont des stocks
-- columns:
--   level: niveau du territoire
--   code: code du territoire
--   period_kind: month, quarter, year
--   period_start: premier jour de la période
--   am_last_month: dernier mois de la période avec des données d'AM (médiane de sous-activité)
--   (grandeurs): mêmes colonnes que int.commune_month
-- tests:
--   - unique: level, code, period_kind, period_start
--   - not_null: level, code, period_kind, period_start
--   - accepted_values: period_kind in ('month', 'quarter', 'year')
WITH lm AS (
    SELECT * FROM int.level_month
    WHERE month >= date_trunc('year', getvariable('since'))
), k AS (
    SELECT 'quarter' AS period_kind, CAST(date_trunc('quarter', month) AS DATE) AS period_start, * FROM lm
    UNION ALL
    SELECT 'year', CAST(date_trunc('year', month) AS DATE), * FROM lm
)
SELECT level, code, 'month' AS period_kind, month AS period_start,
    CASE WHEN am_approved IS NOT NULL THEN month END AS am_last_month,
    * EXCLUDE (level, code, month)
FROM lm
WHERE in_window(month)
UNION ALL BY NAME
SELECT level, code, period_kind, period_start,
    max(month) FILTER (WHERE am_approved IS NOT NULL) AS am_last_month,
    sum(COLUMNS(c -> regexp_full_match(c, 'requests_.*|unmet_with_vacancy|mismatch_.*|contacts.*|ateliers|atelier_children|training_departures'))),
    arg_max(COLUMNS(c -> NOT regexp_full_match(c, 'requests_.*|unmet_with_vacancy|mismatch_.*|contacts.*|ateliers|atelier_children|training_departures|level|code|month|period_kind|period_start')), month)
FROM k
GROUP BY level, code, period_kind, period_start
