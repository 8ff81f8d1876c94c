-- description: Demandes des familles avec l'analyse de l'inadéquation : pour
--   une demande restée sans solution, y avait-il le mois de sa réception des
--   places vacantes à proximité (dans sa commune ou une commune du même RPE),
--   et sinon pourquoi l'offre ne convenait pas. La première raison qui
--   s'applique est retenue, dans l'ordre : horaires atypiques non proposés,
--   handicap non accepté, âge de l'enfant non accepté, places vacantes
--   seulement dans d'autres communes du RPE ; « unexplained » si une place
--   convenait sur tous ces critères dans la commune même.
-- grain: une demande
-- source: staging.family_request, int.am_month, staging.commune_neighbour
-- incremental: in_window(month)
-- formula: offre candidate = AM agréés du mois avec au moins une place vacante (vacant_places >= 1) ;
--   un AM sans tranche d'âge déclarée est supposé accepter tout âge, sans horaires atypiques ni accueil du handicap déclarés il ne les propose pas
-- columns:
--   month: mois de réception
--   request_id: pseudonyme de la demande
--   rpe_id: RPE qui l'a reçue
--   commune: commune de la famille
--   received_on: date de réception
--   child_age_months: âge de l'enfant à la demande
--   age_bracket: tranche d'âge à l'entrée souhaitée
--   atypical_hours: horaires atypiques demandés
--   disability: enfant en situation de handicap
--   wanted_mode: mode souhaité
--   first_answer_on: date de première réponse
--   answer_days: jours jusqu'à la première réponse
--   outcome: issue de la demande
--   outcome_on: date de l'issue
--   unmet: sans solution (outcome = none)
--   closed: close (issue connue autre que pending)
--   unmet_with_vacancy: sans solution alors que des places étaient vacantes à proximité
--   mismatch_reason: première raison de l'inadéquation (hours, disability, age, place, unexplained), NULL sinon
-- tests:
--   - unique: request_id
--   - not_null: request_id, month
--   - accepted_values: mismatch_reason in ('hours', 'disability', 'age', 'place', 'unexplained')
--   - assert: reason_only_when_vacancy: (mismatch_reason IS NOT NULL) = unmet_with_vacancy
WITH req AS (
    SELECT * FROM staging.family_request WHERE in_window(month)
), supply AS (
    -- distinct profiles of AMs with a vacant place, per commune and month
    SELECT DISTINCT commune, month, offers_atypical AS h, accepts_disability AS d,
        accepts_under18m AS a1, accepts_18m_3y AS a2, accepts_over3y AS a3
    FROM int.am_month
    WHERE in_window(month) AND vacant_places >= 1
), cand AS (
    SELECT u.request_id,
        bool_or(s.h OR NOT u.atypical_hours) AS fit_h,
        bool_or((s.h OR NOT u.atypical_hours) AND (s.d OR NOT u.disability)) AS fit_hd,
        bool_or((s.h OR NOT u.atypical_hours) AND (s.d OR NOT u.disability)
            AND CASE u.age_bracket WHEN 'under18m' THEN s.a1 WHEN '18m_3y' THEN s.a2 WHEN 'over3y' THEN s.a3 ELSE true END) AS fit_hda,
        bool_or((s.h OR NOT u.atypical_hours) AND (s.d OR NOT u.disability)
            AND CASE u.age_bracket WHEN 'under18m' THEN s.a1 WHEN '18m_3y' THEN s.a2 WHEN 'over3y' THEN s.a3 ELSE true END
            AND s.commune = u.commune) AS fit_local
    FROM req u
    JOIN staging.commune_neighbour n ON n.commune = u.commune
    JOIN supply s ON s.commune = n.near_commune AND s.month = u.month
    WHERE u.outcome = 'none'
    GROUP BY u.request_id
)
SELECT req.month, req.request_id, req.rpe_id, req.commune, req.received_on, req.child_age_months,
    req.age_bracket, req.atypical_hours, req.disability, req.wanted_mode, req.first_answer_on,
    req.answer_days, req.outcome, req.outcome_on,
    coalesce(req.outcome = 'none', false) AS unmet,
    coalesce(req.outcome <> 'pending', false) AS closed,
    c.request_id IS NOT NULL AS unmet_with_vacancy,
    CASE WHEN c.request_id IS NULL THEN NULL
        WHEN NOT c.fit_h THEN 'hours'
        WHEN NOT c.fit_hd THEN 'disability'
        WHEN NOT c.fit_hda THEN 'age'
        WHEN NOT c.fit_local THEN 'place'
        ELSE 'unexplained' END AS mismatch_reason
FROM req LEFT JOIN cand c ON c.request_id = req.request_id
