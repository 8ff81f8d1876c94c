-- description: Toutes les grandeurs additives par commune et par mois, base de
--   tous les indicateurs : offre d'AM, âges, sous-activité, population,
--   offre collective, demandes, inadéquation, activité des RPE, ETP des RPE.
--   Une grandeur absente (NULL) signifie « pas de donnée de cette source pour
--   cette commune ce mois », pas zéro. Les grandeurs de stock valent à la fin
--   du mois, les flux sur le mois.
-- grain: une commune et un mois
-- source: int.am_month, int.am_spell, staging.population, staging.collective_places,
--   int.request, int.activity_month, staging.rpe
-- incremental: in_window(month)
-- formula: age_sum / age_known = âge moyen ; am_departures_2030 = AM nés en 1968 ou avant (62 ans fin 2030) ;
--   requests_answered_8d = réponse en 8 jours ou moins ; requests_under1 = enfant de moins de 12 mois à la demande
-- columns:
--   commune: code commune
--   month: mois
--   am_approved: AM agréés à la fin du mois
--   am_active: AM accueillant au moins un enfant
--   am_places: places agréées
--   am_places_under3: places pour moins de 3 ans des AM actifs
--   vacant_places: places vacantes
--   am_available: AM déclarant au moins une place disponible
--   places_available: places déclarées disponibles
--   am_declared_recent: AM dont la dernière déclaration a moins de 6 mois
--   am_underactive: AM en sous-activité depuis 3 mois ou plus
--   age_sum: somme des âges des AM d'âge connu
--   age_known: AM d'âge connu
--   am_age_55plus: AM de 55 ans ou plus
--   am_age_60plus: AM de 60 ans ou plus
--   am_departures_2030: AM atteignant 62 ans d'ici fin 2030
--   am_age_under30: AM de moins de 30 ans
--   am_age_30_39: AM de 30 à 39 ans
--   am_age_40_49: AM de 40 à 49 ans
--   am_age_50_54: AM de 50 à 54 ans
--   am_age_55_59: AM de 55 à 59 ans
--   am_age_60_64: AM de 60 à 64 ans
--   am_age_65plus: AM de 65 ans ou plus
--   children_under3: enfants de moins de 3 ans (dernière année connue)
--   births: naissances (dernière année connue)
--   eaje_psu_places: places EAJE PSU
--   eaje_hors_psu_places: places EAJE hors PSU
--   ecole_2ans_places: enfants scolarisés à 2 ans
--   home_carer_places: places chez des salariés à domicile
--   requests_received: demandes reçues dans le mois
--   requests_atypical: demandes en horaires atypiques
--   requests_disability: demandes pour un enfant en situation de handicap
--   requests_under1: demandes pour un enfant de moins d'un an
--   requests_unmet: demandes closes sans solution
--   requests_closed: demandes closes (issue autre que pending)
--   requests_answered: demandes ayant reçu une première réponse
--   requests_answered_8d: demandes avec première réponse en 8 jours ou moins
--   unmet_with_vacancy: demandes sans solution avec des places vacantes à proximité
--   mismatch_hours: dont horaires atypiques non proposés
--   mismatch_disability: dont handicap non accepté
--   mismatch_age: dont âge non accepté
--   mismatch_place: dont places vacantes seulement dans d'autres communes du RPE
--   mismatch_unexplained: dont aucune raison mesurée
--   contacts: contacts (voir int.activity_month pour le détail des colonnes contacts_*)
--   ateliers: ateliers d'éveil et temps collectifs
--   atelier_children: enfants présents aux ateliers
--   training_departures: départs en formation
--   rpe_fte: ETP d'animation des RPE dont la commune est le siège
--   rpe_count: RPE dont la commune est le siège
-- tests:
--   - unique: commune, month
--   - not_null: commune, month
--   - assert: active_within_approved: am_active <= am_approved
--   - assert: mismatch_adds_up: unmet_with_vacancy = mismatch_hours + mismatch_disability + mismatch_age + mismatch_place + mismatch_unexplained
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH cal AS (
    SELECT month FROM staging.calendar WHERE in_window(month)
), am AS (
    SELECT commune, month,
        CAST(count(*) AS DOUBLE) AS am_approved,
        CAST(count(*) FILTER (active) AS DOUBLE) AS am_active,
        CAST(sum(places) AS DOUBLE) AS am_places,
        CAST(sum(places_under3_counted) AS DOUBLE) AS am_places_under3,
        CAST(sum(vacant_places) AS DOUBLE) AS vacant_places,
        CAST(count(*) FILTER (available) AS DOUBLE) AS am_available,
        CAST(coalesce(sum(places_available) FILTER (available), 0) AS DOUBLE) AS places_available,
        CAST(count(*) FILTER (declared_recent) AS DOUBLE) AS am_declared_recent,
        CAST(coalesce(sum(age), 0) AS DOUBLE) AS age_sum,
        CAST(count(age) AS DOUBLE) AS age_known,
        CAST(count(*) FILTER (age >= 55) AS DOUBLE) AS am_age_55plus,
        CAST(count(*) FILTER (age >= 60) AS DOUBLE) AS am_age_60plus,
        CAST(count(*) FILTER (birth_year <= 2030 - 62) AS DOUBLE) AS am_departures_2030,
        CAST(count(*) FILTER (age < 30) AS DOUBLE) AS am_age_under30,
        CAST(count(*) FILTER (age BETWEEN 30 AND 39) AS DOUBLE) AS am_age_30_39,
        CAST(count(*) FILTER (age BETWEEN 40 AND 49) AS DOUBLE) AS am_age_40_49,
        CAST(count(*) FILTER (age BETWEEN 50 AND 54) AS DOUBLE) AS am_age_50_54,
        CAST(count(*) FILTER (age BETWEEN 55 AND 59) AS DOUBLE) AS am_age_55_59,
        CAST(count(*) FILTER (age BETWEEN 60 AND 64) AS DOUBLE) AS am_age_60_64,
        CAST(count(*) FILTER (age >= 65) AS DOUBLE) AS am_age_65plus
    FROM int.am_month WHERE in_window(month) AND commune IS NOT NULL
    GROUP BY commune, month
), spell AS (
    SELECT commune, month, CAST(count(*) FILTER (spell_months >= 3) AS DOUBLE) AS am_underactive
    FROM int.am_spell WHERE in_window(month) AND commune IS NOT NULL
    GROUP BY commune, month
), pop AS (
    SELECT p.commune, c.month, p.children_0_2 AS children_under3, CAST(p.births AS DOUBLE) AS births
    FROM cal c JOIN staging.population p ON c.month >= p.valid_from AND c.month < p.valid_to
), coll AS (
    SELECT p.commune, c.month,
        CAST(p.eaje_psu AS DOUBLE) AS eaje_psu_places, CAST(p.eaje_hors_psu AS DOUBLE) AS eaje_hors_psu_places,
        CAST(p.ecole_2ans AS DOUBLE) AS ecole_2ans_places, CAST(p.home_carer AS DOUBLE) AS home_carer_places
    FROM cal c JOIN staging.collective_places p ON c.month >= p.valid_from AND c.month < p.valid_to
), req AS (
    SELECT commune, month,
        CAST(count(*) AS DOUBLE) AS requests_received,
        CAST(count(*) FILTER (atypical_hours) AS DOUBLE) AS requests_atypical,
        CAST(count(*) FILTER (disability) AS DOUBLE) AS requests_disability,
        CAST(count(*) FILTER (child_age_months < 12) AS DOUBLE) AS requests_under1,
        CAST(count(*) FILTER (unmet) AS DOUBLE) AS requests_unmet,
        CAST(count(*) FILTER (closed) AS DOUBLE) AS requests_closed,
        CAST(count(*) FILTER (answer_days >= 0) AS DOUBLE) AS requests_answered,
        CAST(count(*) FILTER (answer_days BETWEEN 0 AND 8) AS DOUBLE) AS requests_answered_8d,
        CAST(count(*) FILTER (unmet_with_vacancy) AS DOUBLE) AS unmet_with_vacancy,
        CAST(count(*) FILTER (mismatch_reason = 'hours') AS DOUBLE) AS mismatch_hours,
        CAST(count(*) FILTER (mismatch_reason = 'disability') AS DOUBLE) AS mismatch_disability,
        CAST(count(*) FILTER (mismatch_reason = 'age') AS DOUBLE) AS mismatch_age,
        CAST(count(*) FILTER (mismatch_reason = 'place') AS DOUBLE) AS mismatch_place,
        CAST(count(*) FILTER (mismatch_reason = 'unexplained') AS DOUBLE) AS mismatch_unexplained
    FROM int.request WHERE in_window(month) AND commune IS NOT NULL
    GROUP BY commune, month
), act AS (
    SELECT * FROM int.activity_month WHERE in_window(month)
), rpe AS (
    SELECT r.seat_commune AS commune, c.month, CAST(sum(r.fte) AS DOUBLE) AS rpe_fte, CAST(count(*) AS DOUBLE) AS rpe_count
    FROM staging.rpe r CROSS JOIN cal c
    WHERE r.seat_commune IS NOT NULL
    GROUP BY ALL
), u AS (
    SELECT * FROM am
    UNION ALL BY NAME SELECT * FROM spell
    UNION ALL BY NAME SELECT * FROM pop
    UNION ALL BY NAME SELECT * FROM coll
    UNION ALL BY NAME SELECT * FROM req
    UNION ALL BY NAME SELECT * FROM act
    UNION ALL BY NAME SELECT * FROM rpe
)
SELECT commune, month,
    sum(COLUMNS(* EXCLUDE (commune, month, am_underactive))),
    CASE WHEN sum(am_approved) IS NOT NULL THEN coalesce(sum(am_underactive), 0) END AS am_underactive
FROM u
GROUP BY commune, month
