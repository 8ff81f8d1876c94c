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
--   - not_null: mk
WITH v AS (
    SELECT * FROM int.indicator_value
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), names AS (
    -- position of each indicator in the lists (the same on every row)
    SELECT unnest(generate_series(1, len(ind))) AS i, unnest(list_transform(ind, x -> x.indicator)) AS indicator
    FROM (SELECT ind FROM int.indicator_value LIMIT 1)
), vt AS (
    -- integer row keys: ((territory x 3 + period kind) x 100000 + month index) x 1000 + indicator position
    SELECT v.*, t.parent_level, t.parent_code,
        CASE v.level WHEN 'commune' THEN 0 WHEN 'epci' THEN 1 WHEN 'rpe' THEN 2 WHEN 'departement' THEN 3 WHEN 'region' THEN 4 ELSE 5 END AS lid,
        ((CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS base,
        ((CAST(t.parent_tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS parent_base,
        ((CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) - period_months(v.period_kind)) * 1000 AS prev_base,
        ((CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) - 12) * 1000 AS prev_year_base
    FROM v
    LEFT JOIN staging.territory t ON t.level = v.level AND t.code = v.code
    JOIN (VALUES ('month', 0), ('quarter', 1), ('year', 2)) AS k(period_kind, kid) ON k.period_kind = v.period_kind
), l AS (
    -- every figure of the periods that groups need, with its parent's n
    SELECT base + i AS key, base, lid, parent_base, i, x.value AS value, CAST(round(x.n) AS BIGINT) AS n,
        CAST(round(px.n) AS BIGINT) AS parent_n, px.value IS NOT NULL AS has_parent, code
    FROM (
        SELECT vt.base, vt.lid, vt.parent_base, vt.code,
            unnest(generate_series(1, len(vt.ind))) AS i, unnest(vt.ind) AS x, unnest(p.ind) AS px
        FROM vt
        LEFT JOIN v p ON p.level = vt.parent_level AND p.code = vt.parent_code
            AND p.period_kind = vt.period_kind AND p.period_start = vt.period_start
    )
    WHERE x.value IS NOT NULL
), bd AS (
    -- the two smallest parts of each breakdown, and the total's position
    SELECT l.base, tn.i AS total_i,
        arg_min({key: l.key, n: l.n}, {n: l.n, v: l.value, name: pn.indicator}, 2) AS two
    FROM l
    JOIN names pn ON pn.i = l.i
    JOIN mart.indicator_breakdown b ON b.part = pn.indicator
    JOIN names tn ON tn.indicator = b.total
    WHERE l.n IS NOT NULL
    GROUP BY l.base, b.breakdown, tn.i
), geo AS (
    -- the two smallest territories of a level under one parent
    SELECT arg_min({key: l.key, n: l.n}, {n: l.n, v: l.value, c: l.code}, 2) AS two,
        any_value(l.parent_n) AS parent_n
    FROM l
    JOIN names pn ON pn.i = l.i
    JOIN mart.indicator_catalog c ON c.indicator = pn.indicator AND c.additive
    WHERE l.n IS NOT NULL AND l.has_parent
    GROUP BY l.parent_base, l.lid, l.i
), iv AS (
    SELECT key, max(b_lo) AS b_lo, max(b_hi) AS b_hi, max(g_lo) AS g_lo, max(g_hi) AS g_hi
    FROM (
        SELECT bd.two[2].key AS key,
            bd.two[1].n + 1 AS b_lo, least(bd.two[2].n, coalesce(t.n, bd.two[2].n)) AS b_hi,
            CAST(NULL AS BIGINT) AS g_lo, CAST(NULL AS BIGINT) AS g_hi
        FROM bd
        JOIN l t ON t.key = bd.base + bd.total_i
        WHERE len(bd.two) = 2
        UNION ALL
        SELECT two[2].key, NULL, NULL, two[1].n + 1, least(two[2].n, coalesce(parent_n, two[2].n))
        FROM geo
        WHERE len(two) = 2
    )
    GROUP BY key
), cur AS (
    SELECT c.level, c.code, c.period_kind, c.period_start, c.base, c.parent_base, c.prev_base, c.prev_year_base,
        unnest(generate_series(1, len(c.ind))) AS i,
        unnest(c.ind) AS x, unnest(p.ind) AS px, unnest(pv.ind) AS pvx, unnest(py.ind) AS pyx
    FROM (SELECT * FROM vt WHERE in_window_period(period_kind, period_start)) c
    LEFT JOIN v p ON p.level = c.parent_level AND p.code = c.parent_code
        AND p.period_kind = c.period_kind AND p.period_start = c.period_start
    LEFT JOIN v pv ON pv.level = c.level AND pv.code = c.code AND pv.period_kind = c.period_kind
        AND pv.period_start = CAST(c.period_start - to_months(period_months(c.period_kind)) AS DATE)
    LEFT JOIN v py ON py.level = c.level AND py.code = c.code AND py.period_kind = c.period_kind
        AND py.period_start = CAST(c.period_start - INTERVAL 1 YEAR AS DATE)
)
SELECT c.level, c.code, c.period_kind, c.period_start, c.x.indicator AS indicator,
    {n: CAST(round(c.x.n) AS BIGINT), b_lo: s.b_lo, b_hi: s.b_hi, g_lo: s.g_lo, g_hi: s.g_hi} AS mk,
    CASE WHEN c.px.value IS NOT NULL THEN {n: CAST(round(c.px.n) AS BIGINT), b_lo: pa.b_lo, b_hi: pa.b_hi, g_lo: pa.g_lo, g_hi: pa.g_hi} END AS parent_mk,
    CASE WHEN c.pvx.value IS NOT NULL THEN {n: CAST(round(c.pvx.n) AS BIGINT), b_lo: pv.b_lo, b_hi: pv.b_hi, g_lo: pv.g_lo, g_hi: pv.g_hi} END AS prev_mk,
    CASE WHEN c.pyx.value IS NOT NULL THEN {n: CAST(round(c.pyx.n) AS BIGINT), b_lo: py.b_lo, b_hi: py.b_hi, g_lo: py.g_lo, g_hi: py.g_hi} END AS prev_year_mk
FROM cur c
LEFT JOIN iv s ON s.key = c.base + c.i
LEFT JOIN iv pa ON pa.key = c.parent_base + c.i
LEFT JOIN iv pv ON pv.key = c.prev_base + c.i
LEFT JOIN iv py ON py.key = c.prev_year_base + c.i
WHERE c.x.value IS NOT NULL
