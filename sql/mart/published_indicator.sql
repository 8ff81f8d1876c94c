-- kind: macro
-- description: mart.published_indicator(k) : la seule façon dont les rapports
--   lisent les indicateurs. Mêmes colonnes que mart.indicator plus masked.
--   Secret statistique : toute valeur reposant sur moins de k personnes
--   (n < k ; n NULL = chiffre publié, jamais masqué) est masquée : value, n,
--   parent_value, diff_parent, rank, quartile, prev_value et prev_year_value
--   passent à NULL et masked à vrai. Masquage complémentaire, pour qu'un
--   chiffre masqué ne puisse pas être recalculé par différence : (1) dans
--   une décomposition (mart.indicator_breakdown) dont le total est publié,
--   si une seule partie est masquée, la plus petite partie non masquée l'est
--   aussi ; (2) pour un indicateur additif (mart.indicator_catalog.additive),
--   parmi les territoires de même niveau ayant le même parent (les communes
--   d'un EPCI, les EPCI d'un département...), si un seul est masqué et que le
--   parent est publié, le plus petit autre l'est aussi ; (3) la passe (1) est
--   refaite après la passe (2). Enfin, sur une ligne publiée, la valeur du
--   parent, de la période précédente ou de l'année précédente est masquée si
--   la ligne correspondante l'est. Limites : deux passes, pas de point fixe
--   garanti entre décompositions et géographie croisées ; les rangs des
--   lignes publiées tiennent compte des valeurs masquées.
-- source: mart.indicator, mart.indicator_breakdown, mart.indicator_catalog
CREATE OR REPLACE MACRO mart.published_indicator(k) AS TABLE
WITH base AS (
    SELECT i.*, coalesce(i.n < k, false) AS m0,
        CAST(i.period_start - to_months(CASE i.period_kind WHEN 'month' THEN 1 WHEN 'quarter' THEN 3 ELSE 12 END) AS DATE) AS prev_start,
        CAST(i.period_start - INTERVAL 1 YEAR AS DATE) AS prev_year_start
    FROM mart.indicator i
), pass1 AS (
    -- breakdown parts: one masked part of a published total unmasks by difference
    SELECT x.level, x.code, x.period_kind, x.period_start, x.indicator,
        bool_or(NOT x.m0 AND x.n_masked = 1 AND x.total_visible AND x.rk = 1) AS extra
    FROM (
        SELECT p.level, p.code, p.period_kind, p.period_start, p.indicator, p.m0,
            t.indicator IS NOT NULL AND NOT t.m0 AS total_visible,
            count(*) FILTER (WHERE p.m0) OVER g AS n_masked,
            row_number() OVER (PARTITION BY p.level, p.code, p.period_kind, p.period_start, b.breakdown, p.m0 ORDER BY p.value, p.indicator) AS rk
        FROM base p
        JOIN mart.indicator_breakdown b ON b.part = p.indicator
        LEFT JOIN base t ON t.level = p.level AND t.code = p.code AND t.period_kind = p.period_kind
            AND t.period_start = p.period_start AND t.indicator = b.total
        WINDOW g AS (PARTITION BY p.level, p.code, p.period_kind, p.period_start, b.breakdown)
    ) x
    GROUP BY ALL
), m1 AS (
    SELECT b.*, b.m0 OR coalesce(p.extra, false) AS m1
    FROM base b
    LEFT JOIN pass1 p ON p.level = b.level AND p.code = b.code AND p.period_kind = b.period_kind
        AND p.period_start = b.period_start AND p.indicator = b.indicator
), pass2 AS (
    -- territories of one level under one parent: one masked sibling of a published parent unmasks by difference
    SELECT x.level, x.code, x.period_kind, x.period_start, x.indicator,
        NOT x.m1 AND x.n_masked = 1 AND x.parent_visible AND x.rk = 1 AS extra
    FROM (
        SELECT c.level, c.code, c.period_kind, c.period_start, c.indicator, c.m1,
            pa.indicator IS NOT NULL AND NOT pa.m1 AS parent_visible,
            count(*) FILTER (WHERE c.m1) OVER g AS n_masked,
            row_number() OVER (PARTITION BY c.parent_level, c.parent_code, c.level, c.period_kind, c.period_start, c.indicator, c.m1 ORDER BY c.value, c.code) AS rk
        FROM m1 c
        JOIN mart.indicator_catalog cat ON cat.indicator = c.indicator AND cat.additive
        LEFT JOIN m1 pa ON pa.level = c.parent_level AND pa.code = c.parent_code AND pa.period_kind = c.period_kind
            AND pa.period_start = c.period_start AND pa.indicator = c.indicator
        WHERE c.parent_code IS NOT NULL
        WINDOW g AS (PARTITION BY c.parent_level, c.parent_code, c.level, c.period_kind, c.period_start, c.indicator)
    ) x
    WHERE NOT x.m1 AND x.n_masked = 1 AND x.parent_visible AND x.rk = 1
), m2 AS (
    SELECT b.*, b.m1 OR p.extra IS NOT NULL AS m2
    FROM m1 b
    LEFT JOIN pass2 p ON p.level = b.level AND p.code = b.code AND p.period_kind = b.period_kind
        AND p.period_start = b.period_start AND p.indicator = b.indicator
), pass3 AS (
    SELECT x.level, x.code, x.period_kind, x.period_start, x.indicator,
        bool_or(NOT x.m2 AND x.n_masked = 1 AND x.total_visible AND x.rk = 1) AS extra
    FROM (
        SELECT p.level, p.code, p.period_kind, p.period_start, p.indicator, p.m2,
            t.indicator IS NOT NULL AND NOT t.m2 AS total_visible,
            count(*) FILTER (WHERE p.m2) OVER g AS n_masked,
            row_number() OVER (PARTITION BY p.level, p.code, p.period_kind, p.period_start, b.breakdown, p.m2 ORDER BY p.value, p.indicator) AS rk
        FROM m2 p
        JOIN mart.indicator_breakdown b ON b.part = p.indicator
        LEFT JOIN m2 t ON t.level = p.level AND t.code = p.code AND t.period_kind = p.period_kind
            AND t.period_start = p.period_start AND t.indicator = b.total
        WINDOW g AS (PARTITION BY p.level, p.code, p.period_kind, p.period_start, b.breakdown)
    ) x
    GROUP BY ALL
), fin AS (
    SELECT b.*, b.m2 OR coalesce(p.extra, false) AS masked
    FROM m2 b
    LEFT JOIN pass3 p ON p.level = b.level AND p.code = b.code AND p.period_kind = b.period_kind
        AND p.period_start = b.period_start AND p.indicator = b.indicator
)
SELECT f.level, f.code, f.period_kind, f.period, f.period_start, f.indicator,
    CASE WHEN f.masked THEN NULL ELSE f.value END AS value,
    CASE WHEN f.masked THEN NULL ELSE f.n END AS n,
    f.parent_level, f.parent_code,
    CASE WHEN f.masked OR coalesce(pa.masked, false) THEN NULL ELSE f.parent_value END AS parent_value,
    CASE WHEN f.masked OR coalesce(pa.masked, false) THEN NULL ELSE f.diff_parent END AS diff_parent,
    CASE WHEN f.masked THEN NULL ELSE f.rank END AS rank,
    f.peers,
    CASE WHEN f.masked THEN NULL ELSE f.quartile END AS quartile,
    CASE WHEN f.masked OR coalesce(pv.masked, false) THEN NULL ELSE f.prev_value END AS prev_value,
    CASE WHEN f.masked OR coalesce(py.masked, false) THEN NULL ELSE f.prev_year_value END AS prev_year_value,
    f.masked
FROM fin f
LEFT JOIN fin pa ON pa.level = f.parent_level AND pa.code = f.parent_code AND pa.period_kind = f.period_kind
    AND pa.period_start = f.period_start AND pa.indicator = f.indicator
LEFT JOIN fin pv ON pv.level = f.level AND pv.code = f.code AND pv.period_kind = f.period_kind
    AND pv.period_start = f.prev_start AND pv.indicator = f.indicator
LEFT JOIN fin py ON py.level = f.level AND py.code = f.code AND py.period_kind = f.period_kind
    AND py.period_start = f.prev_year_start AND py.indicator = f.indicator
