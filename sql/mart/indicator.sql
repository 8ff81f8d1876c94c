-- description: Table longue des indicateurs du diagnostic territorial : une
--   ligne par niveau de territoire, code, type de période, période et
--   indicateur, avec sa valeur, le nombre de personnes sur lequel elle repose
--   (n) et ses comparaisons : territoire parent (valeur et écart), rang,
--   nombre de pairs et quartile parmi les territoires de même niveau du même
--   département (communes, EPCI, RPE) ou de France (départements, régions),
--   période précédente et même période un an avant. Les chiffres exacts sont
--   réservés aux analystes : les rapports lisent mart.published_indicator(k).
-- grain: un territoire, une période et un indicateur
-- source: int.indicator_value, staging.territory
-- incremental: in_window_period(period_kind, period_start)
-- formula: diff_parent = value - parent_value ; rank = rang décroissant (1 = valeur la plus élevée, ex aequo au même rang) ;
--   quartile = 1 + floor(4 x (rank - 1) / peers) (1 = quart des valeurs les plus élevées) ;
--   prev_value = période précédente (mois, trimestre ou année d'avant) ; prev_year_value = même période un an avant
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
-- tests:
--   - not_null: level, code, period_kind, period, period_start, indicator, value, rank, peers, quartile
--   - range: quartile 1..4
--   - assert: rank_within_peers: rank <= peers
--   - range: n 0..
WITH v AS (
    SELECT * FROM int.indicator_value
    WHERE period_start >= date_trunc('year', getvariable('since')) - INTERVAL 1 YEAR
), cur AS (
    SELECT v.*,
        CAST(v.period_start - to_months(period_months(v.period_kind)) AS DATE) AS prev_start,
        CAST(v.period_start - INTERVAL 1 YEAR AS DATE) AS prev_year_start,
        t.parent_level, t.parent_code, coalesce(t.peer_gid, 0) AS peer_gid
    FROM v
    LEFT JOIN staging.territory t ON t.level = v.level AND t.code = v.code
    WHERE in_window_period(v.period_kind, v.period_start)
), j AS (
    -- one join per territory and period; the lists hold the indicators in the same order
    SELECT c.level, c.code, c.period_kind, c.period, c.period_start, c.parent_level, c.parent_code,
        -- one integer per (level, peer group, period kind, period): peers are ranked within it
        ((CAST(c.peer_gid AS BIGINT) * 3 + CASE c.period_kind WHEN 'month' THEN 0 WHEN 'quarter' THEN 1 ELSE 2 END) * 100000
            + year(c.period_start) * 12 + month(c.period_start)) * 1000 AS gkey,
        unnest(generate_series(1, len(c.ind))) AS i,
        unnest(c.ind) AS x, unnest(p.ind) AS px, unnest(pv.ind) AS pvx, unnest(py.ind) AS pyx
    FROM cur c
    LEFT JOIN v p ON p.level = c.parent_level AND p.code = c.parent_code
        AND p.period_kind = c.period_kind AND p.period_start = c.period_start
    LEFT JOIN v pv ON pv.level = c.level AND pv.code = c.code
        AND pv.period_kind = c.period_kind AND pv.period_start = c.prev_start
    LEFT JOIN v py ON py.level = c.level AND py.code = c.code
        AND py.period_kind = c.period_kind AND py.period_start = c.prev_year_start
), l AS (
    SELECT level, code, period_kind, period, period_start, x.indicator, x.value, CAST(round(x.n) AS BIGINT) AS n,
        parent_level, parent_code, px.value AS parent_value, pvx.value AS prev_value, pyx.value AS prev_year_value,
        gkey + i AS gkey
    FROM j
    WHERE x.value IS NOT NULL
)
SELECT level, code, period_kind, period, period_start, indicator, value, n,
    parent_level, parent_code, parent_value, value - parent_value AS diff_parent,
    rank() OVER w AS rank,
    count(*) OVER wall AS peers,
    CAST(1 + floor(4 * (rank() OVER w - 1) / count(*) OVER wall) AS INTEGER) AS quartile,
    prev_value, prev_year_value
FROM l
WINDOW w AS (PARTITION BY gkey ORDER BY value DESC),
    wall AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
