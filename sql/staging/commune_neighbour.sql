-- description: Communes voisines au sens du RPE : pour chaque commune, elle-même
--   et toutes les communes d'un même territoire de RPE. Sert à l'analyse de
--   l'inadéquation (places vacantes « à proximité » d'une demande).
-- grain: un couple (commune, commune proche)
-- source: ref.commune_territory (niveaux commune et rpe)
-- columns:
--   commune: commune de la demande
--   near_commune: commune proche (la commune elle-même ou une commune du même RPE)
-- tests:
--   - unique: commune, near_commune
--   - not_null: commune, near_commune
SELECT commune, commune AS near_commune
FROM ref.commune_territory WHERE level = 'commune'
UNION
SELECT a.commune, b.commune
FROM ref.commune_territory a
JOIN ref.commune_territory b ON b.level = 'rpe' AND b.code = a.code
WHERE a.level = 'rpe'
