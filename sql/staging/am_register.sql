-- description: Registre des assistants maternels (PMI) : une ligne par
--   instantané mensuel et par AM (dernière ligne chargée si doublon),
--   commune de travail au code COG courant et département de rattachement.
--   L'identifiant est un pseudonyme (HMAC) posé par l'ingestion.
-- grain: un instantané (mois) et un AM
-- source: raw.am_register (PMI du département)
-- incremental: in_window(snapshot_month)
-- columns:
--   snapshot_month: mois de l'instantané du registre (1er du mois)
--   am_id: pseudonyme de l'AM
--   commune: commune d'exercice (COG courant)
--   departement: département de la commune (instantanés choisis par département)
--   in_mam: exerce en maison d'assistants maternels
--   approval_date: date d'agrément
--   end_date: fin d'agrément (NULL = en cours)
--   status: active, suspended, withdrawn, ceased (NULL lu comme active)
--   places: places agréées (1 à 4)
--   places_under3: places agréées pour les moins de 3 ans (NULL si inconnu)
--   birth_year: année de naissance
-- tests:
--   - unique: snapshot_month, am_id
--   - not_null: snapshot_month, am_id
--   - accepted_values: status in ('active', 'suspended', 'withdrawn', 'ceased')
--   - range: places 0..6
--   - assert: under3_within_places: places_under3 <= places [warn]
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
SELECT r.snapshot_month, r.am_id,
    coalesce(m.code, r.commune) AS commune,
    d.code AS departement,
    r.in_mam, r.approval_date, r.end_date,
    coalesce(r.status, 'active') AS status,
    r.places, r.places_under3, r.birth_year
FROM raw.am_register r
LEFT JOIN ref.commune_merge m ON m.old_code = r.commune
LEFT JOIN ref.commune_territory d ON d.commune = coalesce(m.code, r.commune) AND d.level = 'departement'
WHERE in_window(r.snapshot_month)
QUALIFY row_number() OVER (PARTITION BY r.snapshot_month, r.am_id ORDER BY r.file_id DESC, r.line DESC) = 1
