-- description: Épisodes de sous-activité : pour chaque AM et chaque mois où il
--   a déclaré des disponibilités et a au moins une place vacante, le nombre de
--   mois consécutifs (jusqu'à ce mois inclus) où c'est le cas. Un AM est
--   compté en sous-activité à partir de 3 mois. Le choix entre sous-activité
--   choisie et subie n'est pas mesurable directement (la CNAF l'a dit) : la
--   disponibilité déclarée en tient lieu (inférence).
-- grain: un mois et un AM en sous-activité ce mois
-- source: int.am_month
-- incremental: in_window(month)
-- self_schema: month DATE, am_id VARCHAR, commune VARCHAR, spell_months INTEGER
-- formula: spell_months = nombre de mois consécutifs terminés au mois avec underactive_month ;
--   en incrémental, l'épisode en cours au mois précédant la fenêtre est repris de cette même table
-- columns:
--   month: mois (1er du mois)
--   am_id: pseudonyme de l'AM
--   commune: commune d'exercice
--   spell_months: durée de l'épisode en cours, en mois
-- tests:
--   - unique: month, am_id
--   - range: spell_months 1..
WITH cur AS (
    SELECT month, am_id, commune, datediff('month', DATE '2000-01-01', month) AS idx
    FROM int.am_month
    WHERE in_window(month) AND underactive_month
), isl AS (
    SELECT *, idx - row_number() OVER (PARTITION BY am_id ORDER BY month) AS grp FROM cur
), runs AS (
    SELECT *, min(month) OVER (PARTITION BY am_id, grp) AS run_start,
        idx - min(idx) OVER (PARTITION BY am_id, grp) + 1 AS k
    FROM isl
), seed AS (
    -- the spell running the month before the window, kept from the last run
    SELECT am_id, spell_months FROM int.am_spell
    WHERE month = CAST(getvariable('since') - INTERVAL 1 MONTH AS DATE)
)
SELECT r.month, r.am_id, r.commune,
    CAST(r.k + CASE WHEN r.run_start = getvariable('since') THEN coalesce(s.spell_months, 0) ELSE 0 END AS INTEGER) AS spell_months
FROM runs r LEFT JOIN seed s ON s.am_id = r.am_id
