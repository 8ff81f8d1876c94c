-- description: Table longue des indicateurs du diagnostic territorial : une
--   ligne par niveau de territoire, code, type de période, période et
--   indicateur, avec sa valeur, le nombre de personnes sur lequel elle repose
--   (n) et ses comparaisons : territoire parent (valeur et écart), rang,
--   nombre de pairs et quartile parmi les territoires de même niveau du même
--   département (communes, EPCI, RPE) ou de France (départements, régions),
--   période précédente et même période un an avant. Les chiffres exacts sont
--   réservés aux analystes : les rapports lisent mart.published_indicator(k),
--   qui masque chaque ligne d'après ses colonnes mk, parent_mk, prev_mk et
--   prev_year_mk : le secret primaire (n) et les intervalles de masquage
--   complémentaire de int.mask_interval de la ligne, de son parent, de la
--   période précédente et de l'année précédente (pour masquer les
--   comparaisons).
-- grain: un territoire, une période et un indicateur
-- source: int.indicator_value, staging.territory, int.mask_interval
-- incremental: in_window_period(period_kind, period_start)
-- build: by_year
-- formula: diff_parent = value - parent_value ; rank = rang décroissant (1 = valeur la plus élevée, ex aequo au même rang) ;
--   quartile = 1 + floor(4 x (rank - 1) / peers) (1 = quart des valeurs les plus élevées) ;
--   prev_value = période précédente (mois, trimestre ou année d'avant) ; prev_year_value = même période un an avant ;
--   masquée(k) = n < k ou k entre b_lo et b_hi ou k entre g_lo et g_hi (voir int.mask_interval)
-- columns:
--   level: niveau (commune, epci, rpe, departement, region, france)
--   code: code du territoire
--   period_kind: month, quarter, year
--   period: 2025-03, 2025-T1, 2025
--   period_start: premier jour de la période
--   indicator: identifiant (voir mart.indicator_catalog)
--   value: valeur exacte
--   n: nombre de personnes sur lequel repose la valeur (NULL : chiffre publié, non masquable)
--   parent_level: niveau du territoire parent
--   parent_code: code du territoire parent
--   parent_value: valeur du parent, même période
--   diff_parent: écart au parent (en points pour un taux)
--   rank: rang parmi les pairs (1 = valeur la plus élevée)
--   peers: nombre de pairs ayant une valeur (territoires du même niveau et du même groupe)
--   quartile: quartile parmi les pairs (1 = le plus élevé)
--   prev_value: valeur à la période précédente
--   prev_year_value: valeur à la même période un an avant
--   mk: masque de la ligne {n, b_lo, b_hi, g_lo, g_hi} : masquée au seuil k si n < k ou b_lo <= k <= b_hi ou g_lo <= k <= g_hi (b : décomposition, g : géographie ; NULL = pas d'intervalle) ; lu par mart.published_indicator(k) seulement, pour k <= 16 383 (bornes plafonnées)
--   parent_mk: masque de la ligne du parent, même période (NULL : pas de valeur du parent)
--   prev_mk: masque de la ligne de la période précédente (NULL : pas de valeur)
--   prev_year_mk: masque de la ligne de la même période un an avant (NULL : pas de valeur)
-- tests:
--   - not_null: level, code, period_kind, period, period_start, indicator, value, rank, peers, quartile
--   - range: quartile 1..4
--   - assert: rank_within_peers: rank <= peers
--   - range: n 0..
WITH v AS (
    -- values and n as two plain lists (the indicator names are the same on every row, see names)
    SELECT level, code, period_kind, period_start,
        list_transform(ind, x -> x.value) AS vals, list_transform(ind, x -> x.n) AS ns
    FROM int.indicator_value
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), names AS (
    -- position of each indicator in the lists
    SELECT unnest(generate_series(1, len(ind))) AS i, unnest(list_transform(ind, x -> x.indicator)) AS indicator
    FROM (SELECT ind FROM int.indicator_value LIMIT 1)
), terr AS (
    -- the territories present, numbered; tid NULL when not in staging.territory
    SELECT d.level, d.code, CAST(row_number() OVER (ORDER BY d.level, d.code) AS BIGINT) AS vid,
        t.tid, t.parent_tid, t.parent_level, t.parent_code, coalesce(t.peer_gid, 0) AS peer_gid,
        d.level <> 'commune' AS can_parent
    FROM (SELECT DISTINCT level, code FROM v) d
    LEFT JOIN staging.territory t ON t.level = d.level AND t.code = d.code
), vt AS NOT MATERIALIZED (
    -- integer keys: pk = (territory x 3 + period kind) x 100000 + month index (ym), the previous
    -- period is ym - months, the same period a year before ym - 12; base is int.mask_interval's key / 1000
    SELECT v.vals, v.ns, v.period_start, t.vid, k.kid, period_months(v.period_kind) AS pm, t.can_parent,
        year(v.period_start) * 12 + month(v.period_start) AS ym,
        (t.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS pk,
        (pt.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS parent_pk,
        (CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS base,
        (CAST(t.parent_tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS parent_base,
        -- one integer per (level, peer group, period kind, period): peers are ranked within it
        ((CAST(t.peer_gid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS gbase,
        in_window_period(v.period_kind, v.period_start) AS cur
    FROM v
    JOIN terr t ON t.level = v.level AND t.code = v.code
    LEFT JOIN terr pt ON pt.level = t.parent_level AND pt.code = t.parent_code
    JOIN (VALUES ('month', 0), ('quarter', 1), ('year', 2)) AS k(period_kind, kid) ON k.period_kind = v.period_kind
), m AS (
    -- the packed intervals and their positions (int.mask_interval.iv: position x 2^56 + ...)
    SELECT base, list_transform(iv, x -> x // 72057594037927936) AS pos, iv FROM int.mask_interval
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), vm AS NOT MATERIALIZED (
    -- each territory and period with its masks
    SELECT vt.*, m.pos AS mpos, m.iv AS miv FROM vt LEFT JOIN m ON m.base = vt.base
), w AS (
    -- the previous period and the same period a year before, from a window over each territory's
    -- periods (self-joins of these lists needed build sides of ~4 GB nationally)
    SELECT *,
        first_value({vals: vals, ns: ns, pos: mpos, iv: miv}) OVER (PARTITION BY vid, kid ORDER BY ym RANGE BETWEEN pm PRECEDING AND pm PRECEDING) AS prev,
        first_value({vals: vals, ns: ns, pos: mpos, iv: miv}) OVER (PARTITION BY vid, kid ORDER BY ym RANGE BETWEEN 12 PRECEDING AND 12 PRECEDING) AS prev_year
    FROM vm
), l AS (
    -- every figure of the window with its parent's, previous period's and previous year's
    SELECT * FROM (
        SELECT c.vid, c.kid, c.period_start, c.gbase,
            unnest(generate_series(1, len(c.vals))) AS i,
            unnest(c.vals) AS value, unnest(c.ns) AS xn,
            unnest(p.vals) AS parent_value, unnest(p.ns) AS pn,
            unnest(c.prev.vals) AS prev_value, unnest(c.prev.ns) AS pvn,
            unnest(c.prev_year.vals) AS prev_year_value, unnest(c.prev_year.ns) AS pyn,
            -- the complementary masking intervals (sparse lists of int.mask_interval), made dense
            -- (packed integers, decoded at the end)
            unnest(list_transform(generate_series(1, len(c.vals)), j -> c.miv[list_position(c.mpos, j)])) AS s,
            unnest(list_transform(generate_series(1, len(c.vals)), j -> p.miv[list_position(p.mpos, j)])) AS pa,
            unnest(list_transform(generate_series(1, len(c.vals)), j -> c.prev.iv[list_position(c.prev.pos, j)])) AS pv,
            unnest(list_transform(generate_series(1, len(c.vals)), j -> c.prev_year.iv[list_position(c.prev_year.pos, j)])) AS py
        FROM (SELECT * FROM w WHERE cur) c
        -- parents are never communes: the build side is the other levels only
        LEFT JOIN (SELECT pk, vals, ns, mpos, miv FROM vm WHERE can_parent) p ON p.pk = c.parent_pk
    )
    WHERE value IS NOT NULL
), r AS (
    -- ranks on narrow integer rows; names are decoded after
    SELECT * EXCLUDE (gbase),
        rank() OVER w AS rank,
        count(*) OVER wall AS peers
    FROM l
    WINDOW w AS (PARTITION BY gbase + i ORDER BY value DESC),
        wall AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
-- names decoded by position in constant lists (no join after the window)
SELECT (SELECT list(level ORDER BY vid) FROM terr)[r.vid] AS level, (SELECT list(code ORDER BY vid) FROM terr)[r.vid] AS code,
    CASE r.kid WHEN 0 THEN 'month' WHEN 1 THEN 'quarter' ELSE 'year' END AS period_kind,
    period_label(CASE r.kid WHEN 0 THEN 'month' WHEN 1 THEN 'quarter' ELSE 'year' END, r.period_start) AS period, r.period_start,
    (SELECT list(indicator ORDER BY i) FROM names)[r.i] AS indicator,
    r.value, CAST(round(r.xn) AS BIGINT) AS n,
    (SELECT list(parent_level ORDER BY vid) FROM terr)[r.vid] AS parent_level, (SELECT list(parent_code ORDER BY vid) FROM terr)[r.vid] AS parent_code,
    r.parent_value, r.value - r.parent_value AS diff_parent,
    r.rank, r.peers, CAST(1 + floor(4 * (r.rank - 1) / r.peers) AS INTEGER) AS quartile,
    r.prev_value, r.prev_year_value,
    {n: CAST(round(r.xn) AS BIGINT), b_lo: nullif((r.s // 4398046511104) % 16384, 0), b_hi: nullif((r.s // 268435456) % 16384, 0), g_lo: nullif((r.s // 16384) % 16384, 0), g_hi: nullif(r.s % 16384, 0)} AS mk,
    CASE WHEN r.parent_value IS NOT NULL THEN {n: CAST(round(r.pn) AS BIGINT), b_lo: nullif((r.pa // 4398046511104) % 16384, 0), b_hi: nullif((r.pa // 268435456) % 16384, 0), g_lo: nullif((r.pa // 16384) % 16384, 0), g_hi: nullif(r.pa % 16384, 0)} END AS parent_mk,
    CASE WHEN r.prev_value IS NOT NULL THEN {n: CAST(round(r.pvn) AS BIGINT), b_lo: nullif((r.pv // 4398046511104) % 16384, 0), b_hi: nullif((r.pv // 268435456) % 16384, 0), g_lo: nullif((r.pv // 16384) % 16384, 0), g_hi: nullif(r.pv % 16384, 0)} END AS prev_mk,
    CASE WHEN r.prev_year_value IS NOT NULL THEN {n: CAST(round(r.pyn) AS BIGINT), b_lo: nullif((r.py // 4398046511104) % 16384, 0), b_hi: nullif((r.py // 268435456) % 16384, 0), g_lo: nullif((r.py // 16384) % 16384, 0), g_hi: nullif(r.py % 16384, 0)} END AS prev_year_mk
FROM r
