-- A small warehouse for the analyst tests: Rennes Métropole and two of its
-- communes, two RPE areas, the Ille-et-Vilaine département, three years of a
-- few indicators. Built by hand; the values are arbitrary but consistent.
CREATE TABLE ref.territory (level VARCHAR, code VARCHAR, name VARCHAR, parent_level VARCHAR, parent_code VARCHAR, population BIGINT);
INSERT INTO ref.territory VALUES
  ('france', 'FR', 'France', NULL, NULL, 68000000),
  ('region', '53', 'Bretagne', 'france', 'FR', 3400000),
  ('departement', '35', 'Ille-et-Vilaine', 'region', '53', 1100000),
  ('epci', '243500139', 'Rennes Métropole', 'departement', '35', 470000),
  ('epci', '200039022', 'CC Vallons de Haute-Bretagne', 'departement', '35', 21000),
  ('commune', '35238', 'Rennes', 'epci', '243500139', 225000),
  ('commune', '35051', 'Cesson-Sévigné', 'epci', '243500139', 18000),
  ('commune', '35047', 'Bruz', 'epci', '243500139', 19000),
  ('rpe', 'RPE-35-001', 'RPE Rennes Nord', 'departement', '35', NULL),
  ('rpe', 'RPE-35-002', 'RPE Sud Rennes', 'departement', '35', NULL);
COMMENT ON TABLE ref.territory IS 'Territoires : communes, EPCI, aires de RPE, départements, régions, France';

CREATE TABLE ref.commune_territory (commune VARCHAR, level VARCHAR, code VARCHAR);
INSERT INTO ref.commune_territory
  SELECT c.code, t.level, t.code FROM ref.territory c, ref.territory t
  WHERE c.level = 'commune' AND (t.code = c.code OR t.code IN ('243500139', '35', '53', 'FR')
    OR (t.code = 'RPE-35-001' AND c.code IN ('35238', '35051')) OR (t.code = 'RPE-35-002' AND c.code = '35047'));

CREATE TABLE raw.am_register (file_id BIGINT, line BIGINT, am_id VARCHAR, commune VARCHAR);
INSERT INTO raw.am_register VALUES (1, 2, 'p:8f3a', '35238'), (1, 3, 'p:77c1', '35047');
CREATE TABLE meta.quarantine (file_id BIGINT, line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR);
INSERT INTO meta.quarantine VALUES (1, 9, 'date_naissance', 'Jeanne Martin 12/03/1971', 'not a date');

CREATE TABLE mart.indicator_catalog (indicator VARCHAR PRIMARY KEY, label VARCHAR, unit VARCHAR, description VARCHAR, formula VARCHAR, source VARCHAR, theme VARCHAR);
INSERT INTO mart.indicator_catalog VALUES
  ('coverage_rate', 'Taux de couverture', 'rate', 'Places d''accueil pour 100 enfants de moins de 3 ans', '100 x places / enfants', 'calcul', 'Offre'),
  ('am_active', 'Assistantes maternelles en activité', 'count', 'AM agréées accueillant au moins un enfant', NULL, 'registre', 'Offre'),
  ('am_underactive', 'AM en sous-activité', 'count', 'AM avec places vacantes déclarées depuis 3 mois ou plus', NULL, 'disponibilités', 'Sous-activité'),
  ('underactive_share', 'Part des AM en sous-activité', 'percent', 'am_underactive / am_active x 100', NULL, 'calcul', 'Sous-activité'),
  ('underactive_median_months', 'Durée médiane de sous-activité', 'months', 'Durée médiane de la période de sous-activité en cours', NULL, 'disponibilités', 'Sous-activité'),
  ('coverage_rate_am', 'Taux de couverture : assistantes maternelles', 'rate', 'Part des assistantes maternelles dans le taux de couverture', NULL, 'calcul', 'Offre'),
  ('requests_received', 'Demandes reçues', 'count', 'Demandes des familles reçues', NULL, 'demandes', 'Demande'),
  ('answer_median_days', 'Délai médian de réponse', 'days', 'Jours entre la demande et la première réponse (médiane)', NULL, 'demandes', 'Activité des RPE'),
  ('answered_within_8d_share', 'Part des réponses sous 8 jours', 'percent', 'Part des demandes ayant reçu une réponse sous 8 jours', NULL, 'demandes', 'Activité des RPE');
COMMENT ON TABLE mart.indicator_catalog IS 'Catalogue des indicateurs : libellés et définitions en français';

CREATE TABLE mart.indicator (
  level VARCHAR, code VARCHAR, period_kind VARCHAR, period VARCHAR, period_start DATE, indicator VARCHAR,
  value DOUBLE, n BIGINT, parent_level VARCHAR, parent_code VARCHAR, parent_value DOUBLE, diff_parent DOUBLE,
  rank INTEGER, peers INTEGER, quartile INTEGER, prev_value DOUBLE, prev_year_value DOUBLE);
COMMENT ON TABLE mart.indicator IS 'Table longue des indicateurs : une ligne par territoire, période et indicateur';
COMMENT ON COLUMN mart.indicator.level IS 'niveau (commune, epci, rpe, departement, region, france)';
COMMENT ON COLUMN mart.indicator.value IS 'valeur exacte';
COMMENT ON COLUMN mart.indicator.n IS 'nombre de personnes sur lequel repose la valeur';

-- Yearly and monthly figures, 2023-2025, for every territory.
CREATE TEMP TABLE base AS
SELECT t.level, t.code, t.parent_level, t.parent_code, c.indicator, y.y,
       hash(t.code, c.indicator) % 1000 AS h
FROM ref.territory t, mart.indicator_catalog c, range(2023, 2026) y(y);

INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n, parent_level, parent_code)
SELECT level, code, 'year', CAST(y AS VARCHAR), make_date(y, 1, 1), indicator,
  CASE indicator
    WHEN 'coverage_rate' THEN 52 + h % 15 + (y - 2023) * 1.5
    WHEN 'am_active' THEN 40 + h % 300
    WHEN 'am_underactive' THEN 3 + h % 40
    WHEN 'underactive_share' THEN 5 + h % 20 + 0.25
    WHEN 'requests_received' THEN 100 + h % 900
    WHEN 'answer_median_days' THEN 3 + h % 12
    WHEN 'underactive_median_months' THEN 3 + h % 9
    WHEN 'coverage_rate_am' THEN 18 + h % 10
    ELSE 50 + h % 45 END,
  CASE WHEN level = 'commune' AND code = '35047' THEN 4 ELSE 20 + h % 500 END,
  parent_level, parent_code
FROM base;

INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n, parent_level, parent_code)
SELECT level, code, 'month', strftime(make_date(y, m, 1), '%Y-%m'), make_date(y, m, 1), indicator,
  CASE indicator WHEN 'am_underactive' THEN 2 + (h + m) % 30 WHEN 'am_active' THEN 40 + h % 300
    WHEN 'underactive_share' THEN 4 + (h + m) % 20 + 0.5 WHEN 'underactive_median_months' THEN 3 + (h + m) % 9
    ELSE 10 + (h + m) % 50 END,
  20 + h % 500, parent_level, parent_code
FROM base, range(1, 13) mm(m)
WHERE indicator IN ('am_underactive', 'am_active', 'underactive_share', 'underactive_median_months', 'requests_received');

INSERT INTO mart.indicator (level, code, period_kind, period, period_start, indicator, value, n, parent_level, parent_code)
SELECT level, code, 'quarter', y || '-T' || q, make_date(y, 3 * q - 2, 1), indicator,
  CASE indicator WHEN 'answer_median_days' THEN 2 + (h + q) % 14 WHEN 'answered_within_8d_share' THEN 40 + (h + q) % 55
    ELSE 30 + (h + q) % 200 END,
  20 + h % 300, parent_level, parent_code
FROM base, range(1, 5) qq(q)
WHERE indicator IN ('requests_received', 'answer_median_days', 'answered_within_8d_share');

UPDATE mart.indicator i SET parent_value = p.value, diff_parent = i.value - p.value
FROM mart.indicator p
WHERE p.level = i.parent_level AND p.code = i.parent_code AND p.period_kind = i.period_kind
  AND p.period = i.period AND p.indicator = i.indicator;
UPDATE mart.indicator i SET prev_year_value = p.value
FROM mart.indicator p
WHERE p.level = i.level AND p.code = i.code AND p.period_kind = i.period_kind AND p.indicator = i.indicator
  AND p.period_start = i.period_start - INTERVAL 1 YEAR;

CREATE VIEW mart.indicator_year AS
SELECT level, code, period, indicator, value, n FROM mart.indicator WHERE period_kind = 'year';
COMMENT ON VIEW mart.indicator_year IS 'Indicateurs annuels (vue)';

CREATE MACRO mart.published_indicator(k) AS TABLE
SELECT * REPLACE (CASE WHEN n < k THEN NULL ELSE value END AS value), n IS NOT NULL AND n < k AS masked
FROM mart.indicator;

