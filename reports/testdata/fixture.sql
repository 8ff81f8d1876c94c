-- Hand-made warehouse fixture for the reports tests: the documented
-- interface of docs/warehouse.md (ref.territory, ref.commune_territory,
-- mart.indicator, mart.indicator_catalog, the mart.published_indicator(k)
-- macro and meta.file_ledger) with one département (Ille-et-Vilaine) split
-- in three EPCIs and a few communes, two RPE areas, two other départements
-- (one overseas) and 24 months (2024-01 .. 2025-12).
--
-- The block between "-- BEGIN GENERATE" and "-- END GENERATE" derives every
-- indicator from ref.territory; the benchmark re-runs it on a larger
-- generated ref.territory.

CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE ref.territory (
    level VARCHAR NOT NULL, code VARCHAR NOT NULL, name VARCHAR NOT NULL,
    parent_level VARCHAR, parent_code VARCHAR, population BIGINT,
    PRIMARY KEY (level, code));

CREATE TABLE ref.commune_territory (commune VARCHAR, level VARCHAR, code VARCHAR);

CREATE TABLE mart.indicator (
    level VARCHAR, code VARCHAR, period_kind VARCHAR, period VARCHAR, period_start DATE,
    indicator VARCHAR, value DOUBLE, n BIGINT,
    parent_level VARCHAR, parent_code VARCHAR, parent_value DOUBLE, diff_parent DOUBLE,
    rank INTEGER, peers INTEGER, quartile INTEGER, prev_value DOUBLE, prev_year_value DOUBLE);

CREATE TABLE mart.indicator_catalog (
    indicator VARCHAR PRIMARY KEY, label VARCHAR, unit VARCHAR, description VARCHAR,
    formula VARCHAR, source VARCHAR, theme VARCHAR);

CREATE TABLE meta.file_ledger (source VARCHAR, sender VARCHAR, period VARCHAR, loaded_at TIMESTAMP);

-- The macro, as docs/warehouse.md defines it: every figure resting on fewer
-- than k people is NULL and masked, plus complementary masking: when a
-- single part of a breakdown is masked, the smallest other part is masked
-- too, so the masked part cannot be recomputed from the total.
CREATE MACRO mart.published_indicator(k) AS TABLE
WITH grp(indicator, grp) AS (VALUES
    ('contacts_public_parent', 'public'), ('contacts_public_am', 'public'),
    ('contacts_public_home_carer', 'public'), ('contacts_public_partner', 'public'),
    ('contacts_topic_search', 'topic'), ('contacts_topic_contract', 'topic'),
    ('contacts_topic_employer', 'topic'), ('contacts_topic_conflict', 'topic'),
    ('contacts_topic_training', 'topic'), ('contacts_topic_profession', 'topic'),
    ('contacts_topic_other', 'topic'),
    ('contacts_channel_phone', 'channel'), ('contacts_channel_email', 'channel'),
    ('contacts_channel_in_person', 'channel'), ('contacts_channel_appointment', 'channel'),
    ('mismatch_hours', 'mismatch'), ('mismatch_disability', 'mismatch'),
    ('mismatch_age', 'mismatch'), ('mismatch_place', 'mismatch'),
    ('am_age_under30', 'age'), ('am_age_30_39', 'age'), ('am_age_40_49', 'age'),
    ('am_age_50_54', 'age'), ('am_age_55_59', 'age'), ('am_age_60_64', 'age'), ('am_age_65plus', 'age'),
    ('eaje_psu_places', 'places'), ('eaje_hors_psu_places', 'places'), ('ecole_2ans_places', 'places'),
    ('home_carer_places', 'places'), ('am_places_under3', 'places')),
base AS (
    SELECT i.*, g.grp, coalesce(i.n < k, false) AS primary_mask
    FROM mart.indicator i LEFT JOIN grp g USING (indicator)),
parts AS (
    SELECT level, code, period, grp,
        count(*) FILTER (WHERE primary_mask) AS n_masked,
        arg_min(indicator, struct_pack(n := n, indicator := indicator)) FILTER (WHERE NOT primary_mask) AS smallest
    FROM base WHERE grp IS NOT NULL GROUP BY level, code, period, grp),
m AS (
    SELECT base.*, base.primary_mask OR coalesce(parts.n_masked = 1 AND base.indicator = parts.smallest, false) AS msk
    FROM base LEFT JOIN parts ON parts.level = base.level AND parts.code = base.code
        AND parts.period = base.period AND parts.grp = base.grp)
SELECT level, code, period_kind, period, period_start, indicator,
    CASE WHEN msk THEN NULL ELSE value END AS value, n, parent_level, parent_code,
    CASE WHEN msk THEN NULL ELSE parent_value END AS parent_value,
    CASE WHEN msk THEN NULL ELSE diff_parent END AS diff_parent,
    rank, peers, quartile,
    CASE WHEN msk THEN NULL ELSE prev_value END AS prev_value,
    CASE WHEN msk THEN NULL ELSE prev_year_value END AS prev_year_value,
    msk AS masked
FROM m;

INSERT INTO ref.territory VALUES
    ('france', 'FR', 'France', NULL, NULL, 68000000),
    ('region', '53', 'Bretagne', 'france', 'FR', 3400000),
    ('region', '04', 'La Réunion', 'france', 'FR', 880000),
    ('departement', '35', 'Ille-et-Vilaine', 'region', '53', 1100000),
    ('departement', '22', 'Côtes-d''Armor', 'region', '53', 610000),
    ('departement', '974', 'La Réunion', 'region', '04', 880000),
    ('epci', '243500139', 'Rennes Métropole', 'departement', '35', 467000),
    ('epci', '200039022', 'CC Val d''Ille-Aubigné', 'departement', '35', 37000),
    ('epci', '243500782', 'Vitré Communauté', 'departement', '35', 83000),
    ('commune', '35238', 'Rennes', 'epci', '243500139', 227830),
    ('commune', '35047', 'Bruz', 'epci', '243500139', 18961),
    ('commune', '35024', 'Betton', 'epci', '243500139', 12500),
    ('commune', '35001', 'Acigné', 'epci', '243500139', 7200),
    ('commune', '35999', '<script>alert(1)</script>', 'epci', '200039022', 11000),
    ('commune', '35131', 'Gévezé', 'epci', '200039022', 5600),
    ('commune', '35189', 'Melesse', 'epci', '200039022', 6900),
    ('commune', '35360', 'Vitré', 'epci', '243500782', 18800),
    ('commune', '35069', 'Châteaubourg', 'epci', '243500782', 7700),
    ('commune', '22278', 'Saint-Brieuc', 'departement', '22', 44000),
    ('commune', '97411', 'Saint-Denis', 'departement', '974', 153000),
    ('rpe', 'RPE35-001', 'RPE Nord de Rennes', 'departement', '35', 36000),
    ('rpe', 'RPE35-002', 'RPE du Pays de Vitré', 'departement', '35', 26500);

-- Every territory a commune belongs to (the commune itself included).
INSERT INTO ref.commune_territory
WITH RECURSIVE up(commune, level, code, parent_level, parent_code) AS (
    SELECT code, level, code, parent_level, parent_code FROM ref.territory WHERE level = 'commune'
    UNION ALL
    SELECT up.commune, t.level, t.code, t.parent_level, t.parent_code
    FROM up JOIN ref.territory t ON t.level = up.parent_level AND t.code = up.parent_code)
SELECT commune, level, code FROM up;
INSERT INTO ref.commune_territory VALUES
    ('35024', 'rpe', 'RPE35-001'), ('35999', 'rpe', 'RPE35-001'), ('35131', 'rpe', 'RPE35-001'), ('35189', 'rpe', 'RPE35-001'),
    ('35360', 'rpe', 'RPE35-002'), ('35069', 'rpe', 'RPE35-002');

-- BEGIN GENERATE
CREATE OR REPLACE TEMP TABLE fixture_periods AS
WITH m AS (SELECT i, (DATE '2024-01-01' + to_months(CAST(i AS INTEGER)))::DATE AS d FROM range(24) r(i))
SELECT 'month' AS period_kind, strftime(d, '%Y-%m') AS period, d AS period_start, i AS last_i, 1 AS k FROM m
UNION ALL
SELECT 'quarter', strftime(d, '%Y') || '-T' || ((month(d) - 1) // 3 + 1), d, i + 2, 3 FROM m WHERE month(d) IN (1, 4, 7, 10)
UNION ALL
SELECT 'year', strftime(d, '%Y'), d, i + 11, 12 FROM m WHERE month(d) = 1;

CREATE OR REPLACE TEMP TABLE fixture_wide AS
WITH b AS (
    SELECT t.level, t.code, p.period_kind, p.period, p.period_start, p.last_i AS i, p.k,
        (hash(t.code) % 1000) / 1000.0 AS j,
        greatest(round(t.population * 0.036), 1) AS ch
    FROM ref.territory t CROSS JOIN fixture_periods p),
c AS (
    SELECT *,
        round(ch * (0.11 + 0.04 * j) * (1 - 0.003 * i)) AS am_approved,
        round(ch * (0.15 + 0.08 * j)) AS eaje_psu_places,
        round(ch * 0.035) AS eaje_hors_psu_places,
        round(ch * 0.03) AS ecole_2ans_places,
        round(ch * 0.02) AS home_carer_places,
        round(ch * (0.025 + 0.01 * j) * (1 + 0.15 * sin(i)) * k) AS requests_received,
        round(ch * 0.05 * k * (1 + 0.1 * cos(i))) AS contacts
    FROM b),
d AS (
    SELECT *,
        round(am_approved * 0.9) AS am_active,
        round(am_approved * 3.6) AS am_places,
        round(requests_received * (0.15 + 0.1 * j)) AS requests_unmet
    FROM c),
e AS (
    SELECT *,
        round(am_active * 3.6 * 0.81) AS am_places_under3,
        round(am_places * (0.06 + 0.04 * j)) AS vacant_places,
        round(am_active * 0.15) AS am_available,
        round(am_active * (0.06 + 0.03 * j + 0.001 * i)) AS am_underactive,
        round(requests_unmet * 0.6) AS unmet_with_vacancy,
        round(am_active * 0.3) AS am_atelier_participants,
        greatest(round(am_approved / 70.0, 1), 0.5) AS rpe_fte
    FROM d)
SELECT level, code, period_kind, period, period_start, i, k,
    ch AS children_under3, round(ch / 3) AS births,
    am_approved, am_active, am_places, am_places_under3,
    am_approved / ch * 100 AS am_per_100_children,
    eaje_psu_places, eaje_hors_psu_places, ecole_2ans_places, home_carer_places,
    (eaje_psu_places + eaje_hors_psu_places + ecole_2ans_places + am_places_under3 + home_carer_places) / ch * 100 AS coverage_rate,
    am_places_under3 / ch * 100 AS coverage_rate_am,
    eaje_psu_places / ch * 100 AS coverage_rate_eaje_psu,
    eaje_hors_psu_places / ch * 100 AS coverage_rate_eaje_hors_psu,
    ecole_2ans_places / ch * 100 AS coverage_rate_ecole,
    home_carer_places / ch * 100 AS coverage_rate_home,
    requests_received,
    round(requests_received * 0.12) AS requests_atypical,
    round(requests_received * 0.03) AS requests_disability,
    round(requests_received * 0.4) AS requests_under1,
    requests_unmet,
    requests_unmet / greatest(requests_received, 1) * 100 AS unmet_share,
    requests_received / greatest(am_available * 1.5, 1) AS requests_per_available_place,
    vacant_places, vacant_places / greatest(am_places, 1) * 100 AS vacancy_rate,
    am_available, am_underactive, am_underactive / greatest(am_active, 1) * 100 AS underactive_share,
    4 + (i % 5) * 0.5 AS underactive_median_months,
    62 + i * 0.5 AS availability_publication_rate,
    unmet_with_vacancy,
    round(unmet_with_vacancy * 0.35) AS mismatch_hours,
    round(unmet_with_vacancy * 0.10) AS mismatch_disability,
    round(unmet_with_vacancy * 0.25) AS mismatch_age,
    unmet_with_vacancy - round(unmet_with_vacancy * 0.35) - round(unmet_with_vacancy * 0.10) - round(unmet_with_vacancy * 0.25) AS mismatch_place,
    contacts,
    round(contacts * 0.55) AS contacts_public_parent, round(contacts * 0.35) AS contacts_public_am,
    round(contacts * 0.04) AS contacts_public_home_carer, round(contacts * 0.06) AS contacts_public_partner,
    round(contacts * 0.30) AS contacts_topic_search, round(contacts * 0.22) AS contacts_topic_contract,
    round(contacts * 0.15) AS contacts_topic_employer, round(contacts * 0.05) AS contacts_topic_conflict,
    round(contacts * 0.08) AS contacts_topic_training, round(contacts * 0.10) AS contacts_topic_profession,
    round(contacts * 0.10) AS contacts_topic_other,
    round(contacts * 0.45) AS contacts_channel_phone, round(contacts * 0.25) AS contacts_channel_email,
    round(contacts * 0.20) AS contacts_channel_in_person, round(contacts * 0.10) AS contacts_channel_appointment,
    round(am_active * 0.05 * k) + 1 AS ateliers,
    round(am_active * 0.05 * k) * 6 + 4 AS atelier_children,
    am_atelier_participants,
    am_atelier_participants / greatest(am_active, 1) * 100 AS atelier_participation_rate,
    round(am_active * 0.01 * k) AS training_departures,
    3 + (i % 4) * 1.5 AS answer_median_days,
    80 - (i % 4) * 3 AS answered_within_8d_share,
    rpe_fte, am_approved / rpe_fte AS am_per_rpe_fte,
    48.5 + i * 0.02 AS am_mean_age, 33.0 + 0.1 * i AS am_share_55plus, 17.0 + 0.05 * i AS am_share_60plus,
    round(am_approved * 0.3) AS am_departures_2030,
    round(am_approved * 0.04) AS am_age_under30, round(am_approved * 0.17) AS am_age_30_39,
    round(am_approved * 0.30) AS am_age_40_49, round(am_approved * 0.16) AS am_age_50_54,
    round(am_approved * 0.16) AS am_age_55_59, round(am_approved * 0.12) AS am_age_60_64,
    round(am_approved * 0.05) AS am_age_65plus
FROM e;

CREATE OR REPLACE TEMP TABLE fixture_long AS
SELECT level, code, period_kind, period, period_start, indicator, value
FROM (UNPIVOT fixture_wide ON COLUMNS(* EXCLUDE (level, code, period_kind, period, period_start, i, k))
      INTO NAME indicator VALUE value);

-- Which count each figure rests on (docs/indicators.md, column n).
CREATE OR REPLACE TEMP TABLE fixture_nbase(indicator VARCHAR, base VARCHAR);
INSERT INTO fixture_nbase VALUES
    ('am_places', 'am_approved'), ('am_places_under3', 'am_active'), ('am_per_100_children', 'am_approved'),
    ('coverage_rate', 'children_under3'), ('coverage_rate_am', 'children_under3'),
    ('coverage_rate_eaje_psu', 'children_under3'), ('coverage_rate_eaje_hors_psu', 'children_under3'),
    ('coverage_rate_ecole', 'children_under3'), ('coverage_rate_home', 'children_under3'),
    ('requests_unmet', 'requests_received'), ('unmet_share', 'requests_received'),
    ('requests_per_available_place', 'requests_received'), ('vacant_places', 'am_approved'),
    ('vacancy_rate', 'am_approved'), ('underactive_share', 'am_active'),
    ('underactive_median_months', 'am_underactive'), ('availability_publication_rate', 'am_approved'),
    ('mismatch_hours', 'unmet_with_vacancy'), ('mismatch_disability', 'unmet_with_vacancy'),
    ('mismatch_age', 'unmet_with_vacancy'), ('mismatch_place', 'unmet_with_vacancy'),
    ('atelier_participation_rate', 'am_active'), ('answer_median_days', 'requests_received'),
    ('answered_within_8d_share', 'requests_received'), ('rpe_fte', 'am_approved'),
    ('am_per_rpe_fte', 'am_approved'), ('am_mean_age', 'am_approved'), ('am_share_55plus', 'am_approved'),
    ('am_share_60plus', 'am_approved');

DELETE FROM mart.indicator;
INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n)
SELECT l.level, l.code, l.period_kind, l.period, l.period_start, l.indicator, l.value,
    CAST(coalesce(b.value, l.value) AS BIGINT)
FROM (SELECT l.*, coalesce(nb.base, l.indicator) AS base
      FROM fixture_long l LEFT JOIN fixture_nbase nb ON nb.indicator = l.indicator) l
JOIN fixture_long b ON b.level = l.level AND b.code = l.code AND b.period = l.period AND b.indicator = l.base
-- RPE activity is only sent in Ille-et-Vilaine.
WHERE NOT (l.indicator IN ('contacts', 'ateliers', 'atelier_children', 'am_atelier_participants',
        'atelier_participation_rate', 'training_departures') OR l.indicator LIKE 'contacts_%')
   OR l.code IN ('FR', '53', '35') OR l.code LIKE '35%' OR l.code LIKE 'RPE35%' OR l.code IN ('243500139', '200039022', '243500782')
   OR l.code LIKE 'g%';

-- Official CAF rates: yearly, département and above, no n (never masked).
INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n)
SELECT level, code, period_kind, period, period_start, 'official_coverage_rate', value + 1.5, NULL
FROM mart.indicator WHERE indicator = 'coverage_rate' AND period_kind = 'year'
  AND level IN ('france', 'region', 'departement');
-- END GENERATE

-- Cases the tests rely on.
-- 1. A commune whose name is a script, with figures resting on 3 AMs.
UPDATE mart.indicator SET value = 3, n = 3 WHERE code = '35999' AND indicator = 'am_underactive';
UPDATE mart.indicator SET value = 987654.321, n = 3 WHERE code = '35999' AND indicator = 'underactive_median_months';
-- 2. An overseas département whose coverage rate rests on 4 children.
UPDATE mart.indicator SET value = 876543.21, n = 4 WHERE level = 'departement' AND code = '974' AND indicator = 'coverage_rate';
-- 3. A breakdown with one small part (complementary masking).
UPDATE mart.indicator SET value = 2, n = 2 WHERE code = '22278' AND indicator = 'mismatch_disability';
-- 4. An RPE that has not sent its activity for the last quarter.
DELETE FROM mart.indicator WHERE code = 'RPE35-002' AND period IN ('2025-10', '2025-11', '2025-12', '2025-T4')
  AND (indicator IN ('contacts', 'ateliers', 'atelier_children', 'am_atelier_participants',
       'atelier_participation_rate', 'training_departures') OR indicator LIKE 'contacts_%');
-- 5. No requests data at all for Saint-Denis (974).
DELETE FROM mart.indicator WHERE code = '97411' AND (indicator LIKE 'requests_%' OR indicator IN
  ('unmet_share', 'unmet_with_vacancy', 'answer_median_days', 'answered_within_8d_share') OR indicator LIKE 'mismatch_%');

-- BEGIN COMPARE
-- Comparison columns: parent, rank among peers of the same level, previous
-- period and same period a year before.
CREATE OR REPLACE TEMP TABLE fixture_cmp AS
SELECT i.level, i.code, i.period_kind, i.period, i.period_start, i.indicator, i.value, i.n,
    t.parent_level, t.parent_code, p.value AS parent_value, i.value - p.value AS diff_parent,
    CAST(rank() OVER (PARTITION BY i.level, i.period, i.indicator ORDER BY i.value DESC) AS INTEGER) AS rank,
    CAST(count(*) OVER (PARTITION BY i.level, i.period, i.indicator) AS INTEGER) AS peers,
    CAST(ntile(4) OVER (PARTITION BY i.level, i.period, i.indicator ORDER BY i.value) AS INTEGER) AS quartile,
    lag(i.value) OVER (PARTITION BY i.level, i.code, i.period_kind, i.indicator ORDER BY i.period_start) AS prev_value,
    y.value AS prev_year_value
FROM mart.indicator i
JOIN ref.territory t ON t.level = i.level AND t.code = i.code
LEFT JOIN mart.indicator p ON p.level = t.parent_level AND p.code = t.parent_code AND p.period = i.period AND p.indicator = i.indicator
LEFT JOIN mart.indicator y ON y.level = i.level AND y.code = i.code AND y.period_kind = i.period_kind
    AND y.period_start = i.period_start - INTERVAL 1 YEAR AND y.indicator = i.indicator;
DELETE FROM mart.indicator;
INSERT INTO mart.indicator SELECT * FROM fixture_cmp;
-- END COMPARE

INSERT INTO mart.indicator_catalog VALUES
    ('coverage_rate', 'Taux de couverture', 'rate', 'Places d''accueil formel pour 100 enfants de moins de 3 ans', '100 x (EAJE + école à 2 ans + places AM moins de 3 ans + salariés à domicile) / enfants de moins de 3 ans', 'registre des AM (PMI), offre collective (CAF), population (INSEE)', 'offre'),
    ('children_under3', 'Enfants de moins de 3 ans', 'count', 'Enfants âgés de 0 à 2 ans', 'INSEE', 'population (INSEE)', 'demande'),
    ('am_approved', 'Assistants maternels agréés', 'count', 'AM ayant un agrément valide en fin de période', '', 'registre des AM (PMI)', 'offre'),
    ('am_active', 'Assistants maternels en activité', 'count', 'AM agréés accueillant au moins un enfant', '', 'registre des AM (PMI)', 'offre'),
    ('requests_received', 'Demandes reçues', 'count', 'Demandes des familles reçues dans la période', '', 'demandes des familles (guichet unique)', 'demande'),
    ('unmet_share', 'Part des demandes sans solution', 'percent', 'Demandes closes sans solution / demandes closes', '', 'demandes des familles (guichet unique)', 'demande'),
    ('contacts', 'Contacts', 'count', 'Contacts téléphone, courriel, sur place et rendez-vous', '', 'activité des RPE', 'activite'),
    ('underactive_share', 'Part des AM en sous-activité', 'percent', 'AM disponibles avec une place vacante depuis 3 mois ou plus / AM en activité', '', 'disponibilités (monenfant.fr)', 'sous-activite'),
    ('underactive_median_months', 'Durée médiane de sous-activité (mois)', 'months', 'Médiane de la durée de la période de sous-activité en cours', '', 'disponibilités (monenfant.fr)', 'sous-activite');

INSERT INTO meta.file_ledger VALUES
    ('am_register', 'PMI 35', '2025-12', TIMESTAMP '2026-01-10 09:00:00'),
    ('availability', 'CAF 35', '2025-12', TIMESTAMP '2026-01-08 09:00:00'),
    ('rpe_activity', 'RPE35-001', '2025-12', TIMESTAMP '2026-01-05 10:00:00'),
    ('rpe_activity', 'RPE35-002', '2025-09', TIMESTAMP '2025-10-04 10:00:00'),
    ('family_requests', 'RPE35-001', '2025-12', TIMESTAMP '2026-01-05 10:00:00'),
    ('population', 'INSEE', '2024', TIMESTAMP '2025-07-01 12:00:00');
