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
--   par n croissant (puis valeur puis nom pour une décomposition, puis code
--   pour la géographie) est masquée aussi ; c'est le cas exactement pour
--   n(1re partie) < k <= min(n(2e partie), n(total)).
--   Les intervalles sont calculés sur le seul secret primaire (une passe par
--   type de groupe, sans itérer jusqu'à un point fixe entre décompositions et
--   géographie).
-- grain: un territoire et une période ayant une figure masquable en complément
-- source: int.indicator_value, staging.territory, mart.indicator_breakdown, mart.indicator_catalog
-- incremental: period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
-- formula: b_lo = n(1re partie) + 1, b_hi = min(n(2e partie), n(total)) pour la 2e partie d'une décomposition, par n puis valeur puis nom ;
--   g_lo, g_hi de même parmi les territoires de même niveau et de même parent, par n puis code, le parent tenant lieu de total
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
    SELECT v.vals, v.ns, v.period_start, t.vid, t.tid, t.lid,
        (t.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS pk,
        (pt.vid * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start) AS parent_pk,
        ((CAST(t.tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS base,
        ((CAST(t.parent_tid AS BIGINT) * 3 + k.kid) * 100000 + year(v.period_start) * 12 + month(v.period_start)) * 1000 AS parent_base
    FROM v
    JOIN terr t ON t.level = v.level AND t.code = v.code
    LEFT JOIN terr pt ON pt.level = t.parent_level AND pt.code = t.parent_code
    JOIN (VALUES ('month', 0), ('quarter', 1), ('year', 2)) AS k(period_kind, kid) ON k.period_kind = v.period_kind
), bdef AS (
    -- each breakdown: its total's position, its parts' positions and names
    SELECT list({total_i: total_i, parts: parts}) AS defs
    FROM (
        SELECT tn.i AS total_i, list({i: pn.i, name: pn.indicator} ORDER BY pn.i) AS parts
        FROM mart.indicator_breakdown b
        JOIN names pn ON pn.indicator = b.part
        JOIN names tn ON tn.indicator = b.total
        GROUP BY b.breakdown, tn.i
    )
), bd AS (
    -- the two smallest parts of each breakdown whose total has a value, row by row: the parts of a
    -- breakdown sit in one row of int.indicator_value, so this needs no aggregation (and no memory)
    SELECT period_start, b.two[2].key AS key, b.two[1].n + 1 AS b_lo, least(b.two[2].n, coalesce(b.total_n, b.two[2].n)) AS b_hi
    FROM (
        SELECT t.period_start, unnest(list_transform(
            list_filter(d.defs, b -> t.vals[b.total_i] IS NOT NULL),
            b -> {
                two: list_slice(list_sort(list_filter(
                    list_transform(b.parts, p -> {n: CAST(round(t.ns[p.i]) AS BIGINT), v: t.vals[p.i], name: p.name, key: t.base + p.i}),
                    x -> x.v IS NOT NULL AND x.n IS NOT NULL)), 1, 2),
                total_n: CAST(round(t.ns[b.total_i]) AS BIGINT)
            })) AS b
        FROM vt t, bdef d
        WHERE t.base IS NOT NULL
    )
    WHERE len(b.two) = 2
), gf AS (
    -- additive figures of territories whose parent has a value; g = the parent's key + position
    -- (one group: the territories of one level under one parent, for one indicator and period).
    -- o packs (n, tid) in one integer so that the two smallest are found with plain min()
    -- aggregates, whose fixed-size states spill to disk (arg_min(..., 2) states do not)
    SELECT g, lid, period_start, n * 16777216 + tid AS o, parent_n
    FROM (
        SELECT c.parent_base + unnest(a.pos) AS g, c.lid, c.period_start, c.tid,
            unnest(list_transform(a.pos, j -> CAST(round(c.ns[j]) AS BIGINT))) AS n,
            unnest(list_transform(a.pos, j -> c.vals[j])) AS value,
            unnest(list_transform(a.pos, j -> p.vals[j])) AS parent_value,
            unnest(list_transform(a.pos, j -> CAST(round(p.ns[j]) AS BIGINT))) AS parent_n
        FROM vt c
        JOIN vt p ON p.pk = c.parent_pk,
            (SELECT list(n.i ORDER BY n.i) AS pos FROM names n JOIN mart.indicator_catalog c ON c.indicator = n.indicator AND c.additive) a
        WHERE c.base IS NOT NULL AND c.parent_base IS NOT NULL
    )
    WHERE value IS NOT NULL AND n IS NOT NULL AND parent_value IS NOT NULL
), g1 AS (
    SELECT g, lid, min(o) AS o1, any_value(parent_n) AS parent_n, any_value(period_start) AS period_start
    FROM gf
    GROUP BY g, lid
), geo AS (
    -- the second smallest of each group (n, then code: tid follows the code within a level), its key
    -- rebuilt from the group's period and position
    SELECT g1.period_start, g1.o1 // 16777216 AS n1, g1.parent_n, min(f.o) // 16777216 AS n2,
        (((min(f.o) % 16777216) * 3 + (g1.g // 100000000) % 3) * 100000 + (g1.g // 1000) % 100000) * 1000 + g1.g % 1000 AS key
    FROM gf f
    JOIN g1 ON g1.g = f.g AND g1.lid = f.lid AND f.o > g1.o1
    GROUP BY g1.g, g1.lid, g1.o1, g1.parent_n, g1.period_start
)
SELECT key // 1000 AS base, any_value(period_start) AS period_start,
    list(CAST(key % 1000 AS INTEGER) ORDER BY key) AS pos,
    list({b_lo: b_lo, b_hi: b_hi, g_lo: g_lo, g_hi: g_hi} ORDER BY key) AS iv
FROM (
    SELECT key, any_value(period_start) AS period_start, max(b_lo) AS b_lo, max(b_hi) AS b_hi, max(g_lo) AS g_lo, max(g_hi) AS g_hi
    FROM (
        SELECT key, period_start, b_lo, b_hi, CAST(NULL AS BIGINT) AS g_lo, CAST(NULL AS BIGINT) AS g_hi
        FROM bd
        UNION ALL
        SELECT key, period_start, NULL, NULL, n1 + 1, least(n2, coalesce(parent_n, n2))
        FROM geo
    )
    GROUP BY key
)
GROUP BY key // 1000
