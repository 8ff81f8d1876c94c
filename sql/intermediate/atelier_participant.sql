-- description: AM ayant participé à au moins un atelier d'éveil ou temps
--   collectif dans le mois (pseudonymes des listes de participants), rattachés
--   à leur commune d'exercice selon le registre ce mois-là, à défaut à la
--   commune de l'atelier. Sert au compte d'AM distincts sur un mois, un
--   trimestre, une année.
-- grain: un mois et un AM participant
-- source: raw.rpe_activity (participants), int.am_month, staging.rpe
-- incremental: in_window(month)
-- columns:
--   month: mois de l'atelier
--   am_id: pseudonyme de l'AM participant
--   commune: commune de l'AM (registre), à défaut de l'atelier
-- tests:
--   - unique: month, am_id
--   - not_null: month, am_id, commune
WITH p AS (
    SELECT CAST(date_trunc('month', coalesce(a.event_date, a.month)) AS DATE) AS month,
        unnest(a.participants) AS am_id,
        coalesce(m.code, a.commune, rp.seat_commune) AS event_commune
    FROM raw.rpe_activity a
    LEFT JOIN ref.commune_merge m ON m.old_code = a.commune
    LEFT JOIN staging.rpe rp ON rp.rpe_id = a.rpe_id
    WHERE a.kind IN ('atelier', 'collective_time')
        AND (a.event_date >= getvariable('since') OR (a.event_date IS NULL AND a.month >= getvariable('since')))
), d AS (
    SELECT month, am_id, min(event_commune) AS event_commune FROM p WHERE am_id IS NOT NULL GROUP BY ALL
)
SELECT d.month, d.am_id, coalesce(am.commune, d.event_commune) AS commune
FROM d
LEFT JOIN int.am_month am ON am.month = d.month AND am.am_id = d.am_id AND in_window(am.month)
WHERE coalesce(am.commune, d.event_commune) IS NOT NULL
