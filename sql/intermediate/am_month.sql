-- description: Un AM agréé par mois : l'instantané du registre le plus récent
--   de son département à ce mois (reporté tant qu'aucun plus récent n'arrive),
--   croisé avec sa déclaration de disponibilités du mois. Un AM est agréé à
--   la fin du mois si son statut est actif (les agréments suspendus, retirés
--   ou cessés ne comptent pas), son agrément commencé et non échu. Sans
--   ligne de disponibilité ce mois-là, il est compté sans enfant accueilli
--   et sans disponibilité déclarée.
-- grain: un mois et un AM agréé
-- source: staging.am_register (PMI), staging.availability (monenfant.fr)
-- incremental: in_window(month)
-- formula: vacant_places = max(places - children_cared, 0) ;
--   places_under3_counted = places_under3 du registre (plafonné aux places agréées), sinon places x am_under3_ratio (0,81 par défaut), pour les AM actifs seulement ;
--   underactive_month = disponibilité déclarée (places_available > 0) et au moins une place vacante
-- columns:
--   month: mois (1er du mois)
--   am_id: pseudonyme de l'AM
--   commune: commune d'exercice
--   in_mam: exerce en MAM
--   places: places agréées
--   places_under3: places pour moins de 3 ans selon le registre (NULL si inconnu)
--   children_cared: enfants accueillis (0 sans déclaration)
--   active: accueille au moins un enfant
--   places_under3_counted: places pour moins de 3 ans retenues dans le taux de couverture (AM actifs)
--   vacant_places: places agréées non occupées
--   places_available: places déclarées disponibles
--   available: a déclaré au moins une place disponible
--   declared_on: date de la dernière déclaration
--   declared_recent: dernière déclaration de moins de 6 mois à la fin du mois
--   birth_year: année de naissance
--   age: âge atteint dans l'année du mois
--   offers_atypical: propose des horaires atypiques
--   accepts_disability: accepte un enfant en situation de handicap
--   accepts_under18m: accepte les moins de 18 mois (vrai si aucune tranche déclarée)
--   accepts_18m_3y: accepte les 18 mois - 3 ans (vrai si aucune tranche déclarée)
--   accepts_over3y: accepte les plus de 3 ans (vrai si aucune tranche déclarée)
--   underactive_month: disponibilité déclarée et au moins une place vacante ce mois
-- tests:
--   - unique: month, am_id
--   - not_null: month, am_id, places
--   - range: vacant_places 0..6
--   - assert: counted_within_places: places_under3_counted <= places
--   - relationships: commune -> ref.territory(code) where r.level = 'commune' [warn]
WITH cal AS (
    SELECT month, month_end FROM staging.calendar WHERE in_window(month)
), snaps AS (
    SELECT DISTINCT departement, snapshot_month FROM staging.am_register
), pick AS (
    -- for each month and département, the latest register snapshot on or before it
    SELECT c.month, c.month_end, s.departement, max(s.snapshot_month) AS snapshot_month
    FROM cal c JOIN snaps s ON s.snapshot_month <= c.month
    GROUP BY ALL
), reg AS (
    SELECT p.month, p.month_end, r.am_id, r.commune, r.in_mam, r.places, r.places_under3, r.birth_year
    FROM pick p
    JOIN staging.am_register r
        ON r.snapshot_month = p.snapshot_month AND r.departement IS NOT DISTINCT FROM p.departement
    WHERE r.status = 'active'
        AND r.approval_date <= p.month_end
        AND (r.end_date IS NULL OR r.end_date >= p.month_end)
), av AS (
    SELECT * FROM staging.availability WHERE in_window(month)
), j AS (
    SELECT reg.month, reg.month_end, reg.am_id, coalesce(reg.commune, av.commune) AS commune,
        reg.in_mam, reg.places, reg.places_under3, coalesce(av.children_cared, 0) AS children_cared,
        coalesce(av.places_available, 0) AS places_available, av.declared_on, reg.birth_year,
        av.atypical, av.disability, av.ages_known, av.age_under18m, av.age_18m_3y, av.age_over3y
    FROM reg LEFT JOIN av ON av.month = reg.month AND av.am_id = reg.am_id
)
SELECT month, am_id, commune, in_mam, places, places_under3, children_cared,
    children_cared > 0 AS active,
    CASE WHEN children_cared > 0
        THEN CAST(CASE WHEN places_under3 IS NOT NULL THEN least(places_under3, places) -- least() skips NULLs
            ELSE places * getvariable('am_under3_ratio') END AS DOUBLE)
        ELSE 0 END AS places_under3_counted,
    greatest(places - children_cared, 0) AS vacant_places,
    places_available,
    declared_on IS NOT NULL AND places_available > 0 AS available,
    declared_on,
    coalesce(declared_on > month_end - INTERVAL 6 MONTH, false) AS declared_recent,
    birth_year,
    year(month) - birth_year AS age,
    coalesce(atypical, false) AS offers_atypical,
    coalesce(disability, false) AS accepts_disability,
    coalesce(NOT ages_known OR age_under18m, true) AS accepts_under18m,
    coalesce(NOT ages_known OR age_18m_3y, true) AS accepts_18m_3y,
    coalesce(NOT ages_known OR age_over3y, true) AS accepts_over3y,
    declared_on IS NOT NULL AND places_available > 0 AND greatest(places - children_cared, 0) >= 1 AS underactive_month
FROM j
