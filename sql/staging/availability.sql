-- description: Disponibilités déclarées sur monenfant.fr, une ligne par AM et
--   par mois (les lignes par tranche d'âge sont regroupées : places
--   disponibles et enfants accueillis au maximum des lignes, horaires et
--   accueils proposés si une ligne les propose, tranches d'âge acceptées).
-- grain: un mois et un AM
-- source: raw.availability (monenfant.fr, via le RPE ou la CAF)
-- incremental: in_window(month)
-- columns:
--   month: mois (1er du mois)
--   am_id: pseudonyme de l'AM
--   commune: commune déclarée (COG courant)
--   declared_on: date de la dernière déclaration (NULL = jamais)
--   children_cared: enfants accueillis
--   places_available: places déclarées disponibles
--   available_from: date de disponibilité la plus proche
--   ages_known: au moins une tranche d'âge renseignée
--   age_under18m: accepte les moins de 18 mois
--   age_18m_3y: accepte les 18 mois - 3 ans
--   age_over3y: accepte les plus de 3 ans
--   atypical: propose des horaires atypiques (avant 7 h, après 20 h, samedi, dimanche ou nuit)
--   disability: accepte un enfant en situation de handicap
--   after_school: accueil périscolaire
--   wednesday: accueil le mercredi
--   holidays: accueil pendant les vacances
--   occasional: accueil occasionnel
-- tests:
--   - unique: month, am_id
--   - not_null: month, am_id
--   - range: children_cared 0..6
--   - range: places_available 0..6 [warn]
--   - assert: declared_not_in_future: declared_on <= month + INTERVAL 1 MONTH [warn]
SELECT a.month, a.am_id,
    any_value(coalesce(m.code, a.commune)) AS commune,
    max(a.declared_on) AS declared_on,
    max(a.children_cared) AS children_cared,
    max(a.places_available) AS places_available,
    min(a.available_from) AS available_from,
    bool_or(a.age_bracket IS NOT NULL) AS ages_known,
    coalesce(bool_or(a.age_bracket IN ('under18m', 'all')), false) AS age_under18m,
    coalesce(bool_or(a.age_bracket IN ('18m_3y', 'all')), false) AS age_18m_3y,
    coalesce(bool_or(a.age_bracket IN ('over3y', 'all')), false) AS age_over3y,
    coalesce(bool_or(a.before_7h OR a.after_20h OR a.saturday OR a.sunday OR a.night), false) AS atypical,
    coalesce(bool_or(a.disability), false) AS disability,
    coalesce(bool_or(a.after_school), false) AS after_school,
    coalesce(bool_or(a.wednesday), false) AS wednesday,
    coalesce(bool_or(a.holidays), false) AS holidays,
    coalesce(bool_or(a.occasional), false) AS occasional
FROM raw.availability a
LEFT JOIN ref.commune_merge m ON m.old_code = a.commune
WHERE in_window(a.month)
GROUP BY a.month, a.am_id
