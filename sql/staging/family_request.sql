-- description: Demandes d'accueil des familles (guichet unique du RPE,
--   monenfant.fr) : une ligne par demande, dans sa dernière version reçue
--   (une demande peut revenir dans les fichiers suivants avec sa réponse et
--   son issue), rattachée au mois de sa réception et à la commune de la
--   famille (à défaut la commune siège du RPE).
-- grain: une demande
-- source: raw.family_request (RPE guichet unique, monenfant.fr)
-- incremental: in_window(month)
-- formula: âge à l'entrée souhaitée = âge à la demande + mois entre réception et entrée souhaitée ;
--   tranche under18m (< 18 mois), 18m_3y (< 36 mois), over3y
-- columns:
--   month: mois de réception (1er du mois)
--   request_id: pseudonyme de la demande
--   rpe_id: RPE qui l'a reçue
--   commune: commune de la famille (COG courant ; à défaut commune siège du RPE)
--   received_on: date de réception
--   child_age_months: âge de l'enfant à la demande, en mois
--   age_bracket: tranche d'âge de l'enfant à l'entrée souhaitée
--   atypical_hours: horaires atypiques demandés
--   disability: enfant en situation de handicap
--   wanted_mode: mode souhaité (am, creche, any)
--   first_answer_on: date de la première réponse ou du premier rendez-vous
--   answer_days: jours entre réception et première réponse
--   outcome: found_am, found_creche, other, none (sans solution), withdrawn, pending
--   outcome_on: date de l'issue
-- tests:
--   - unique: request_id
--   - not_null: request_id, month
--   - accepted_values: outcome in ('found_am', 'found_creche', 'other', 'none', 'withdrawn', 'pending')
--   - range: answer_days 0.. [warn]
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH r AS (
    -- Every version of a request received in the window is in a file of the
    -- window or later (a file cannot hold a request received after its month).
    SELECT * FROM raw.family_request
    WHERE month >= getvariable('since')
    QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY month DESC, file_id DESC, line DESC) = 1
), t AS (
    SELECT r.*,
        CAST(date_trunc('month', coalesce(r.received_on, r.month)) AS DATE) AS req_month,
        r.child_age_months + CASE WHEN r.wanted_start > r.received_on
            THEN datediff('month', r.received_on, r.wanted_start) ELSE 0 END AS age_at_start
    FROM r
)
SELECT t.req_month AS month, t.request_id, t.rpe_id,
    coalesce(m.code, t.commune, rp.seat_commune) AS commune,
    t.received_on, t.child_age_months,
    CASE WHEN t.age_at_start IS NULL THEN NULL
        WHEN t.age_at_start < 18 THEN 'under18m'
        WHEN t.age_at_start < 36 THEN '18m_3y'
        ELSE 'over3y' END AS age_bracket,
    coalesce(t.atypical_hours, false) AS atypical_hours,
    coalesce(t.disability, false) AS disability,
    t.wanted_mode, t.first_answer_on,
    datediff('day', t.received_on, t.first_answer_on) AS answer_days,
    t.outcome, t.outcome_on
FROM t
LEFT JOIN ref.commune_merge m ON m.old_code = t.commune
LEFT JOIN staging.rpe rp ON rp.rpe_id = t.rpe_id
