-- description: Les grandeurs qui ne s'additionnent pas d'un territoire à
--   l'autre ni d'un mois à l'autre, calculées à chaque niveau et période
--   depuis les lignes individuelles : AM distincts ayant participé à un
--   atelier, médiane du délai de première réponse aux familles, médiane de la
--   durée de sous-activité (par mois ; un trimestre ou une année prend son
--   dernier mois, voir int.indicator_value).
-- grain: un territoire, un type de période et une période
-- source: int.atelier_participant, int.request, int.am_spell, staging.calendar, ref.commune_territory
-- incremental: in_window_period(period_kind, period_start)
-- formula: answer_median_days = médiane(first_answer_on - received_on) des demandes reçues dans la période et répondues ;
--   underactive_median_months = médiane de spell_months des AM en sous-activité depuis 3 mois ou plus
-- columns:
--   level: niveau du territoire
--   code: code du territoire
--   period_kind: month, quarter, year
--   period_start: premier jour de la période
--   am_atelier_participants: AM distincts ayant participé à au moins un atelier dans la période
--   answer_median_days: délai médian de première réponse, en jours
--   requests_answered: demandes répondues (base de la médiane)
--   underactive_median_months: durée médiane de l'épisode de sous-activité en cours (mois seulement)
-- tests:
--   - unique: level, code, period_kind, period_start
--   - not_null: level, code, period_kind, period_start
WITH cal AS (
    SELECT month, quarter_start, year_start FROM staging.calendar
    WHERE month >= date_trunc('year', getvariable('since'))
), part AS (
    SELECT ct.level, ct.code, c.month, c.quarter_start, c.year_start, p.am_id
    FROM int.atelier_participant p
    JOIN cal c ON c.month = p.month
    JOIN ref.commune_territory ct ON ct.commune = p.commune
), part_agg AS (
    SELECT level, code,
        CASE WHEN GROUPING(month) = 0 THEN 'month' WHEN GROUPING(quarter_start) = 0 THEN 'quarter' ELSE 'year' END AS period_kind,
        coalesce(month, quarter_start, year_start) AS period_start,
        CAST(count(DISTINCT am_id) AS DOUBLE) AS am_atelier_participants
    FROM part
    GROUP BY GROUPING SETS ((level, code, month), (level, code, quarter_start), (level, code, year_start))
), ans AS (
    SELECT ct.level, ct.code, c.month, c.quarter_start, c.year_start, r.answer_days
    FROM int.request r
    JOIN cal c ON c.month = r.month
    JOIN ref.commune_territory ct ON ct.commune = r.commune
    WHERE r.answer_days >= 0
), ans_agg AS (
    SELECT level, code,
        CASE WHEN GROUPING(month) = 0 THEN 'month' WHEN GROUPING(quarter_start) = 0 THEN 'quarter' ELSE 'year' END AS period_kind,
        coalesce(month, quarter_start, year_start) AS period_start,
        CAST(median(answer_days) AS DOUBLE) AS answer_median_days,
        CAST(count(*) AS DOUBLE) AS requests_answered
    FROM ans
    GROUP BY GROUPING SETS ((level, code, month), (level, code, quarter_start), (level, code, year_start))
), spell AS (
    SELECT ct.level, ct.code, 'month' AS period_kind, s.month AS period_start,
        CAST(median(s.spell_months) AS DOUBLE) AS underactive_median_months
    FROM int.am_spell s
    JOIN ref.commune_territory ct ON ct.commune = s.commune
    WHERE s.spell_months >= 3 AND in_window(s.month)
    GROUP BY ALL
), u AS (
    SELECT * FROM part_agg
    UNION ALL BY NAME SELECT * FROM ans_agg
    UNION ALL BY NAME SELECT * FROM spell
)
SELECT level, code, period_kind, period_start,
    max(am_atelier_participants) AS am_atelier_participants,
    max(answer_median_days) AS answer_median_days,
    max(requests_answered) AS requests_answered,
    max(underactive_median_months) AS underactive_median_months
FROM u
GROUP BY ALL
