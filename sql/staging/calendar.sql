-- description: Calendrier des mois couverts par les données : du premier au
--   dernier mois présent dans le registre des AM, les disponibilités, les
--   demandes des familles et l'activité des RPE. Chaque indicateur mensuel
--   porte sur un de ces mois ; trimestres et années en sont déduits.
-- grain: un mois
-- source: raw.am_register, raw.availability, raw.family_request, raw.rpe_activity
-- columns:
--   month: premier jour du mois
--   month_end: dernier jour du mois (fin de période des indicateurs de stock)
--   quarter_start: premier jour du trimestre
--   year_start: premier jour de l'année
-- tests:
--   - unique: month
--   - not_null: month
WITH months AS (
    SELECT min(snapshot_month) AS lo, max(snapshot_month) AS hi FROM raw.am_register
    UNION ALL SELECT min(month), max(month) FROM raw.availability
    UNION ALL SELECT min(coalesce(received_on, month)), max(coalesce(received_on, month)) FROM raw.family_request
    UNION ALL SELECT min(coalesce(event_date, month)), max(coalesce(event_date, month)) FROM raw.rpe_activity
), bounds AS (
    SELECT CAST(date_trunc('month', min(lo)) AS DATE) AS lo, CAST(date_trunc('month', max(hi)) AS DATE) AS hi FROM months
)
SELECT
    CAST(m AS DATE) AS month,
    CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end,
    CAST(date_trunc('quarter', m) AS DATE) AS quarter_start,
    CAST(date_trunc('year', m) AS DATE) AS year_start
FROM bounds, unnest(generate_series(CAST(lo AS TIMESTAMP), CAST(hi AS TIMESTAMP), INTERVAL 1 MONTH)) AS g(m)
WHERE lo IS NOT NULL
