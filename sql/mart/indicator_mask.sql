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
-- source: int.indicator_value (valeurs et n du territoire, de son parent, des périodes précédentes), staging.territory,
--   mart.indicator_breakdown, mart.indicator_catalog
-- incremental: in_window_period(period_kind, period_start)
-- formula: masquée(k) = n < k ou k entre b_lo et b_hi ou k entre g_lo et g_hi ;
--   b_lo = n(1re partie) + 1, b_hi = min(n(2e partie), n(total)) pour la 2e partie d'une décomposition, par n puis valeur puis nom ;
--   g_lo, g_hi de même parmi les territoires de même niveau et de même parent, le parent tenant lieu de total
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
WITH v AS (
    SELECT * FROM int.indicator_value
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), vt AS (
    SELECT v.*, t.parent_level, t.parent_code,
        CAST(v.period_start - to_months(period_months(v.period_kind)) AS DATE) AS prev_start,
        CAST(v.period_start - INTERVAL 1 YEAR AS DATE) AS prev_year_start
    FROM v LEFT JOIN staging.territory t ON t.level = v.level AND t.code = v.code
), l AS (
    -- every figure of the periods that groups need, with its parent's n
    SELECT level, code, period_kind, period_start, parent_level, parent_code,
        x.indicator, x.value, CAST(round(x.n) AS BIGINT) AS n,
        CAST(round(px.n) AS BIGINT) AS parent_n, px.value IS NOT NULL AS has_parent
    FROM (
        SELECT vt.level, vt.code, vt.period_kind, vt.period_start, vt.parent_level, vt.parent_code,
            unnest(vt.ind) AS x, unnest(p.ind) AS px
        FROM vt
        LEFT JOIN v p ON p.level = vt.parent_level AND p.code = vt.parent_code
            AND p.period_kind = vt.period_kind AND p.period_start = vt.period_start
    )
    WHERE x.value IS NOT NULL
), bd AS (
    -- the two smallest parts of each breakdown
    SELECT l.level, l.code, l.period_kind, l.period_start, b.total,
        arg_min({indicator: l.indicator, n: l.n}, {n: l.n, v: l.value, i: l.indicator}, 2) AS two
    FROM l JOIN mart.indicator_breakdown b ON b.part = l.indicator
    WHERE l.n IS NOT NULL
    GROUP BY l.level, l.code, l.period_kind, l.period_start, b.breakdown, b.total
), geo AS (
    -- the two smallest territories of a level under one parent
    SELECT l.level, l.period_kind, l.period_start, l.indicator,
        arg_min({code: l.code, n: l.n}, {n: l.n, v: l.value, c: l.code}, 2) AS two,
        any_value(l.parent_n) AS parent_n
    FROM l JOIN mart.indicator_catalog c ON c.indicator = l.indicator AND c.additive
    WHERE l.n IS NOT NULL AND l.has_parent
    GROUP BY l.parent_level, l.parent_code, l.level, l.period_kind, l.period_start, l.indicator
), iv AS (
    SELECT level, code, period_kind, period_start, indicator,
        max(b_lo) AS b_lo, max(b_hi) AS b_hi, max(g_lo) AS g_lo, max(g_hi) AS g_hi
    FROM (
        SELECT bd.level, bd.code, bd.period_kind, bd.period_start, bd.two[2].indicator AS indicator,
            bd.two[1].n + 1 AS b_lo, least(bd.two[2].n, coalesce(t.n, bd.two[2].n)) AS b_hi,
            CAST(NULL AS BIGINT) AS g_lo, CAST(NULL AS BIGINT) AS g_hi
        FROM bd
        JOIN l t ON t.level = bd.level AND t.code = bd.code AND t.period_kind = bd.period_kind
            AND t.period_start = bd.period_start AND t.indicator = bd.total
        WHERE len(bd.two) = 2
        UNION ALL
        SELECT level, two[2].code, period_kind, period_start, indicator,
            NULL, NULL, two[1].n + 1, least(two[2].n, coalesce(parent_n, two[2].n))
        FROM geo
        WHERE len(two) = 2
    )
    GROUP BY ALL
), cur AS (
    SELECT level, code, period_kind, period_start, parent_level, parent_code, prev_start, prev_year_start,
        x.indicator, CAST(round(x.n) AS BIGINT) AS n, CAST(round(px.n) AS BIGINT) AS parent_n,
        CAST(round(pvx.n) AS BIGINT) AS prev_n, CAST(round(pyx.n) AS BIGINT) AS prev_year_n,
        px.value IS NOT NULL AS has_parent, pvx.value IS NOT NULL AS has_prev, pyx.value IS NOT NULL AS has_prev_year
    FROM (
        SELECT c.*, unnest(c.ind) AS x, unnest(p.ind) AS px, unnest(pv.ind) AS pvx, unnest(py.ind) AS pyx
        FROM (SELECT * FROM vt WHERE in_window_period(period_kind, period_start)) c
        LEFT JOIN v p ON p.level = c.parent_level AND p.code = c.parent_code
            AND p.period_kind = c.period_kind AND p.period_start = c.period_start
        LEFT JOIN v pv ON pv.level = c.level AND pv.code = c.code
            AND pv.period_kind = c.period_kind AND pv.period_start = c.prev_start
        LEFT JOIN v py ON py.level = c.level AND py.code = c.code
            AND py.period_kind = c.period_kind AND py.period_start = c.prev_year_start
    )
    WHERE x.value IS NOT NULL
)
SELECT c.level, c.code, c.period_kind, c.period_start, c.indicator,
    {n: c.n, b_lo: s.b_lo, b_hi: s.b_hi, g_lo: s.g_lo, g_hi: s.g_hi} AS mk,
    CASE WHEN c.has_parent THEN {n: c.parent_n, b_lo: pa.b_lo, b_hi: pa.b_hi, g_lo: pa.g_lo, g_hi: pa.g_hi} END AS parent_mk,
    CASE WHEN c.has_prev THEN {n: c.prev_n, b_lo: pv.b_lo, b_hi: pv.b_hi, g_lo: pv.g_lo, g_hi: pv.g_hi} END AS prev_mk,
    CASE WHEN c.has_prev_year THEN {n: c.prev_year_n, b_lo: py.b_lo, b_hi: py.b_hi, g_lo: py.g_lo, g_hi: py.g_hi} END AS prev_year_mk
FROM cur c
LEFT JOIN iv s ON s.level = c.level AND s.code = c.code AND s.period_kind = c.period_kind
    AND s.period_start = c.period_start AND s.indicator = c.indicator
LEFT JOIN iv pa ON pa.level = c.parent_level AND pa.code = c.parent_code AND pa.period_kind = c.period_kind
    AND pa.period_start = c.period_start AND pa.indicator = c.indicator
LEFT JOIN iv pv ON pv.level = c.level AND pv.code = c.code AND pv.period_kind = c.period_kind
    AND pv.period_start = c.prev_start AND pv.indicator = c.indicator
LEFT JOIN iv py ON py.level = c.level AND py.code = c.code AND py.period_kind = c.period_kind
    AND py.period_start = c.prev_year_start AND py.indicator = c.indicator
