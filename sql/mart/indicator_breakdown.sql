-- description: Décompositions d'un indicateur total en parties qui
--   s'additionnent (au plus égales au total) : contacts par canal, par public
--   et par thème, AM agréés par tranche d'âge, demandes sans solution malgré
--   des places vacantes par raison. Sert au masquage complémentaire de
--   mart.published_indicator : quand une seule partie est masquée et que le
--   total est publié, la plus petite autre partie est masquée aussi.
-- grain: une partie d'une décomposition
-- source: docs/indicators.md
-- columns:
--   breakdown: nom de la décomposition
--   total: indicateur total
--   part: indicateur partie
-- tests:
--   - unique: breakdown, part
--   - relationships: part -> mart.indicator_catalog(indicator)
--   - relationships: total -> mart.indicator_catalog(indicator)
SELECT breakdown, total, part FROM (VALUES
    ('contacts_channel', 'contacts', 'contacts_channel_phone'),
    ('contacts_channel', 'contacts', 'contacts_channel_email'),
    ('contacts_channel', 'contacts', 'contacts_channel_in_person'),
    ('contacts_channel', 'contacts', 'contacts_channel_appointment'),
    ('contacts_public', 'contacts', 'contacts_public_parent'),
    ('contacts_public', 'contacts', 'contacts_public_am'),
    ('contacts_public', 'contacts', 'contacts_public_home_carer'),
    ('contacts_public', 'contacts', 'contacts_public_partner'),
    ('contacts_topic', 'contacts', 'contacts_topic_search'),
    ('contacts_topic', 'contacts', 'contacts_topic_contract'),
    ('contacts_topic', 'contacts', 'contacts_topic_employer'),
    ('contacts_topic', 'contacts', 'contacts_topic_conflict'),
    ('contacts_topic', 'contacts', 'contacts_topic_training'),
    ('contacts_topic', 'contacts', 'contacts_topic_profession'),
    ('contacts_topic', 'contacts', 'contacts_topic_other'),
    ('am_age', 'am_approved', 'am_age_under30'),
    ('am_age', 'am_approved', 'am_age_30_39'),
    ('am_age', 'am_approved', 'am_age_40_49'),
    ('am_age', 'am_approved', 'am_age_50_54'),
    ('am_age', 'am_approved', 'am_age_55_59'),
    ('am_age', 'am_approved', 'am_age_60_64'),
    ('am_age', 'am_approved', 'am_age_65plus'),
    ('mismatch', 'unmet_with_vacancy', 'mismatch_hours'),
    ('mismatch', 'unmet_with_vacancy', 'mismatch_disability'),
    ('mismatch', 'unmet_with_vacancy', 'mismatch_age'),
    ('mismatch', 'unmet_with_vacancy', 'mismatch_place'),
    ('mismatch', 'unmet_with_vacancy', 'mismatch_unexplained')
) AS b(breakdown, total, part)
