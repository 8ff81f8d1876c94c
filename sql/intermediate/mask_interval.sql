-- description: Intervalles de masquage complémentaire : une ligne par
--   territoire et période ayant au moins une figure à masquer en complément
--   pour certains seuils k (la 2e plus petite partie d'un groupe), avec la
--   liste de ces figures, et non une ligne par figure. Écrit pour tenir dans
--   2 Go sur la France entière : agrégats à états de taille fixe (min),
--   décompositions calculées ligne par ligne, listes d'entiers.
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
-- incremental: in_window_period(CASE (base // 100000) % 3 WHEN 0 THEN 'month' WHEN 1 THEN 'quarter' ELSE 'year' END, period_start)
-- formula: b_lo = n(1re partie) + 1, b_hi = min(n(2e partie), n(total)) pour la 2e partie d'une décomposition, par n puis valeur puis nom ;
--   g_lo, g_hi de même parmi les territoires de même niveau et de même parent, par n puis code, le parent tenant lieu de total
-- columns:
--   base: clé entière du territoire et de la période : (staging.territory.tid x 3 + type de période (0 mois, 1 trimestre, 2 année)) x 100000 + année x 12 + mois
--   period_start: premier jour de la période
--   iv: un entier par indicateur concerné : position dans int.indicator_value.ind x 2^56 + b_lo x 2^42 + b_hi x 2^28 + g_lo x 2^14 + g_hi, où [b_lo, b_hi] est l'intervalle de k masqué par une décomposition et [g_lo, g_hi] par la géographie (0 : aucun) ; bornes plafonnées à 16 383, le plus grand seuil k accepté ; croissants (par position)
-- tests:
--   - not_null: base, period_start, iv
WITH v AS NOT MATERIALIZED (
    -- values and n as two plain lists (the indicator names are the same on every row, see names)
    SELECT level, code, period_kind, period_start,
        list_transform(ind, x -> x.value) AS vals, list_transform(ind, x -> x.n) AS ns
    FROM int.indicator_value
    -- a period's masks depend on that period's figures only
    WHERE in_window_period(period_kind, period_start)
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
), vt AS NOT MATERIALIZED (
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
), apos AS (
    -- positions of the additive indicators
    SELECT list(n.i ORDER BY n.i) AS pos FROM names n JOIN mart.indicator_catalog c ON c.indicator = n.indicator AND c.additive
), gf AS (
    -- additive figures of the territories that have a parent, narrow: gl = group (the parent's key +
    -- position) x 8 + level (one group: the territories of one level under one parent, for one
    -- indicator and period), o = (n, tid) packed in one integer so that the two smallest are found
    -- with plain min() aggregates, whose fixed-size states spill to disk (arg_min(..., 2) states
    -- do not: the national run ran out of memory on them)
    SELECT (g * 8 + lid) AS gl, CAST(round(n) AS BIGINT) * 16777216 + tid AS o
    FROM (
        SELECT c.parent_base + unnest(a.pos) AS g, c.lid, c.tid, unnest(list_select(c.ns, a.pos)) AS n, unnest(list_select(c.vals, a.pos)) AS value
        FROM vt c, apos a
        WHERE c.base IS NOT NULL AND c.parent_base IS NOT NULL
    )
    WHERE value IS NOT NULL AND n IS NOT NULL
), g1 AS (
    SELECT gl, min(o) AS o1 FROM gf GROUP BY gl
), g2 AS (
    -- the second smallest of each group: n, then code (tid follows the code within a level)
    SELECT f.gl, any_value(g1.o1) AS o1, min(f.o) AS o2
    FROM gf f JOIN g1 ON g1.gl = f.gl AND f.o > g1.o1
    GROUP BY f.gl
), pf AS (
    -- the groups' totals: the additive figures of the territories that are parents (not communes)
    SELECT g, CAST(round(n) AS BIGINT) AS parent_n
    FROM (
        SELECT p.base + unnest(a.pos) AS g, unnest(list_select(p.ns, a.pos)) AS n, unnest(list_select(p.vals, a.pos)) AS value
        FROM vt p, apos a
        WHERE p.lid > 0 AND p.base IS NOT NULL
    )
    WHERE value IS NOT NULL
), geo AS (
    -- groups whose parent has a value; the second's key rebuilt from the group's period and position
    SELECT g2.m, g2.o1 // 16777216 AS n1, g2.o2 // 16777216 AS n2, pf.parent_n,
        (((g2.o2 % 16777216) * 3 + (g2.g // 100000000) % 3) * 100000 + g2.m) * 1000 + g2.g % 1000 AS key
    FROM (SELECT *, gl // 8 AS g, (gl // 8000) % 100000 AS m FROM g2) g2
    JOIN pf ON pf.g = g2.g
)
SELECT key // 1000 AS base, any_value(period_start) AS period_start,
    -- one integer per figure (a list of structs, or two lists, took more than 3.5 GB of aggregate
    -- states nationally, where these take 2): position, then the four bounds on 14 bits each
    -- (sorted after the aggregate: by position; list(... ORDER BY) buffers every row)
    list_sort(list((key % 1000) * 72057594037927936
        + CASE WHEN b_lo <= 16383 THEN b_lo * 4398046511104 + least(b_hi, 16383) * 268435456 ELSE 0 END
        + CASE WHEN g_lo <= 16383 THEN g_lo * 16384 + least(g_hi, 16383) ELSE 0 END)) AS iv
FROM (
    SELECT key, any_value(period_start) AS period_start, max(b_lo) AS b_lo, max(b_hi) AS b_hi, max(g_lo) AS g_lo, max(g_hi) AS g_hi
    FROM (
        SELECT key, period_start, b_lo, b_hi, CAST(NULL AS BIGINT) AS g_lo, CAST(NULL AS BIGINT) AS g_hi
        FROM bd
        UNION ALL
        SELECT key, make_date(CAST((m - 1) // 12 AS INTEGER), CAST((m - 1) % 12 + 1 AS INTEGER), 1), NULL, NULL, n1 + 1, least(n2, coalesce(parent_n, n2))
        FROM geo
    )
    GROUP BY key
)
GROUP BY key // 1000
