-- description: Activité des RPE agrégée par commune et par mois de
--   l'événement : contacts (téléphone, courriel, en personne, rendez-vous)
--   par public, thème et canal, ateliers d'éveil et temps collectifs, enfants
--   présents, départs en formation. Un événement est rattaché à la commune de
--   la personne, à défaut à la commune siège du RPE. Les permanences,
--   réunions, conférences et analyses de la pratique ne sont pas des
--   contacts.
-- grain: une commune et un mois
-- source: raw.rpe_activity (logiciels des RPE), staging.rpe
-- incremental: in_window(month)
-- formula: training_departures = participants d'un événement training (nombre de pseudonymes, à défaut n_am)
-- columns:
--   commune: commune de rattachement
--   month: mois de l'événement
--   contacts: contacts (contact_phone, contact_email, contact_in_person, appointment)
--   contacts_public_parent: contacts de parents
--   contacts_public_am: contacts d'assistants maternels
--   contacts_public_home_carer: contacts de gardes à domicile
--   contacts_public_partner: contacts de partenaires
--   contacts_topic_search: contacts sur la recherche d'un mode d'accueil
--   contacts_topic_contract: contacts sur le contrat et la rémunération
--   contacts_topic_employer: contacts sur les formalités d'employeur
--   contacts_topic_conflict: contacts sur un conflit
--   contacts_topic_training: contacts sur la formation
--   contacts_topic_profession: contacts sur le métier
--   contacts_topic_other: contacts sur un autre thème
--   contacts_channel_phone: contacts par téléphone
--   contacts_channel_email: contacts par courriel
--   contacts_channel_in_person: contacts en personne
--   contacts_channel_appointment: rendez-vous
--   ateliers: ateliers d'éveil et temps collectifs tenus
--   atelier_children: enfants présents aux ateliers (somme)
--   training_departures: départs en formation d'AM
-- tests:
--   - unique: commune, month
--   - not_null: commune, month
--   - assert: channels_add_up: contacts = contacts_channel_phone + contacts_channel_email + contacts_channel_in_person + contacts_channel_appointment
WITH e AS (
    SELECT CAST(date_trunc('month', coalesce(a.event_date, a.month)) AS DATE) AS month,
        coalesce(m.code, a.commune, rp.seat_commune) AS commune,
        a.kind, a.public, a.topic, a.n_am, a.n_children, a.participants,
        a.kind IN ('contact_phone', 'contact_email', 'contact_in_person', 'appointment') AS is_contact
    FROM raw.rpe_activity a
    LEFT JOIN ref.commune_merge m ON m.old_code = a.commune
    LEFT JOIN staging.rpe rp ON rp.rpe_id = a.rpe_id
    WHERE a.event_date >= getvariable('since') OR (a.event_date IS NULL AND a.month >= getvariable('since'))
)
SELECT commune, month,
    CAST(count(*) FILTER (is_contact) AS DOUBLE) AS contacts,
    CAST(count(*) FILTER (is_contact AND public = 'parent') AS DOUBLE) AS contacts_public_parent,
    CAST(count(*) FILTER (is_contact AND public = 'am') AS DOUBLE) AS contacts_public_am,
    CAST(count(*) FILTER (is_contact AND public = 'home_carer') AS DOUBLE) AS contacts_public_home_carer,
    CAST(count(*) FILTER (is_contact AND public = 'partner') AS DOUBLE) AS contacts_public_partner,
    CAST(count(*) FILTER (is_contact AND topic = 'search') AS DOUBLE) AS contacts_topic_search,
    CAST(count(*) FILTER (is_contact AND topic = 'contract') AS DOUBLE) AS contacts_topic_contract,
    CAST(count(*) FILTER (is_contact AND topic = 'employer') AS DOUBLE) AS contacts_topic_employer,
    CAST(count(*) FILTER (is_contact AND topic = 'conflict') AS DOUBLE) AS contacts_topic_conflict,
    CAST(count(*) FILTER (is_contact AND topic = 'training') AS DOUBLE) AS contacts_topic_training,
    CAST(count(*) FILTER (is_contact AND topic = 'profession') AS DOUBLE) AS contacts_topic_profession,
    CAST(count(*) FILTER (is_contact AND topic = 'other') AS DOUBLE) AS contacts_topic_other,
    CAST(count(*) FILTER (kind = 'contact_phone') AS DOUBLE) AS contacts_channel_phone,
    CAST(count(*) FILTER (kind = 'contact_email') AS DOUBLE) AS contacts_channel_email,
    CAST(count(*) FILTER (kind = 'contact_in_person') AS DOUBLE) AS contacts_channel_in_person,
    CAST(count(*) FILTER (kind = 'appointment') AS DOUBLE) AS contacts_channel_appointment,
    CAST(count(*) FILTER (kind IN ('atelier', 'collective_time')) AS DOUBLE) AS ateliers,
    CAST(coalesce(sum(n_children) FILTER (kind IN ('atelier', 'collective_time')), 0) AS DOUBLE) AS atelier_children,
    CAST(coalesce(sum(CASE WHEN len(participants) > 0 THEN len(participants) ELSE coalesce(n_am, 0) END)
        FILTER (kind = 'training'), 0) AS DOUBLE) AS training_departures
FROM e
WHERE commune IS NOT NULL
GROUP BY commune, month
