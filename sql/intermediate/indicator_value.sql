-- description: Tous les indicateurs d'un territoire pour une période, dans une
--   liste (même ordre d'indicateurs sur chaque ligne), chacun avec le nombre
--   de personnes sur lequel il repose (n). mart.indicator en fait la table
--   longue, avec les comparaisons : les jointures (parent, période
--   précédente, année précédente) se font ici une fois par territoire et
--   période plutôt qu'une fois par indicateur. Les ratios sont calculés après
--   agrégation (rapport des sommes, jamais moyenne de ratios) ; une valeur
--   indéfinie (dénominateur nul ou donnée absente) est NULL et ne fera pas de
--   ligne. Les taux officiels de la CNAF (data.caf.fr) prennent la dernière
--   année publiée antérieure ou égale à la période.
-- grain: un territoire et une période
-- source: int.level_period, int.level_distinct, staging.caf_rate, staging.calendar, staging.territory (test)
-- incremental: in_window_period(period_kind, period_start)
-- formula: voir mart.indicator_catalog (colonne formula) pour chaque indicateur
-- columns:
--   level: niveau du territoire
--   code: code du territoire
--   period_kind: month, quarter, year
--   period: libellé de la période (2025-03, 2025-T1, 2025)
--   period_start: premier jour de la période
--   ind: liste de {indicator, value, n} ; identifiant (docs/indicators.md), valeur, nombre de personnes (AM, familles, enfants) sur lequel elle repose (NULL = chiffre publié, non masquable)
-- tests:
--   - unique: level, code, period_kind, period_start
--   - not_null: level, code, period_kind, period, period_start, ind
--   - relationships: code -> staging.territory(code) where r.level = t.level [warn]
--   - sql: same_indicator_order: SELECT level, code, period FROM {{this}}
--     WHERE list_transform(ind, x -> x.indicator) <> (SELECT list_transform(ind, x -> x.indicator) FROM {{this}} LIMIT 1)
--   - sql: percent_in_range: SELECT level, code, period, x.indicator, x.value FROM (SELECT level, code, period, unnest(ind) AS x FROM {{this}})
--     WHERE x.indicator IN ('unmet_share', 'vacancy_rate', 'availability_publication_rate', 'answered_within_8d_share',
--     'am_share_55plus', 'am_share_60plus') AND (x.value < 0 OR x.value > 100)
--   - sql: n_not_negative: SELECT level, code, period, x.indicator, x.n FROM (SELECT level, code, period, unnest(ind) AS x FROM {{this}}) WHERE x.n < 0
WITH lp AS (
    SELECT * FROM int.level_period WHERE in_window_period(period_kind, period_start)
), ld AS (
    SELECT * FROM int.level_distinct
    WHERE period_start >= date_trunc('year', getvariable('since'))
), w AS (
    SELECT lp.*, d.am_atelier_participants AS participants, d.answer_median_days, d.requests_answered AS answered_n,
        um.underactive_median_months
    FROM lp
    LEFT JOIN ld d ON d.level = lp.level AND d.code = lp.code AND d.period_kind = lp.period_kind AND d.period_start = lp.period_start
    LEFT JOIN ld um ON um.level = lp.level AND um.code = lp.code AND um.period_kind = 'month' AND um.period_start = lp.am_last_month
), x AS (
    SELECT *,
        coalesce(participants, CASE WHEN ateliers IS NOT NULL THEN 0 END) AS am_atelier_participants,
        CASE WHEN children_under3 > 0 THEN 100 / children_under3 END AS per100
    FROM w
), periods AS (
    SELECT DISTINCT k.period_kind,
        CASE k.period_kind WHEN 'month' THEN c.month WHEN 'quarter' THEN c.quarter_start ELSE c.year_start END AS period_start
    FROM staging.calendar c, (VALUES ('month'), ('quarter'), ('year')) AS k(period_kind)
), official AS (
    SELECT r.level, r.code, p.period_kind, p.period_start,
        max(r.rate) FILTER (WHERE r.mode = 'total') AS official_total,
        max(r.rate) FILTER (WHERE r.mode = 'am') AS official_am,
        max(r.rate) FILTER (WHERE r.mode = 'eaje') AS official_eaje
    FROM staging.caf_rate r
    JOIN periods p ON make_date(year(p.period_start), 1, 1) >= r.valid_from AND make_date(year(p.period_start), 1, 1) < r.valid_to
    WHERE r.mode IN ('total', 'am', 'eaje') AND in_window_period(p.period_kind, p.period_start)
    GROUP BY ALL
), y AS (
    SELECT * FROM x FULL OUTER JOIN official USING (level, code, period_kind, period_start)
)
SELECT level, code, period_kind, period_label(period_kind, period_start) AS period, period_start, [
        {indicator: 'children_under3', value: CAST(children_under3 AS DOUBLE), n: CAST(children_under3 AS DOUBLE)},
        {indicator: 'births', value: births, n: births},
        {indicator: 'am_approved', value: am_approved, n: am_approved},
        {indicator: 'am_active', value: am_active, n: am_active},
        {indicator: 'am_places', value: am_places, n: am_approved},
        {indicator: 'am_places_under3', value: am_places_under3, n: am_active},
        {indicator: 'am_per_100_children', value: am_approved * per100, n: am_approved},
        {indicator: 'eaje_psu_places', value: eaje_psu_places, n: eaje_psu_places},
        {indicator: 'eaje_hors_psu_places', value: eaje_hors_psu_places, n: eaje_hors_psu_places},
        {indicator: 'ecole_2ans_places', value: ecole_2ans_places, n: ecole_2ans_places},
        {indicator: 'home_carer_places', value: home_carer_places, n: home_carer_places},
        {indicator: 'coverage_rate', value: per100 * (coalesce(eaje_psu_places, 0) + coalesce(eaje_hors_psu_places, 0)
            + coalesce(ecole_2ans_places, 0) + coalesce(am_places_under3, 0) + coalesce(home_carer_places, 0)), n: children_under3},
        {indicator: 'coverage_rate_am', value: per100 * coalesce(am_places_under3, 0), n: children_under3},
        {indicator: 'coverage_rate_eaje_psu', value: per100 * coalesce(eaje_psu_places, 0), n: children_under3},
        {indicator: 'coverage_rate_eaje_hors_psu', value: per100 * coalesce(eaje_hors_psu_places, 0), n: children_under3},
        {indicator: 'coverage_rate_ecole', value: per100 * coalesce(ecole_2ans_places, 0), n: children_under3},
        {indicator: 'coverage_rate_home', value: per100 * coalesce(home_carer_places, 0), n: children_under3},
        {indicator: 'requests_received', value: requests_received, n: requests_received},
        {indicator: 'requests_atypical', value: requests_atypical, n: requests_atypical},
        {indicator: 'requests_disability', value: requests_disability, n: requests_disability},
        {indicator: 'requests_under1', value: requests_under1, n: requests_under1},
        {indicator: 'requests_unmet', value: requests_unmet, n: requests_received},
        {indicator: 'unmet_share', value: 100 * requests_unmet / nullif(requests_closed, 0), n: requests_received},
        {indicator: 'requests_per_available_place', value: requests_received / nullif(places_available, 0), n: requests_received},
        {indicator: 'vacant_places', value: vacant_places, n: am_approved},
        {indicator: 'vacancy_rate', value: 100 * vacant_places / nullif(am_places, 0), n: am_approved},
        {indicator: 'am_available', value: am_available, n: am_available},
        {indicator: 'places_available', value: places_available, n: am_available},
        {indicator: 'am_underactive', value: am_underactive, n: am_underactive},
        {indicator: 'underactive_share', value: 100 * am_underactive / nullif(am_active, 0), n: am_active},
        {indicator: 'underactive_median_months', value: underactive_median_months, n: am_underactive},
        {indicator: 'availability_publication_rate', value: 100 * am_declared_recent / nullif(am_approved, 0), n: am_approved},
        {indicator: 'unmet_with_vacancy', value: unmet_with_vacancy, n: unmet_with_vacancy},
        {indicator: 'mismatch_hours', value: mismatch_hours, n: unmet_with_vacancy},
        {indicator: 'mismatch_disability', value: mismatch_disability, n: unmet_with_vacancy},
        {indicator: 'mismatch_age', value: mismatch_age, n: unmet_with_vacancy},
        {indicator: 'mismatch_place', value: mismatch_place, n: unmet_with_vacancy},
        {indicator: 'mismatch_unexplained', value: mismatch_unexplained, n: unmet_with_vacancy},
        {indicator: 'contacts', value: contacts, n: contacts},
        {indicator: 'contacts_public_parent', value: contacts_public_parent, n: contacts_public_parent},
        {indicator: 'contacts_public_am', value: contacts_public_am, n: contacts_public_am},
        {indicator: 'contacts_public_home_carer', value: contacts_public_home_carer, n: contacts_public_home_carer},
        {indicator: 'contacts_public_partner', value: contacts_public_partner, n: contacts_public_partner},
        {indicator: 'contacts_topic_search', value: contacts_topic_search, n: contacts_topic_search},
        {indicator: 'contacts_topic_contract', value: contacts_topic_contract, n: contacts_topic_contract},
        {indicator: 'contacts_topic_employer', value: contacts_topic_employer, n: contacts_topic_employer},
        {indicator: 'contacts_topic_conflict', value: contacts_topic_conflict, n: contacts_topic_conflict},
        {indicator: 'contacts_topic_training', value: contacts_topic_training, n: contacts_topic_training},
        {indicator: 'contacts_topic_profession', value: contacts_topic_profession, n: contacts_topic_profession},
        {indicator: 'contacts_topic_other', value: contacts_topic_other, n: contacts_topic_other},
        {indicator: 'contacts_channel_phone', value: contacts_channel_phone, n: contacts_channel_phone},
        {indicator: 'contacts_channel_email', value: contacts_channel_email, n: contacts_channel_email},
        {indicator: 'contacts_channel_in_person', value: contacts_channel_in_person, n: contacts_channel_in_person},
        {indicator: 'contacts_channel_appointment', value: contacts_channel_appointment, n: contacts_channel_appointment},
        {indicator: 'ateliers', value: ateliers, n: ateliers},
        {indicator: 'atelier_children', value: atelier_children, n: atelier_children},
        {indicator: 'am_atelier_participants', value: am_atelier_participants, n: am_atelier_participants},
        {indicator: 'atelier_participation_rate', value: 100 * am_atelier_participants / nullif(am_active, 0), n: am_active},
        {indicator: 'training_departures', value: training_departures, n: training_departures},
        {indicator: 'answer_median_days', value: answer_median_days, n: answered_n},
        {indicator: 'answered_within_8d_share', value: 100 * requests_answered_8d / nullif(requests_received, 0), n: requests_received},
        {indicator: 'rpe_fte', value: rpe_fte, n: rpe_count},
        {indicator: 'rpe_count', value: rpe_count, n: rpe_count},
        {indicator: 'am_per_rpe_fte', value: am_approved / nullif(rpe_fte, 0), n: am_approved},
        {indicator: 'am_mean_age', value: age_sum / nullif(age_known, 0), n: am_approved},
        {indicator: 'am_share_55plus', value: 100 * am_age_55plus / nullif(am_approved, 0), n: am_approved},
        {indicator: 'am_share_60plus', value: 100 * am_age_60plus / nullif(am_approved, 0), n: am_approved},
        {indicator: 'am_departures_2030', value: am_departures_2030, n: am_departures_2030},
        {indicator: 'am_age_under30', value: am_age_under30, n: am_age_under30},
        {indicator: 'am_age_30_39', value: am_age_30_39, n: am_age_30_39},
        {indicator: 'am_age_40_49', value: am_age_40_49, n: am_age_40_49},
        {indicator: 'am_age_50_54', value: am_age_50_54, n: am_age_50_54},
        {indicator: 'am_age_55_59', value: am_age_55_59, n: am_age_55_59},
        {indicator: 'am_age_60_64', value: am_age_60_64, n: am_age_60_64},
        {indicator: 'am_age_65plus', value: am_age_65plus, n: am_age_65plus},
        {indicator: 'official_coverage_rate', value: official_total, n: NULL},
        {indicator: 'official_coverage_rate_am', value: official_am, n: NULL},
        {indicator: 'official_coverage_rate_eaje', value: official_eaje, n: NULL}
    ] AS ind
FROM y
