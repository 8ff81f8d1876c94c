-- description: Registre des Relais Petite Enfance : un RPE par ligne (la
--   dernière version chargée), son gestionnaire, ses ETP d'animation, ses
--   missions renforcées et sa commune siège (la première de sa liste de
--   communes), à laquelle ses ETP sont rattachés pour les niveaux commune,
--   EPCI, département, région et France.
-- grain: un RPE
-- source: raw.rpe_register (CAF, gestionnaires)
-- columns:
--   rpe_id: identifiant du RPE
--   name: nom
--   manager_type: type de gestionnaire (commune, epci, ccas, association, mutual, other_public)
--   seat_commune: commune siège (première commune couverte, COG courant)
--   n_communes: nombre de communes couvertes
--   fte: équivalents temps plein d'animation
--   guichet_unique: mission renforcée guichet unique
--   practice_analysis: mission renforcée analyse de la pratique
--   promotion: mission renforcée promotion de l'activité des AM
-- tests:
--   - unique: rpe_id
--   - not_null: rpe_id
--   - range: fte 0..50
--   - relationships: seat_commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH r AS (
    SELECT * FROM raw.rpe_register
    QUALIFY row_number() OVER (PARTITION BY rpe_id ORDER BY file_id DESC, line DESC) = 1
)
SELECT r.rpe_id, r.name, r.manager_type,
    coalesce(m.code, r.communes[1]) AS seat_commune,
    len(r.communes) AS n_communes,
    coalesce(r.fte, 0) AS fte,
    coalesce(list_contains(r.reinforced, 'guichet_unique'), false) AS guichet_unique,
    coalesce(list_contains(r.reinforced, 'practice_analysis'), false) AS practice_analysis,
    coalesce(list_contains(r.reinforced, 'promotion'), false) AS promotion
FROM r
LEFT JOIN ref.commune_merge m ON m.old_code = r.communes[1]
