-- kind: macro
-- description: mart.published_indicator(k) : la seule façon dont les rapports
--   lisent les indicateurs. Mêmes colonnes que mart.indicator plus masked.
--   Secret statistique : une valeur reposant sur moins de k personnes (n < k ;
--   n NULL = chiffre déjà publié, jamais masqué) est masquée : value, n,
--   parent_value, diff_parent, rank, quartile, prev_value et prev_year_value
--   passent à NULL et masked à vrai. Masquage complémentaire, pour qu'un
--   chiffre masqué ne puisse pas être recalculé par différence : dans une
--   décomposition (contacts par canal, public, thème ; AM par tranche d'âge ;
--   inadéquation par raison) dont le total est publié, et parmi les
--   territoires de même niveau ayant le même parent (communes d'un EPCI, EPCI
--   et RPE d'un département, départements d'une région...) pour un indicateur
--   additif, si une seule partie est masquée, la partie suivante par n
--   croissant l'est aussi (voir mart.indicator). Sur une ligne publiée,
--   la valeur du parent, de la période précédente ou de l'année précédente
--   est masquée si la ligne correspondante l'est. Limites : une passe par
--   type de groupe, calculée sur le secret primaire ; les rangs des lignes
--   publiées tiennent compte des valeurs masquées. mart.mask_hit(mk, k) dit si
--   un masque de mart.indicator (mk, parent_mk, prev_mk, prev_year_mk) s'applique au seuil k.
-- source: mart.indicator
CREATE OR REPLACE MACRO mart.mask_hit(mk, k) AS
    coalesce(mk.n < k, false) OR coalesce(k BETWEEN mk.b_lo AND mk.b_hi, false) OR coalesce(k BETWEEN mk.g_lo AND mk.g_hi, false);
CREATE OR REPLACE MACRO mart.published_indicator(k) AS TABLE
SELECT i.level, i.code, i.period_kind, i.period, i.period_start, i.indicator,
    CASE WHEN mart.mask_hit(i.mk, k) THEN NULL ELSE i.value END AS value,
    CASE WHEN mart.mask_hit(i.mk, k) THEN NULL ELSE i.n END AS n,
    i.parent_level, i.parent_code,
    CASE WHEN mart.mask_hit(i.mk, k) OR mart.mask_hit(i.parent_mk, k) THEN NULL ELSE i.parent_value END AS parent_value,
    CASE WHEN mart.mask_hit(i.mk, k) OR mart.mask_hit(i.parent_mk, k) THEN NULL ELSE i.diff_parent END AS diff_parent,
    CASE WHEN mart.mask_hit(i.mk, k) THEN NULL ELSE i.rank END AS rank,
    i.peers,
    CASE WHEN mart.mask_hit(i.mk, k) THEN NULL ELSE i.quartile END AS quartile,
    CASE WHEN mart.mask_hit(i.mk, k) OR mart.mask_hit(i.prev_mk, k) THEN NULL ELSE i.prev_value END AS prev_value,
    CASE WHEN mart.mask_hit(i.mk, k) OR mart.mask_hit(i.prev_year_mk, k) THEN NULL ELSE i.prev_year_value END AS prev_year_value,
    mart.mask_hit(i.mk, k) AS masked
FROM mart.indicator i
