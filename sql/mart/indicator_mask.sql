-- description: Ce qu'il faut savoir de chaque ligne de mart.indicator pour la
--   masquer, quel que soit le seuil k, sans relire les autres lignes : la
--   macro mart.published_indicator(k) lit cette table ligne à ligne (une
--   requête filtrée sur un territoire reste rapide). Une ligne est masquée
--   au seuil k si n < k (secret primaire), ou si k tombe dans l'un de ses
--   intervalles de masquage complémentaire. Complémentaire : dans un groupe
--   dont le total est publié (les parties d'une décomposition de
--   mart.indicator_breakdown pour un territoire et une période ; les
--   territoires de même niveau ayant le même parent pour un indicateur
--   additif), si une seule partie est masquée (n < k), la partie suivante
--   par n croissant (puis valeur, puis code) est masquée aussi ; c'est le
--   cas exactement pour n(1re partie) < k <= min(n(2e partie), n(total)).
--   Les intervalles sont calculés sur le seul secret primaire (une passe par
--   type de groupe, sans itérer jusqu'à un point fixe entre décompositions
--   et géographie). Les masques du parent, de la période précédente et de
--   l'année précédente sont recopiés pour masquer les comparaisons.
-- grain: une ligne de mart.indicator
-- source: mart.indicator, mart.indicator_breakdown, mart.indicator_catalog
-- incremental: in_window_period(period_kind, period_start)
-- formula: masquée(k) = n < k ou k entre b_lo et b_hi ou k entre g_lo et g_hi
-- columns:
--   level: niveau du territoire
--   code: code du territoire
--   period_kind: month, quarter, year
--   period_start: premier jour de la période
--   indicator: identifiant de l'indicateur
--   mk: masque de la ligne {n, b_lo, b_hi, g_lo, g_hi} (b : décomposition, g : géographie ; NULL = pas d'intervalle)
--   parent_mk: masque de la ligne du parent, même période
--   prev_mk: masque de la ligne de la période précédente
--   prev_year_mk: masque de la ligne de la même période un an avant
-- tests:
--   - unique: level, code, period_kind, period_start, indicator
--   - not_null: mk
WITH i AS (
    SELECT level, code, period_kind, period_start, indicator, value, n, parent_level, parent_code
    FROM mart.indicator
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), bd AS (
    -- parts of a breakdown, in order of n: the 2nd is masked when only the 1st is
    SELECT p.level, p.code, p.period_kind, p.period_start, p.indicator,
        row_number() OVER w AS pos,
        lag(p.n) OVER w + 1 AS lo,
        CASE WHEN t.indicator IS NOT NULL THEN least(p.n, coalesce(t.n, p.n)) END AS hi
    FROM i p
    JOIN mart.indicator_breakdown b ON b.part = p.indicator
    LEFT JOIN i t ON t.level = p.level AND t.code = p.code AND t.period_kind = p.period_kind
        AND t.period_start = p.period_start AND t.indicator = b.total
    WHERE p.n IS NOT NULL
    WINDOW w AS (PARTITION BY p.level, p.code, p.period_kind, p.period_start, b.breakdown ORDER BY p.n, p.value, p.indicator)
), geo AS (
    -- territories of one level under one parent, for additive indicators
    SELECT c.level, c.code, c.period_kind, c.period_start, c.indicator,
        row_number() OVER w AS pos,
        lag(c.n) OVER w + 1 AS lo,
        CASE WHEN pa.indicator IS NOT NULL THEN least(c.n, coalesce(pa.n, c.n)) END AS hi
    FROM i c
    JOIN mart.indicator_catalog cat ON cat.indicator = c.indicator AND cat.additive
    LEFT JOIN i pa ON pa.level = c.parent_level AND pa.code = c.parent_code AND pa.period_kind = c.period_kind
        AND pa.period_start = c.period_start AND pa.indicator = c.indicator
    WHERE c.n IS NOT NULL AND c.parent_code IS NOT NULL
    WINDOW w AS (PARTITION BY c.parent_level, c.parent_code, c.level, c.period_kind, c.period_start, c.indicator ORDER BY c.n, c.value, c.code)
), m AS (
    SELECT i.level, i.code, i.period_kind, i.period_start, i.indicator, i.parent_level, i.parent_code,
        {n: i.n, b_lo: CASE WHEN bd.pos = 2 THEN bd.lo END, b_hi: CASE WHEN bd.pos = 2 THEN bd.hi END,
         g_lo: CASE WHEN geo.pos = 2 THEN geo.lo END, g_hi: CASE WHEN geo.pos = 2 THEN geo.hi END} AS mk
    FROM i
    LEFT JOIN bd ON bd.level = i.level AND bd.code = i.code AND bd.period_kind = i.period_kind
        AND bd.period_start = i.period_start AND bd.indicator = i.indicator
    LEFT JOIN geo ON geo.level = i.level AND geo.code = i.code AND geo.period_kind = i.period_kind
        AND geo.period_start = i.period_start AND geo.indicator = i.indicator
), cur AS (
    SELECT *,
        CAST(period_start - to_months(period_months(period_kind)) AS DATE) AS prev_start,
        CAST(period_start - INTERVAL 1 YEAR AS DATE) AS prev_year_start
    FROM m WHERE in_window_period(period_kind, period_start)
)
SELECT c.level, c.code, c.period_kind, c.period_start, c.indicator, c.mk,
    pa.mk AS parent_mk, pv.mk AS prev_mk, py.mk AS prev_year_mk
FROM cur c
LEFT JOIN m pa ON pa.level = c.parent_level AND pa.code = c.parent_code AND pa.period_kind = c.period_kind
    AND pa.period_start = c.period_start AND pa.indicator = c.indicator
LEFT JOIN m pv ON pv.level = c.level AND pv.code = c.code AND pv.period_kind = c.period_kind
    AND pv.period_start = c.prev_start AND pv.indicator = c.indicator
LEFT JOIN m py ON py.level = c.level AND py.code = c.code AND py.period_kind = c.period_kind
    AND py.period_start = c.prev_year_start AND py.indicator = c.indicator
