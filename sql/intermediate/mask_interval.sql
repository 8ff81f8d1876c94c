-- description: Intervalles de masquage complémentaire : une ligne par
--   territoire et période ayant au moins une figure à masquer en complément
--   pour certains seuils k (la 2e plus petite partie d'un groupe), avec la
--   liste de ces figures, et non une ligne par figure.
--   mart.indicator recopie sur chacune de ses lignes le masque de la ligne,
--   de son parent, de la période précédente et de l'année précédente ;
--   mart.published_indicator(k) l'applique. Complémentaire : dans un groupe
--   dont le total est publié (les parties d'une décomposition de
--   mart.indicator_breakdown pour un territoire et une période ; les
--   territoires de même niveau ayant le même parent pour un indicateur
--   additif), si une seule partie est masquée (n < k), la partie suivante
--   par n croissant (puis valeur, puis nom ou code) est masquée aussi ; c'est
--   le cas exactement pour n(1re partie) < k <= min(n(2e partie), n(total)).
--   Les intervalles sont calculés sur le seul secret primaire (une passe par
--   type de groupe, sans itérer jusqu'à un point fixe entre décompositions et
--   géographie).
-- grain: un territoire et une période ayant une figure masquable en complément
-- source: int.indicator_value, staging.territory, mart.indicator_breakdown, mart.indicator_catalog
-- incremental: period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
-- formula: b_lo = n(1re partie) + 1, b_hi = min(n(2e partie), n(total)) pour la 2e partie d'une décomposition, par n puis valeur puis nom ;
--   g_lo, g_hi de même parmi les territoires de même niveau et de même parent, le parent tenant lieu de total
-- columns:
--   base: clé entière du territoire et de la période : (staging.territory.tid x 3 + type de période (0 mois, 1 trimestre, 2 année)) x 100000 + année x 12 + mois
--   period_start: premier jour de la période
--   pos: positions des indicateurs concernés dans int.indicator_value.ind (croissantes)
--   iv: pour chacun, {b_lo, b_hi} : intervalle de k masqué par une décomposition, {g_lo, g_hi} : par la géographie (NULL : aucun)
-- tests:
--   - not_null: base, period_start, pos, iv
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
    -- the territories present, numbered in (level, code) order
    SELECT d.level, d.code, CAST(row_number() OVER (ORDER BY d.level, d.code) AS BIGINT) AS vid,
        t.tid, t.parent_tid, t.parent_level, t.parent_code,
        CASE d.level WHEN 'commune' THEN 0 WHEN 'epci' THEN 1 WHEN 'rpe' THEN 2 WHEN 'departement' THEN 3 WHEN 'region' THEN 4 ELSE 5 END AS lid
    FROM (SELECT DISTINCT level, code FROM v) d
    LEFT JOIN staging.territory t ON t.level = d.level AND t.code = d.code
), vt AS (
    SELECT v.vals, v.ns, v.period_start, t.vid, t.lid,
        (t.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS pk,
        (pt.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS parent_pk,
        ((CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS base,
        ((CAST(t.parent_tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS parent_base
    FROM v
    JOIN terr t ON t.level = v.level AND t.code = v.code
    LEFT JOIN terr pt ON pt.level = t.parent_level AND pt.code = t.parent_code
    JOIN (VALUES ('month', 0), ('quarter', 1), ('year', 2)) AS k(period_kind, kid) ON k.period_kind = v.period_kind
), l AS (
    -- every figure with its n and its parent's
    SELECT * FROM (
        SELECT c.base, c.parent_base, c.lid, c.vid, c.period_start,
            unnest(generate_series(1, len(c.vals))) AS i,
            unnest(c.vals) AS value, CAST(round(unnest(c.ns)) AS BIGINT) AS n,
            unnest(p.vals) AS parent_value, CAST(round(unnest(p.ns)) AS BIGINT) AS parent_n
        FROM vt c
        LEFT JOIN vt p ON p.pk = c.parent_pk
        WHERE c.base IS NOT NULL
    )
    WHERE value IS NOT NULL AND n IS NOT NULL
), parts AS (
    SELECT pn.i, b.breakdown, pn.indicator, tn.i AS total_i
    FROM names pn
    JOIN mart.indicator_breakdown b ON b.part = pn.indicator
    JOIN names tn ON tn.indicator = b.total
), bd AS (
    -- the two smallest parts of each breakdown, and the total's position
    SELECT l.base, p.total_i, any_value(l.period_start) AS period_start,
        arg_min({key: l.base + l.i, n: l.n}, {n: l.n, v: l.value, name: p.indicator}, 2) AS two
    FROM l
    JOIN parts p ON p.i = l.i
    GROUP BY l.base, p.breakdown, p.total_i
), geo AS (
    -- the two smallest territories of a level under one parent (vid follows the code within a level)
    SELECT arg_min({key: l.base + l.i, n: l.n}, {n: l.n, v: l.value, c: l.vid}, 2) AS two,
        any_value(l.parent_n) AS parent_n, any_value(l.period_start) AS period_start
    FROM l
    WHERE l.parent_value IS NOT NULL
        AND l.i IN (SELECT n.i FROM names n JOIN mart.indicator_catalog c ON c.indicator = n.indicator AND c.additive)
    GROUP BY l.parent_base, l.lid, l.i
)
SELECT key // 1000 AS base, any_value(period_start) AS period_start,
    list(CAST(key % 1000 AS INTEGER) ORDER BY key) AS pos,
    list({b_lo: b_lo, b_hi: b_hi, g_lo: g_lo, g_hi: g_hi} ORDER BY key) AS iv
FROM (
    SELECT key, any_value(period_start) AS period_start, max(b_lo) AS b_lo, max(b_hi) AS b_hi, max(g_lo) AS g_lo, max(g_hi) AS g_hi
    FROM (
        SELECT bd.two[2].key AS key, bd.period_start,
            bd.two[1].n + 1 AS b_lo, least(bd.two[2].n, coalesce(CAST(round(t.ns[bd.total_i]) AS BIGINT), bd.two[2].n)) AS b_hi,
            CAST(NULL AS BIGINT) AS g_lo, CAST(NULL AS BIGINT) AS g_hi
        FROM bd
        JOIN vt t ON t.base = bd.base
        WHERE len(bd.two) = 2 AND t.vals[bd.total_i] IS NOT NULL
        UNION ALL
        SELECT two[2].key, period_start, NULL, NULL, two[1].n + 1, least(two[2].n, coalesce(parent_n, two[2].n))
        FROM geo
        WHERE len(two) = 2
    )
    GROUP BY key
)
GROUP BY key // 1000
